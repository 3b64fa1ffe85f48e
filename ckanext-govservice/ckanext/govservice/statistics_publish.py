"""The CKAN side of the statistics: the open dataset, loads, and keeping services in step.

The statistics are published as the platform dataset ``service-statistics``
(owned by ``govservice-platform``) whose resource ``service-statistics`` is a
DataStore table — the one query point for ``datastore_search`` and
``datastore_search_sql``. Each department's rows are the rows whose
``department`` is its name (``filters={"department": ...}``). Each
department's rows are also a CSV download in its own dataset, stored and
rebuilt in the background as the catalogue files are (``publishing``).
"""
from __future__ import annotations

import contextlib
import contextvars
import copy
import logging
from typing import IO, Any, Iterable, Iterator

import ckan.plugins.toolkit as tk

from . import catalogue_publish, publishing, standards, statistics_store as store
from .core import kpis as stats

log = logging.getLogger(__name__)

RESOURCE_NAME = "service-statistics"


def _find_table(context: dict[str, Any]) -> str | None:
    try:
        dataset = tk.get_action("package_show")(dict(context), {"id": store.DATASET})
    except tk.ObjectNotFound:
        return None
    if not publishing.is_ours(dataset, publishing.PLATFORM_ORG):
        return None   # someone else's dataset by that name: never read as the platform's figures
    for res in dataset.get("resources", []):
        if res.get(store.RESOURCE_KEY) == "rows" and res.get("datastore_active"):
            return res["id"]
    return None


# Two loads at once on a new platform (several harvest workers) would each find
# no table and make one: a lock in the database lets one make it, and the other
# finds it made.
TABLE_LOCK = "govservice:statistics_table"


