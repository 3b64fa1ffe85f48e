"""WSGI entry point for CKAN, served by gunicorn (locally and in containers).

The config file comes from CKAN_INI, as for the ``ckan`` command.
"""
import os

from ckan.cli import load_config
from ckan.config.middleware import make_app

application = make_app(load_config(os.environ["CKAN_INI"]))
