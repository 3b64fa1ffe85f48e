"""The ``govharvest`` command."""
from __future__ import annotations

import click

from . import __version__


@click.group()
@click.version_option(__version__, prog_name="govharvest")
def main():
    """Harvest department service catalogues and statistics into CKAN."""