def statistics_table(context: dict[str, Any] | None = None) -> str:
    """The DataStore table's resource id, creating dataset, resource and table
    when missing (one process at a time: TABLE_LOCK)."""
    context = context or publishing.site_context()
    found = _find_table(context)
    if found and not _needs_changes(found):
        return found
    import sqlalchemy as sa
    with store.engine().connect() as lock:
        lock.execute(sa.text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": TABLE_LOCK})
        try:
            return _made_or_changed(context)
        finally:
            lock.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": TABLE_LOCK})


def _needs_changes(table: str) -> bool:
    """statistics.yaml's key changed (the table is re-keyed) or it gained columns (added)."""
    with store.engine().connect() as conn:
        return (store.unique_key(conn, table) != stats.primary_key()
                or bool(store.tables.missing_columns(conn, table, stats.column_names())))


def _made_or_changed(context: dict[str, Any]) -> str:
    found = _find_table(context)
    if found:
        if _needs_changes(found):
            tk.get_action("datastore_create")(dict(context), {
                "resource_id": found, "fields": stats.datastore_fields(),
                "primary_key": stats.primary_key(), "force": True})
            with store.engine().begin() as conn:
                store.tune_table(conn, found)
        return found
    org = publishing.platform_org(context)
    try:
        dataset = publishing.check_ours(
            tk.get_action("package_show")(dict(context), {"id": store.DATASET}), org)
    except tk.ObjectNotFound:
        dataset = tk.get_action("package_create")(dict(context), {
            "type": "dataset", "name": store.DATASET, "owner_org": org["id"],
            "title": "政务服务绩效统计 / Service performance statistics",
            "notes": (stats.statistics_schema()["about"]["zh_Hans_CN"] + "。每行一个事项、一个月、一个渠道。\n\n"
                      + stats.statistics_schema()["about"]["en"]
                      + ". One row per service, month and channel; query it with "
                        "datastore_search or datastore_search_sql."),
            "license_id": "cc-by", "private": False,
            "extras": [{"key": store.RESOURCE_KEY, "value": "platform"}]})
    created = tk.get_action("datastore_create")(dict(context), {
        "resource": {"package_id": dataset["id"], "name": RESOURCE_NAME,
                     "description": "政务服务绩效统计 / Service performance statistics",
                     "format": "DataStore", store.RESOURCE_KEY: "rows"},
        "fields": stats.datastore_fields(),
        "primary_key": stats.primary_key(),
        "force": True,
    })
    table = created["resource_id"]
    with store.engine().begin() as conn:
        store.tune_table(conn, table)
    return table


def sync_department(conn, context: dict[str, Any], org: dict[str, Any],
                    services: list[dict[str, Any]] | None = None) -> int:
    """Put a department's public services into the KPI engine's catalogue."""
    if services is None:
        services = catalogue_publish.public_services(context, org["id"])
    return store.sync_services(conn, org["name"], services)


def load(context: dict[str, Any], org: dict[str, Any], headers: list[str], body: IO[bytes]) -> dict[str, Any]:
    """Load one department's rows; the report says what landed and what was rejected, and why."""
    site = publishing.site_context()
    table = statistics_table(site)
    with store.engine().begin() as conn:
        sync_department(conn, site, org)
        report = store.load(conn, table, org["name"], headers, body, stats.current_period())
        package_ids = store.refresh_summaries(conn, store.affected_services(conn))
    report["services_reindexed"] = len(package_ids)
    if tk.config.get("ckanext.govservice.statistics.background_jobs"):
        if package_ids:
            enqueue_reindex(package_ids)
        if report["inserted"] or report["updated"]:
            enqueue_department_file(org["name"])
            standards.enqueue_publish()   # the results against the standards changed too
    return report


def department_dataset_name(org_name: str) -> str:
    return f"{org_name}-service-statistics"


def publish_department_file(department: str) -> dict[str, Any]:
    """Background job: the department's rows as one CSV file (UTF-8 with BOM,
    column names as in the DataStore table), in its own open dataset
    ``<department>-service-statistics`` — for people who want a download
    rather than the API."""
    import tempfile
    from pathlib import Path
    context = publishing.site_context()
    org = tk.get_action("organization_show")(dict(context), {"id": department, "include_datasets": False})
    table = statistics_table(context)
    title_en = org.get("title_en") or org["name"]
    dataset = publishing.ensure_dataset(
        context, department_dataset_name(org["name"]), org,
        title=f"{org['title']} 政务服务绩效统计 / {title_en} service performance statistics",
        notes=(f"{org['title']}每个事项、每月、每个渠道的办件与评价统计（CSV）。全平台数据可用 DataStore 接口查询："
               f"数据集 {store.DATASET}。\n\nMonthly statistics of every service of {title_en}, by channel, "
               f"as CSV. The whole platform's rows are one DataStore table: dataset {store.DATASET}."),
        scope="statistics")
    with tempfile.TemporaryDirectory(prefix="govservice-statistics-") as tmp:
        path = Path(tmp) / "statistics.csv"
        with store.engine().connect() as conn, open(path, "wb") as out:
            out.write(b"\xef\xbb\xbf")
            store.copy_department_rows(conn, table, org["name"], stats.column_names(), out)
        resources = publishing.store_files(
            context, dataset, {"csv": path}, f"{org['title']} 政务服务绩效统计 / {title_en} statistics")
    return {"dataset": dataset["name"], "resources": resources}


def enqueue_department_file(department: str) -> None:
    """Queue the department's file, unless its rebuild is already waiting (that job
    reads the rows when it runs, so loads in a burst write the file once)."""
    try:
        publishing.enqueue_once(publish_department_file, [department],
                                f"govservice-statistics-{tk.config.get('ckan.site_id')}-{department}",
                                title=f"publish the statistics file of {department}")
    except Exception:   # Redis down: the rows are in the DataStore; the file catches up next load
        log.exception("could not queue the statistics file of %s", department)


def enqueue_reindex(package_ids: list[str]) -> None:
    try:
        tk.enqueue_job(reindex_services, [package_ids],
                       title=f"reindex {len(package_ids)} services with new performance figures")
    except Exception:   # Redis down: the figures are stored; the search index catches up later
        log.exception("could not queue the reindex of %d services", len(package_ids))


def reindex_services(package_ids: list[str]) -> int:
    """Background job: put the services' new performance summaries into Solr."""
    from . import search
    return search.reindex(package_ids, "its performance summary changed")


# The summaries read once for a batch of services (performance_prefetched):
# {(department, service code): summary or None}, for this thread or task only.
_PREFETCHED: contextvars.ContextVar[dict[tuple[str, str], dict[str, Any] | None] | None] = \
    contextvars.ContextVar("govservice_performance_prefetched", default=None)


def performance(pkg_dict: dict[str, Any]) -> dict[str, Any] | None:
    """The latest 12 months' summary of a service (a package dict), or None.
    Inside ``performance_prefetched`` a service it names is answered from the
    batch's reads."""
    code = pkg_dict.get("service_code")
    org = pkg_dict.get("organization") or {}
    if not code or not org.get("name"):
        return None
    prefetched = _PREFETCHED.get()
    if prefetched is not None and (org["name"], code) in prefetched:
        return copy.deepcopy(prefetched[(org["name"], code)])
    try:
        with store.engine().connect() as conn:
            found = store.summary(conn, org["name"], code)
        if found:
            found["standards"] = standards.judge_summary(found, org["name"], code)
        return found
    except Exception:   # the statistics tables not there yet, or the DataStore down
        log.debug("no performance summary for %s", code, exc_info=True)
        return None


def performances(services: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any] | None]:
    """``performance`` of many services, from one read of their summaries and,
    per department, one of its standards and one of the monthly history (for
    the months missed in a row) of just these services of it: the same
    summaries, judged the same way. (A department's whole history would be
    every one of its services': a province's large departments have tens of
    thousands, far more than a batch needs.)

    :param services: (department name, service code) pairs
    :returns: {(department, service code): summary or None (no figures)}
    :raises: whatever the statistics store raises (``performance_prefetched``
        then leaves each service to be read on its own)
    """
    pairs = sorted({(d, c) for d, c in services if d and c})
    if not pairs:
        return {}
    with store.engine().connect() as conn:
        found = store.queries.summaries(conn, pairs)
    by_department: dict[str, list[dict[str, Any]]] = {}
    for department, _ in found:
        if department not in by_department:
            by_department[department] = standards.all_standards(department)
    histories: dict[tuple[str, str], dict[tuple, dict[str, list]]] = {}
    wanted: dict[tuple[str, str], list[str]] = {}
    for (department, code), summary in found.items():
        if by_department[department] and summary.get("period_to"):
            wanted.setdefault((department, summary["period_to"]), []).append(code)
    for (department, period_to), codes in wanted.items():
        histories[(department, period_to)] = standards.monthly_values(
            "service", period_to, department=department, services=codes)
    out: dict[tuple[str, str], dict[str, Any] | None] = {}
    for department, code in pairs:
        summary = found.get((department, code))
        if summary:
            summary["standards"] = standards.judge_summary(
                summary, department, code, standards=by_department[department],
                history=histories.get((department, summary.get("period_to"))))
        out[(department, code)] = summary
    return out


