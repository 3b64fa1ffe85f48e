"""Feed health and coverage, per department, for the data office.

What is judged, per department:

* each harvest source (the harvesters' database, read through
  ``govharvest.db.source_health``): its last successful harvest; **stale** when
  there has been none for ``ckanext.govservice.feed_health.stale_days`` days
  (or ever); **failing** when its latest finished harvest failed, with the
  error it failed with; the share of records its last reading rejected;
* **coverage**: the share of its active services (the catalogue) that
  reported statistics for the last complete month;
* services with no application in the last 12 complete months (零办件);
* services withdrawn in the last 30 days;
* its data-quality score (``core.quality``) and the broken links the link
  checker last found (``data_quality``).

The harvest database is named by ``ckanext.govservice.harvest.db_url`` (or
the harvesters' own ``GOVHARVEST_DB_URL``); without it the sources are
reported as unknown and the rest is still shown.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any

import ckan.plugins.toolkit as tk

from . import data_quality, statistics_store as store
from .core import kpis as stats, quality, schema
from .statistics_store import performance as pm

log = logging.getLogger(__name__)

WITHDRAWN_DAYS = 30
IDLE_MONTHS = 12


def harvest_db_url() -> str | None:
    return tk.config.get("ckanext.govservice.harvest.db_url") or os.environ.get("GOVHARVEST_DB_URL") or None


def harvest_sources() -> list[dict[str, Any]] | None:
    """Every harvest source's health (``govharvest.db.source_health``); None when
    the harvest database is not configured or cannot be read."""
    url = harvest_db_url()
    if not url:
        return None
    try:
        from govharvest import db
        with db.connect(url) as conn:
            return [dict(r) for r in db.source_health(conn)]
    except Exception:
        log.warning("could not read the harvest database for feed health", exc_info=True)
        return None


def last_complete_month(today: dt.date | None = None) -> str:
    return stats.shift_period(stats.current_period(today), -1)


def _rejected(counts: dict[str, Any] | None) -> tuple[int, int]:
    """(rejected, records read) of a harvest's counts."""
    if not counts:
        return 0, 0
    rejected = int(counts.get("rejected") or 0)
    total = counts.get("rows")
    if total is None:
        total = sum(int(counts.get(k) or 0) for k in ("new", "changed", "unchanged", "rejected"))
    return rejected, int(total)


def judge_source(source: dict[str, Any], now: dt.datetime, stale_days: int) -> dict[str, Any]:
    """A source as the page shows it: ``state`` (failing, stale or ok), since when."""
    last_success = source.get("last_success")
    failing = source.get("last_status") == "failed"
    stale = last_success is None or now - last_success > dt.timedelta(days=stale_days)
    rejected, read = _rejected(source.get("last_counts"))
    return {"name": source["name"], "kind": source["kind"], "enabled": source["enabled"],
            "state": "failing" if failing else "stale" if stale else "ok",
            "last_success": last_success.isoformat(timespec="seconds") if last_success else None,
            "last_finished": source["last_finished"].isoformat(timespec="seconds") if source.get("last_finished") else None,
            "last_error": source.get("last_error") if failing else None,
            "rejected": rejected, "records_read": read}


def _active_services() -> dict[str, int]:
    """Active services per department (organisation name), from the catalogue."""
    answer = tk.get_action("package_search")({"ignore_auth": True}, {
        "fq": f'dataset_type:service AND {schema.facet_fields()["status"]}:active', "rows": 0,
        "facet.field": ["organization"], "facet.limit": -1, "include_private": True})
    items = answer["search_facets"].get("organization", {}).get("items", [])
    return {i["name"]: i["count"] for i in items}


def _withdrawn(since: dt.datetime) -> dict[str, list[dict[str, Any]]]:
    """Services withdrawn (status withdrawn, changed since ``since``) per department."""
    answer = tk.get_action("package_search")({"ignore_auth": True}, {
        "fq": (f'dataset_type:service AND {schema.facet_fields()["status"]}:withdrawn AND '
               f'metadata_modified:[{since.strftime("%Y-%m-%dT%H:%M:%SZ")} TO *]'),
        "rows": 1000, "include_private": True, "sort": "metadata_modified desc"})
    out: dict[str, list[dict[str, Any]]] = {}
    for p in answer["results"]:
        out.setdefault((p.get("organization") or {}).get("name"), []).append(
            {"name": p["name"], "title": p.get("title"), "service_code": p.get("service_code"),
             "withdrawn_at": p.get("metadata_modified")})
    return out


def report(department: str | None = None, today: dt.date | None = None,
           now: dt.datetime | None = None) -> dict[str, Any]:
    """Every department's feed health and coverage (or one's), best covered first."""
    now = now or dt.datetime.now(dt.timezone.utc)
    stale_days = tk.config.get("ckanext.govservice.feed_health.stale_days")
    threshold = tk.config.get("ckanext.govservice.feed_health.coverage_threshold")
    month = last_complete_month(today or now.date())
    idle_from, idle_to = stats.shift_period(month, -(IDLE_MONTHS - 1)), month
    organisations = {o["name"]: o for o in tk.get_action("organization_list")(
        {"ignore_auth": True}, {"all_fields": True, "limit": 1000})
        if o["name"] != "govservice-platform"}
    names = [department] if department else sorted(organisations)
    sources = harvest_sources()
    active = _active_services()
    withdrawn = _withdrawn(now - dt.timedelta(days=WITHDRAWN_DAYS))
    quality_of = data_quality.scores(department)
    with store.engine().connect() as conn:
        broken = pm.broken_links(conn, department)
        reporting = pm.services_reporting(conn, month, department)
        idle = pm.services_without_applications(conn, idle_from, idle_to, department)
    departments = []
    for name in names:
        org = organisations.get(name, {"name": name, "title": name})
        mine = [judge_source(s, now, stale_days) for s in (sources or []) if s["department"] == name]
        rejected = sum(s["rejected"] for s in mine)
        read = sum(s["records_read"] for s in mine)
        services = active.get(name, 0)
        covered = min(reporting.get(name, 0), services)
        coverage = round(covered / services, 6) if services else None
        departments.append({
            "department": name, "title": {"zh_Hans_CN": org.get("title") or name,
                                          "en": org.get("title_en") or org.get("title") or name},
            "sources": mine if sources is not None else None,
            "stale": [s["name"] for s in mine if s["state"] == "stale"],
            "failing": [s["name"] for s in mine if s["state"] == "failing"],
            "rejected_share": round(rejected / read, 6) if read else None,
            "active_services": services, "services_reporting": covered, "coverage": coverage,
            "coverage_below_threshold": coverage is not None and coverage < threshold,
            "idle_services": [s for s in idle if s["department"] == name],
            "withdrawn_recently": withdrawn.get(name, []),
            "data_quality": quality_of.get(name) or quality.department_score([]),
            "broken_links": [{**b, "checked_at": b["checked_at"].isoformat(timespec="seconds")}
                             for b in broken if b["department"] == name]})
    departments.sort(key=lambda d: (-(d["coverage"] or 0), len(d["failing"]) + len(d["stale"]), d["department"]))
    for rank, d in enumerate(departments, start=1):
        d["rank"] = rank
    return {"month": month, "idle_months": [idle_from, idle_to], "stale_days": stale_days,
            "coverage_threshold": threshold, "withdrawn_days": WITHDRAWN_DAYS,
            "harvest_database": sources is not None, "checked_at": now.isoformat(timespec="seconds"),
            "departments": departments}
