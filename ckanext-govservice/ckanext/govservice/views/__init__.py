"""The pages and endpoints the extension serves, one module per page family.

Each module holds one Flask blueprint, ``blueprint``, and the CKAN lookups
its views make; what the pages compute is in the core or in a module of its
own (``performance_pages``, ``life_events``, ``openapi``):

* ``pages``: services by theme and by life event (``/service/theme/…``,
  ``/service/life-event/…``), and CKAN's script translations for Chinese pages
* ``performance``: the platform's and a department's dashboards
  (``/performance/``, ``/performance/<department>``)
* ``open311``: the Open311 GeoReport v2 service list (``/open311/v2/…``)
* ``openapi``: the description of the govservice actions
  (``/api/govservice/openapi.json``, ``/api/govservice/docs``)
* ``centres``: the service centres (``/centre/``, ``/centre/<code>``)
* ``due``: what is due for me (``/due``, ``/due/rules.json``)
* ``rdf``: ``/service/<name>.<format>``, the platform's terms and
  vocabularies, and the ``/id/service/<department>/<code>`` resolver
"""
from __future__ import annotations

from flask import Blueprint

from . import centres, documents, due, items, open311, openapi, pages, performance, rdf, subscriptions


def get_blueprints() -> list[Blueprint]:
    """Every blueprint of the extension (the plugin's IBlueprint)."""
    return [open311.blueprint, openapi.blueprint, rdf.blueprint, pages.blueprint, pages.scripts_blueprint,
            performance.blueprint, items.blueprint, documents.blueprint,
            centres.blueprint, subscriptions.blueprint, due.blueprint]
