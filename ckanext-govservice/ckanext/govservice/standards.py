"""Service standards on the CKAN side: set them, judge every KPI shown against
them, and publish standards and results as an open dataset.

The arithmetic (which standard applies, met or not, red/amber/green, months
missed in a row) is ``core.standards``; the table is the KPI engine's
``standard`` (``statistics_store.performance``). Here: checking what is sent
against the catalogue (departments and their services), and putting the
judgement next to each figure that ``govservice_kpis``, the league table and
the pages show, as ``standard``::

    {"target": 0.95, "scope": "department", "wording": {"zh_Hans_CN", "en"},
     "period_from": None, "met": False, "status": "amber",
     "missed_in_a_row": 3, "flagged": True}

(``missed_in_a_row`` and ``flagged`` where the monthly figures are at hand.)
"""
from __future__ import annotations

import csv
import logging
import tempfile
from pathlib import Path
from typing import Any, Iterable

import ckan.plugins.toolkit as tk

from . import publishing, statistics_store as store
from .core import kpis as stats, schema, standards as rules
from .statistics_store import performance as pm

log = logging.getLogger(__name__)

DATASET = "service-standards"
RUN_MONTHS = 12          # months looked back for "missed N months in a row"
PUBLISHED_MONTHS = 36    # months of results in the open dataset
COLUMNS = ("department", "service_code", "service_title", "kpi", "standard_scope", "target",
           "standard_zh", "standard_en", "period", "value", "numerator", "denominator",
           "met", "status", "missed_in_a_row")


# ---------------------------------------------------------------- setting them

def _departments() -> set[str]:
    return set(tk.get_action("organization_list")({"ignore_auth": True}, {"limit": 1000}))


