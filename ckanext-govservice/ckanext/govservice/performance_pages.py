"""What the performance pages show: a service's panel, a department's and the platform's dashboards.

Thin over the KPI engine: the figures come from ``govservice_league_table``,
``govservice_kpis`` (``statistics_publish``) and ``statistics_store``; this
module only picks windows, fills the months nobody reported (gaps, never 0),
and shapes charts as the pages' ``charts.js`` draws them.

A chart is plain data, the same figures the table under it prints::

    {"months": ["2025-01", …], "series": [{"kpi": "volume", "unit": "count",
     "label": "受理量", "data": [110, None, …]}, …]}
"""
from __future__ import annotations

import logging
from typing import Any, Iterable

import ckan.model as model
import ckan.plugins.toolkit as tk

from . import item_compare, standards, statistics_publish, statistics_store as store
from .core import kpis as stats, schema as core_schema

log = logging.getLogger(__name__)

TREND_MONTHS = 36
TREND_KPIS = ("volume", "on_time_rate", "satisfaction_rate")
FELL_KPIS = ("on_time_rate", "satisfaction_rate", "digital_take_up")
FELL_MOST = 5


def months(period_from: str, period_to: str) -> list[str]:
    """Every month from period_from to period_to, both included."""
    out, period = [], period_from
    while period <= period_to:
        out.append(period)
        period = stats.shift_period(period, 1)
    return out


def trend_chart(points: Iterable[dict[str, Any]], kpis: Iterable[str], lang: str,
                period_to: str | None = None, span: int = TREND_MONTHS) -> dict[str, Any] | None:
    """A chart of ``kpis`` by month from points ({"period", <kpi>: value}).

    The months run to ``period_to`` (default: the last point) and back at most
    ``span`` months, starting at the first month with a point; a month with no
    point, or a KPI with no value, is None: a gap in the line and "no data"
    in the table. None when there is no point at all.
    """
    by_month = {p["period"]: p for p in points}
    if not by_month:
        return None
    last = period_to or max(by_month)
    first = max(min(by_month), stats.shift_period(last, -(span - 1)))
    axis = months(first, last)
    definitions = {k["name"]: k for k in stats.kpi_definitions()}
    series = []
    for name in kpis:
        kpi = definitions[name]
        series.append({"kpi": name, "unit": kpi["unit"],
                       "label": stats.label(kpi, lang),
                       "data": [by_month.get(m, {}).get(name) for m in axis]})
    return {"months": axis, "series": series}


def service_trend(pkg: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """A service's monthly volume, on-time rate and satisfaction (up to 36 months), or None."""
    code = pkg.get("service_code")
    org = pkg.get("organization") or {}
    if not code or not org.get("name"):
        return None
    try:
        table = statistics_publish._find_table({"ignore_auth": True})
        if not table:
            return None
        with store.read_engine().connect() as conn:
            points = store.service_trend(conn, table, org["name"], code, TREND_MONTHS)
    except Exception:   # the statistics tables not there yet, or the DataStore down
        log.debug("no trend for service %s", code, exc_info=True)
        return None
    return trend_chart(points, TREND_KPIS, lang)


def _points(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"period": r["period"], **{k: v["value"] for k, v in r["kpis"].items()}} for r in results]


def _window_trend(lang: str, period_to: str, **filters: Any) -> dict[str, Any] | None:
    answer = tk.get_action("govservice_kpis")({"ignore_auth": True}, {
        "group_by": "period", "kpis": list(TREND_KPIS),
        "period_from": stats.shift_period(period_to, -(TREND_MONTHS - 1)), "period_to": period_to,
        **filters})
    return trend_chart(_points(answer["results"]), TREND_KPIS, lang, period_to=period_to)


def _latest_period() -> str | None:
    with store.read_engine().connect() as conn:
        return store.latest_period(conn)