@contextlib.contextmanager
def performance_prefetched(services: Iterable[tuple[str, str]]) -> Iterator[None]:
    """Within the block, ``performance`` of these services (department name,
    service code) is answered from ``performances``: one read for the batch
    instead of a few per ``package_show`` (the search index rebuild and the bulk
    harvest show a batch of services one by one). Nothing is read if the store
    fails: each service is then read on its own, as without the block."""
    services = list(services)
    try:
        known = performances(services)
    except Exception as e:
        # No statistics tables yet (a new site) is normal; anything else is a
        # fault an operator should see: every service is then read on its own.
        undefined_table = getattr(getattr(e, "orig", None), "pgcode", None) == "42P01"
        (log.debug if undefined_table else log.warning)(
            "performance summaries of a batch of %d services could not be read at once (%s); "
            "reading them one by one", len(services), e, exc_info=undefined_table)
        known = {}
    token = _PREFETCHED.set({**(_PREFETCHED.get() or {}), **known})
    try:
        yield
    finally:
        _PREFETCHED.reset(token)


def refresh_all(context: dict[str, Any] | None = None) -> dict[str, Any]:
    """Re-sync every department's services and rebuild all sums and summaries."""
    context = context or publishing.site_context()
    table = statistics_table(context)
    departments = tk.get_action("organization_list")(dict(context), {"all_fields": True, "limit": 1000})
    with store.engine().begin() as conn:
        services = sum(sync_department(conn, context, org) for org in departments)
        refreshed = store.refresh_aggregates(conn, table)
        package_ids = store.refresh_summaries(conn)
    if package_ids:
        enqueue_reindex(package_ids)
    return {"departments": len(departments), "services": services, **refreshed,
            "services_reindexed": len(package_ids)}