def _services(pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of the (department, service code) pairs are services in the catalogue."""
    by_department: dict[str, set[str]] = {}
    for department, code in pairs:
        by_department.setdefault(department, set()).add(code)
    code_field = schema.facet_fields()["service_code"]
    found: set[tuple[str, str]] = set()
    for department, codes in by_department.items():
        quoted = " OR ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in codes)
        answer = tk.get_action("package_search")({"ignore_auth": True}, {
            "fq": f'dataset_type:service AND organization:"{department}" AND {code_field}:({quoted})',
            "rows": len(codes) + 10, "include_private": True})
        found |= {(department, r["service_code"]) for r in answer["results"] if r.get("service_code") in codes}
    return found


def check(records: list[Any]) -> list[dict[str, Any]]:
    """The standards checked against the KPIs and the catalogue; ValidationError
    with every error (record, field, reason) when any is wrong."""
    departments = _departments()
    pairs = [(r["department"], r["service"]) for r in records if isinstance(r, dict)
             and isinstance(r.get("department"), str) and r["department"] in departments
             and isinstance(r.get("service"), str)]
    clean, errors = rules.check(records, departments, _services(pairs))
    if errors:
        raise tk.ValidationError({"standards": errors})
    return clean


def put(clean: list[dict[str, Any]], source: str, user: str | None) -> None:
    with store.engine().begin() as conn:
        pm.put_standards(conn, clean, source, user)
    enqueue_publish()


def all_standards(department: str | None = None) -> list[dict[str, Any]]:
    try:
        with store.engine().connect() as conn:
            return pm.standards(conn, department)
    except store.NotMigrated:
        raise
    except Exception:   # the DataStore down: figures are shown without their standards
        log.warning("could not read the service standards", exc_info=True)
        return []


# ---------------------------------------------------------------- judging figures

def _definitions() -> dict[str, dict[str, Any]]:
    return {k["name"]: k for k in stats.kpi_definitions()}


def judge_report(report: dict[str, Any], standards: list[dict[str, Any]] | None = None) -> None:
    """Give every figure of a ``kpi_report`` answer its ``standard`` (None when none applies).

    Grouped by month, each figure also gets ``missed_in_a_row`` and ``flagged``
    from the months before it in the same answer."""
    standards = all_standards() if standards is None else standards
    filters = report.get("filters") or {}
    keys = [g for g in report["group_by"] if g != "period"]
    monthly = "period" in report["group_by"] and report["period_type"] == "month"
    series: dict[tuple, list[tuple[str, dict[str, Any]]]] = {}
    owners: dict[str, str] = {}
    if not filters.get("department") and "department" not in keys and (
            "service" in keys or filters.get("service")) and standards:
        # grouped by service alone: each code's department, for its department's standards
        codes = {r.get("service") or filters.get("service") for r in report["results"]}
        with store.engine().connect() as conn:
            owners = pm.departments_of(conn, [c for c in codes if c])
    for r in report["results"]:
        service = r.get("service") or filters.get("service")
        department = r.get("department") or filters.get("department") or owners.get(service)
        period = r["period"] if monthly else report["period_to"]
        for name, figure in r["kpis"].items():
            standard = rules.applicable(standards, name, department, service, period)
            figure["standard"] = rules.judge(figure["value"], standard)
        if monthly:
            series.setdefault(tuple(r.get(k) for k in keys), []).append((r["period"], r["kpis"]))
    for months in series.values():
        months.sort(key=lambda m: m[0])
        for i, (_period, figures) in enumerate(months):
            for name, figure in figures.items():
                if figure["standard"]:
                    history = [(p, f[name]["value"]) for p, f in months[:i + 1]]
                    _add_run(figure["standard"], name, history)


def _add_run(judged: dict[str, Any], kpi: str, history: Iterable[tuple[str, Any]]) -> None:
    run = rules.missed_in_a_row(history, judged["target"], _definitions()[kpi]["better"])
    judged["missed_in_a_row"], judged["flagged"] = run, run >= rules.MISSED_IN_A_ROW


def monthly_values(level: str, period_to: str, *, department: str | None = None,
                   service: str | None = None, months: int = RUN_MONTHS,
                   services: list[str] | None = None, with_platform: bool = False) -> dict[tuple, dict[str, list]]:
    """{(department, service): {kpi: [(month, value), …]}} over the ``months`` up to period_to
    (of one ``service``, or of the ``services`` listed, when given; ``with_platform``, of
    departments: the platform's too, under (None, None), from the same read)."""
    with store.engine().connect() as conn:
        rows = pm.monthly_sums(conn, level=level, period_from=stats.shift_period(period_to, -(months - 1)),
                               period_to=period_to, department=department, service=service, services=services,
                               with_platform=with_platform)
    names = stats.kpi_names("statistics")
    out: dict[tuple, dict[str, list]] = {}
    for row in rows:
        values = stats.kpi_values(row, names)
        entry = out.setdefault((row["department"], row["service"]), {n: [] for n in names})
        for n in names:
            entry[n].append((row["period"], values[n]["value"]))
    return out


def add_runs(figures: dict[str, dict[str, Any]], history: dict[str, list] | None) -> None:
    """Add ``missed_in_a_row`` and ``flagged`` to the judged figures from their monthly history."""
    for name, figure in figures.items():
        judged = figure.get("standard") if isinstance(figure, dict) else None
        if judged and history is not None and name in history:
            _add_run(judged, name, history[name])


def judge_summary(performance: dict[str, Any] | None, department: str,
                  service: str, standards: list[dict[str, Any]] | None = None,
                  history: dict[tuple, dict[str, list]] | None = None) -> dict[str, dict[str, Any]]:
    """A service's latest-12-months summary judged: {kpi: standard} for the KPIs
    that have one, with the months missed in a row. A caller judging many
    services reads once for all of them and passes ``standards``
    (``all_standards(department)``) and ``history`` (``monthly_values("service",
    period_to, department=department)``); else each is read here."""
    if not performance or not performance.get("period_to"):
        return {}
    standards = all_standards(department) if standards is None else standards
    figures = {k: {"value": performance.get(k)} for k in store.SUMMARY_KPIS}
    for name, figure in figures.items():
        figure["standard"] = rules.judge(figure["value"], rules.applicable(
            standards, name, department, service, performance["period_to"]))
    if any(f["standard"] for f in figures.values()):
        if history is None:
            history = monthly_values("service", performance["period_to"], department=department, service=service)
        add_runs(figures, history.get((department, service)))
    return {k: f["standard"] for k, f in figures.items() if f["standard"]}


def judge_services(services: list[dict[str, Any]], department: str, period_to: str | None) -> None:
    """Give each of a department's services (``statistics_store.department_services``
    rows: the summary KPIs) ``standards``: {kpi: judged}, with months missed in a row."""
    standards = all_standards(department)
    if not standards or not period_to or not services:
        for s in services:
            s["standards"] = {}
        return
    # the history of just these services: a page of a department of 26,000 would
    # otherwise read every one's months
    history = monthly_values("service", period_to, department=department,
                             services=[s["service_code"] for s in services])
    for s in services:
        figures = {k: {"value": s.get(k), "standard": rules.judge(s.get(k), rules.applicable(
            standards, k, department, s["service_code"], s.get("period_to") or period_to))}
            for k in store.SUMMARY_KPIS}
        add_runs(figures, history.get((department, s["service_code"])))
        s["standards"] = {k: f["standard"] for k, f in figures.items() if f["standard"]}


# ---------------------------------------------------------------- the open dataset

def result_rows(standards: list[dict[str, Any]], period_to: str,
                months: int = PUBLISHED_MONTHS) -> Iterable[dict[str, Any]]:
    """One row per service × standard × month: every statistics KPI a standard
    applies to, for every service with figures that month."""
    definitions = _definitions()
    kpi_names = sorted({s["kpi"] for s in standards if definitions[s["kpi"]]["source"] == "statistics"})
    if not kpi_names:
        return
    with store.engine().connect() as conn:
        titles = {(s["department"], s["service_code"]): s["title"] for s in pm.active_services(conn)}
        rows = pm.monthly_sums(conn, level="service", period_from=stats.shift_period(period_to, -(months - 1)),
                               period_to=period_to)
    rows.sort(key=lambda r: (r["department"], r["service"], r["period"]))
    history: dict[tuple, list] = {}
    for row in rows:
        values = stats.kpi_values(row, kpi_names)
        for name in kpi_names:
            standard = rules.applicable(standards, name, row["department"], row["service"], row["period"])
            if standard is None:
                continue
            figure = values[name]
            past = history.setdefault((row["department"], row["service"], name), [])
            past.append((row["period"], figure["value"]))
            judged = rules.judge(figure["value"], standard, past)
            yield {"department": row["department"], "service_code": row["service"],
                   "service_title": titles.get((row["department"], row["service"])),
                   "kpi": name, "standard_scope": standard["scope"], "target": standard["target"],
                   "standard_zh": standard["wording"]["zh_Hans_CN"], "standard_en": standard["wording"]["en"],
                   "period": row["period"], "value": figure["value"], "numerator": figure["numerator"],
                   "denominator": figure["denominator"],
                   "met": {True: "true", False: "false"}.get(judged["met"]),
                   "status": judged["status"], "missed_in_a_row": judged["missed_in_a_row"]}


def publish() -> dict[str, Any]:
    """Background job: the standards and their results as CSV, in the open dataset
    ``service-standards`` (one row per service × standard × month)."""
    context = publishing.site_context()
    org = publishing.platform_org(context)
    dataset = publishing.ensure_dataset(
        context, DATASET, org,
        title="政务服务标准与达标情况 / Service standards and results",
        notes=("每个事项、每项服务标准、每个月一行：目标、实际值、是否达标、红黄绿状态、连续未达标月数。"
               "最具体的标准适用：事项的，其次部门的，其次全平台的。\n\n"
               "One row per service, service standard and month: the target, the result, whether it was "
               "met, its red/amber/green status and the months missed in a row. The most specific "
               "standard applies: the service's, else its department's, else the platform's."),
        scope="standards")
    with store.engine().connect() as conn:
        period_to = store.latest_period(conn) or stats.current_period()
    count = 0
    with tempfile.TemporaryDirectory(prefix="govservice-standards-") as tmp:
        path = Path(tmp) / "standards.csv"
        with open(path, "w", encoding="utf-8-sig", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=COLUMNS)
            writer.writeheader()
            for row in result_rows(all_standards(), period_to):
                writer.writerow(row)
                count += 1
        resources = publishing.store_files(context, dataset, {"csv": path},
                                           "服务标准与达标情况 / Service standards and results")
    return {"dataset": dataset["name"], "rows": count, "resources": resources}


def enqueue_publish() -> None:
    if not tk.config.get("ckanext.govservice.statistics.background_jobs"):
        return
    try:
        publishing.enqueue_once(publish, [], f"govservice-standards-{tk.config.get('ckan.site_id')}",
                                title="publish the service standards and their results")
    except Exception:   # Redis down: the standards are stored; the file catches up next time
        log.exception("could not queue the service standards file")