def _headline(kpis: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The KPIs kpis.yaml flags ``headline``, in its order (statistics ones, then catalogue ones)."""
    return [{"kpi": name, **kpis[name]} for name in core_schema.headline_kpis() if name in kpis]


def fell_most(departments: list[dict[str, Any]], kpis: Iterable[str] = FELL_KPIS,
              limit: int = FELL_MOST) -> list[dict[str, Any]]:
    """For each KPI, the departments whose value fell most on the previous window, largest fall first."""
    out = []
    for name in kpis:
        fallen = [d for d in departments
                  if (d["kpis"].get(name) or {}).get("change_previous") is not None
                  and d["kpis"][name]["change_previous"] < 0]
        fallen.sort(key=lambda d: (d["kpis"][name]["change_previous"], d["department"]))
        out.append({"kpi": name, "departments": [
            {"department": d["department"], "title": d["title"], **d["kpis"][name]}
            for d in fallen[:limit]]})
    return out


def platform(lang: str) -> dict[str, Any]:
    """The platform dashboard: headline KPIs, a trend, the league table and who fell most."""
    league = tk.get_action("govservice_league_table")({"ignore_auth": True}, {})
    latest = _latest_period()
    return {
        "league": league,
        "has_statistics": latest is not None,
        "headline": _headline(league["platform"]["kpis"]),   # summed with the departments' rows
        "trend": _window_trend(lang, league["period_to"]) if latest else None,
        "fell_most": fell_most(league["departments"]),
    }


# A department dashboard lists its services a page at a time: a province's
# largest departments have 26,000, which took 19 s to judge and render whole.
SERVICES_PER_PAGE = 100


def services_page(department: str, page: int) -> dict[str, Any]:
    """Page ``page`` (from 1; past the last, the last) of the department's
    services, highest on-time rate first: {"services", "page", "pages",
    "total", "first", "last"} (``first``/``last``: the positions shown, from 1)."""
    with store.read_engine().connect() as conn:
        total = store.department_service_count(conn, department)
    pages = max(1, -(-total // SERVICES_PER_PAGE))
    page = min(max(1, page), pages)
    offset = (page - 1) * SERVICES_PER_PAGE
    services = department_services(department, SERVICES_PER_PAGE, offset)
    return {"services": services, "page": page, "pages": pages, "total": total,
            "first": offset + 1 if services else 0, "last": offset + len(services)}


def department_services(department: str, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
    """The department's public services with their latest-12-months summary,
    highest on-time rate first (no data last); ``limit`` of them from ``offset``."""
    with store.read_engine().connect() as conn:
        services = store.department_services(conn, department, limit, offset)
    # English titles are a scheming extra of the package, not kept by the KPI engine.
    packages = {p.id: p for p in model.Session.query(model.Package).filter(
        model.Package.id.in_([s["package_id"] for s in services]))} if services else {}
    for s in services:
        pkg = packages.get(s["package_id"])
        s["title_en"] = (pkg.extras.get("title_en") if pkg is not None else None) or None
    standards.judge_services(services, department, _latest_period())
    return services


def department(org: dict[str, Any], lang: str, page: int = 1) -> dict[str, Any]:
    """A department's dashboard: its league-table row (KPIs, ranks, changes), trend, a page
    of its services (``services_page``) and standardisation score (None when it implements
    no basic item)."""
    league = tk.get_action("govservice_league_table")({"ignore_auth": True}, {})
    row = next((d for d in league["departments"] if d["department"] == org["name"]), None)
    latest = _latest_period()
    listed = services_page(org["name"], page)
    return {
        "league": league,
        "row": row,
        "has_statistics": row is not None and any(
            row["kpis"].get(n, {}).get("value") is not None for n in stats.kpi_names("statistics")),
        "headline": _headline(row["kpis"]) if row else [],
        "trend": _window_trend(lang, league["period_to"], department=org["name"]) if latest else None,
        "services_page": listed,
        "services": listed["services"],
        "standardisation": next(iter(item_compare.standardisation(org["name"])), None),
    }