# ---------------------------------------------------------------- KPI reports

def _group_values(row: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    return {k: row.get(k) for k in keys}


def _no_data(names: Iterable[str]) -> dict[str, dict[str, Any]]:
    return {name: {"value": None, "numerator": None, "denominator": None} for name in names}


_FIND = object()


def kpi_report(query: dict[str, Any], table: Any = _FIND) -> dict[str, Any]:
    """The KPIs a validated ``govservice_kpis`` query asks for (see the action's docstring);
    ``table``: the statistics table (``_find_table``'s answer) when the caller found it already.

    With ``with_total`` (not an action parameter; grouping by department,
    service or channel, whose groups add up), the answer also has ``totals``:
    the same KPIs of every group together, one entry ({"period", "kpis"}) per
    period (one for the window when not grouped by period) — what the query
    without the grouping gives, from the same reads."""
    group_by: list[str] = query["group_by"]
    period_type: str = query["period_type"]
    names: list[str] = query["kpis"]
    keys = [g for g in group_by if g != "period"]
    with_total = bool(query.get("with_total"))
    filters = {k: query.get(k) for k in ("department", "service", "theme", "life_event", "channel")}
    with store.read_engine().connect() as conn:
        if table is _FIND:
            table = _find_table(publishing.site_context())
        period_to = query.get("period_to") or store.latest_period(conn) or stats.current_period()
        period_from = query.get("period_from") or stats.shift_period(period_to, -11)
        by_period = "period" in group_by
        # A year more than shown, for the changes on the previous period and a year before.
        fetch_from = stats.shift_period(period_from, -12) if by_period else period_from
        statistic_names = [n for n in names if n in stats.kpi_names("statistics")]
        catalogue_names = [n for n in names if n in stats.kpi_names("catalogue")]
        rows = []
        if statistic_names and table:
            rows = store.kpi_sums(conn, table, group_by=group_by, period_type=period_type,
                                  period_from=fetch_from, period_to=period_to, with_total=with_total,
                                  **filters)
        catalogue_rows = []
        if catalogue_names and not by_period and "channel" not in group_by and not filters["channel"]:
            catalogue_rows = store.catalogue_sums(
                conn, group_by=group_by, with_total=with_total,
                **{k: v for k, v in filters.items() if k != "channel"})

    results: dict[tuple, dict[str, Any]] = {}
    totals: dict[str, dict[str, Any]] = {}
    first_bucket = stats.bucket(period_from, period_type)
    window = f"{period_from}..{period_to}"
    for row in rows:
        period = row.get("period") if by_period else window
        if row.get("total"):
            totals[period] = {"period": period, "kpis": stats.kpi_values(row, statistic_names)}
            continue
        key = (period, *(row.get(k) for k in keys))
        results[key] = {**_group_values(row, keys), "period": period,
                        "kpis": stats.kpi_values(row, statistic_names)}
    for row in catalogue_rows:
        if row.get("total"):
            totals.setdefault(window, {"period": window, "kpis": {}})["kpis"].update(
                stats.kpi_values(row, catalogue_names))
            continue
        key = (window, *(row.get(k) for k in keys))
        entry = results.setdefault(key, {**_group_values(row, keys), "period": window, "kpis": {}})
        entry["kpis"].update(stats.kpi_values(row, catalogue_names))
    if with_total and not by_period:   # the window's total, even with nothing in it
        totals.setdefault(window, {"period": window, "kpis": {}})
    ordered = list(results.values())
    summed = sorted(totals.values(), key=lambda t: t["period"])
    for entry in ordered + summed:   # every KPI asked for is present, as "no data" when nothing backs it
        for name, figure in _no_data(names).items():
            entry["kpis"].setdefault(name, figure)
    if by_period:
        stats.add_changes(ordered, period_type, keys)
        ordered = [r for r in ordered if r["period"] >= first_bucket]
        stats.add_changes(summed, period_type, [])
        summed = [r for r in summed if r["period"] >= first_bucket]
    if "department" in group_by:
        stats.add_ranks(ordered, within="period")
    ordered.sort(key=lambda r: tuple(str(r.get(k) or "") for k in keys) + (r["period"],))
    definitions = {k["name"]: stats.published_definition(k) for k in stats.kpi_definitions()
                   if k["name"] in names}
    answer = {"group_by": group_by, "period_type": period_type, "period_from": period_from,
              "period_to": period_to, "filters": {k: v for k, v in filters.items() if v},
              "definitions": definitions, "results": ordered}
    judging = standards.all_standards()
    standards.judge_report(answer, judging)   # each figure's target, met, red/amber/green
    if with_total:
        answer["totals"] = summed
        standards.judge_report({**answer, "group_by": [g for g in group_by if g == "period"],
                                "results": summed}, judging)
    return answer


def league_table(period_from: str | None, period_to: str | None) -> dict[str, Any]:
    """Departments ranked on every KPI over a window, with the change on the window before;
    and ``platform``: the whole platform's KPIs (every department's services together,
    those of departments since removed too), judged against the platform's standards,
    with the change and the months missed in a row — summed in the same reads as the
    departments' (``kpi_report``'s ``with_total``), not read again."""
    with store.read_engine().connect() as conn:
        period_to = period_to or store.latest_period(conn) or stats.current_period()
    period_from = period_from or stats.shift_period(period_to, -11)
    y0, m0 = stats.parse_period(period_from)
    y1, m1 = stats.parse_period(period_to)
    months = (y1 - y0) * 12 + (m1 - m0) + 1
    names = stats.kpi_names()
    table = _find_table(publishing.site_context())   # once for both windows
    now = kpi_report({"group_by": ["department"], "period_type": "month", "kpis": names,
                      "period_from": period_from, "period_to": period_to, "with_total": True}, table)
    before = kpi_report({"group_by": ["department"], "period_type": "month",
                         "kpis": stats.kpi_names("statistics"),
                         "period_from": stats.shift_period(period_from, -months),
                         "period_to": stats.shift_period(period_to, -months), "with_total": True}, table)
    previous = {r["department"]: r["kpis"] for r in before["results"]}
    platform = now["totals"][0]
    for r in [*now["results"], platform]:
        was = before["totals"][0]["kpis"] if r is platform else previous.get(r["department"], {})
        for name, figure in r["kpis"].items():
            old = was.get(name)
            figure["change_previous"] = stats.change(figure["value"], old["value"] if old else None)
    history = standards.monthly_values("department", period_to, with_platform=True)
    for r in now["results"]:
        standards.add_runs(r["kpis"], history.get((r["department"], None)))
    standards.add_runs(platform["kpis"], history.get((None, None)))
    return {"period_from": period_from, "period_to": period_to,
            "previous_period_from": before["period_from"], "previous_period_to": before["period_to"],
            "definitions": now["definitions"], "departments": now["results"],
            "platform": {"kpis": platform["kpis"]}}
