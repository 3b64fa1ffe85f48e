"""What the portal's home page shows: search, themes and life events with their
service counts, and the platform's headline KPIs for the latest 12 months."""
from __future__ import annotations

import logging
from typing import Any

import ckan.plugins.toolkit as tk

from .core import kpis as stats, schema

log = logging.getLogger(__name__)


def home_kpis() -> list[str]:
    """The KPIs the home page shows: those kpis.yaml flags ``home``, in its order."""
    return [k["name"] for k in stats.kpi_definitions() if k.get("home")]


def browse_counts() -> dict[str, list[dict[str, Any]]]:
    """Each theme and life event with how many services it has (in vocabulary order)."""
    solr = schema.facet_fields()
    found = tk.get_action("package_search")({}, {
        "fq": "+dataset_type:service", "rows": 0, "facet.limit": -1,
        "facet.field": [solr["themes"], solr["life_events"]]})
    out = {}
    for field in ("themes", "life_events"):
        counts = found["facets"].get(solr[field], {})
        out[field] = [{"value": c["value"], "choice": c, "count": counts.get(c["value"], 0)}
                      for c in schema.choices(schema.field(field))]
    out["services"] = found["count"]
    return out


def headline_kpis() -> dict[str, Any] | None:
    """The platform's KPIs over the latest 12 months with data, or None when there is none."""
    from . import statistics_publish
    names = home_kpis()
    try:
        report = statistics_publish.kpi_report({
            "group_by": [], "period_type": "month", "kpis": names,
            "period_from": None, "period_to": None})
    except Exception:   # no statistics yet, or the DataStore down: the page still works
        log.warning("headline KPIs unavailable", exc_info=True)
        return None
    if not report["results"]:
        return None
    figures = report["results"][0]["kpis"]
    return {"period_from": report["period_from"], "period_to": report["period_to"],
            "kpis": [{"name": name, "value": figures[name]["value"],
                      "definition": report["definitions"][name]} for name in names]}
