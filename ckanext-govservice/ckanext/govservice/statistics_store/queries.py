"""Every read of the KPI engine's tables: KPI sums per group and period,
catalogue sums, the latest month, service summaries and trends.

Pages and actions shape what these return; none of them writes SQL on the
store's tables itself.
"""
from __future__ import annotations

from decimal import Decimal
from typing import IO, Any, Mapping, Sequence

import sqlalchemy as sa

from ..core import kpis as stats
from ..core.tabular import FORMULA_TRIGGERS
from .tables import CATALOGUE_SUMS, SCHEMA, SUMMARY_KPIS, SUMS


# ---------------------------------------------------------------- KPIs

def plain_number(value: Any) -> Any:
    """A number from PostgreSQL as JSON wants it: a whole number as int, any other as float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _bucket_sql(period_type: str, column: str = "period") -> str:
    if period_type == "month":
        return column
    if period_type == "quarter":
        return f"(substr({column}, 1, 4) || '-Q' || ((substr({column}, 6, 2)::int - 1) / 3 + 1))"
    return f"substr({column}, 1, 4)"


GROUP_COLUMN = {"service": "d.service_code", "department": "d.department",
                "theme": "theme", "life_event": "life_event", "channel": "r.channel"}
FILTERS = {"department": "d.department = :department", "service": "d.service_code = :service",
           "theme": ":theme = ANY(d.themes)", "life_event": ":life_event = ANY(d.life_events)",
           "channel": "r.channel = :channel",
           "period_from": "r.period >= :period_from", "period_to": "r.period <= :period_to"}


# The groupings whose groups split the rows (each row in one group), so that the
# groups' sums add up to the whole: a service with two themes is in two theme
# groups, and the themes' sums count it twice.
TOTAL_OF = ("department", "service", "channel")


def _grouped_query(source: str, sums: str, group_by: Sequence[str], filters: Mapping[str, Any],
                   period_select: str | None = None, with_total: bool = False) -> tuple[str, dict[str, Any]]:
    """SELECT the sums from a source (aliases d: the catalogue side, r: the figures) per group;
    ``with_total``: also the sums of every group together (per period, when grouped by
    it), in the same pass, the row whose ``total`` is true (the others' false)."""
    if "theme" in group_by:
        source += " CROSS JOIN LATERAL unnest(d.themes) AS theme"
    if "life_event" in group_by:
        source += " CROSS JOIN LATERAL unnest(d.life_events) AS life_event"
    params = {k: v for k, v in filters.items() if v}
    where = ["TRUE", *(FILTERS[k] for k in params)]
    keys = [g for g in group_by if g in GROUP_COLUMN]
    select = [f"{GROUP_COLUMN[g]} AS {g}" for g in keys]
    group = [GROUP_COLUMN[g] for g in keys]
    if period_select:
        select.append(f"{period_select} AS period")
        group.append(period_select)   # the expression: a bare "period" would mean r.period
    grouping = f" GROUP BY {', '.join(group)}" if group else ""
    if with_total:
        if any(g not in TOTAL_OF for g in keys):
            raise ValueError(f"the groups of {', '.join(keys)} do not add up to a total")
        keyed = [GROUP_COLUMN[g] for g in keys]
        if keyed:
            periods = group[len(keyed):]
            select.append(f"GROUPING({', '.join(keyed)}) <> 0 AS total")
            grouping = f" GROUP BY GROUPING SETS (({', '.join(group)}), ({', '.join(periods)}))"
        else:
            select.append("TRUE AS total")
    sql = f"SELECT {', '.join(select + [sums])} FROM {source} WHERE {' AND '.join(where)}{grouping}"
    return sql, params


def kpi_sums(conn, table: str, *, group_by: Sequence[str], period_type: str,
             period_from: str | None, period_to: str | None, with_total: bool = False,
             **filters: Any) -> list[dict[str, Any]]:
    """The statistics sums per group (and period bucket), from the cheapest source.

    Departments and the platform read the department x month x channel sums;
    services, themes and life events read the service x month sums joined
    with the catalogue; a channel breakdown of services reads the rows.
    ``filters``: department, service, theme, life_event, channel.
    ``with_total``: every row has ``total``, and one more row (per period
    bucket, when grouped by period) with ``total`` true sums every group, as
    the query without the grouping would (only for groupings that split the
    rows: department, service, channel; ValueError for the others).
    """
    by_service = any(g in group_by for g in ("service", "theme", "life_event")) or any(
        filters.get(k) for k in ("service", "theme", "life_event"))
    catalogue = f"JOIN {SCHEMA}.service d ON d.service_code = r.service_code AND d.department = r.department"
    summed = ", ".join(f"sum(r.{name}) AS {name}" for name in SUMS)
    if by_service and (filters.get("channel") or "channel" in group_by):
        source, sums = f'public."{table}" r {catalogue}', ", ".join(
            f"{sql} AS {name}" for name, sql in SUMS.items())
    elif by_service:
        source, sums = f"{SCHEMA}.service_month r {catalogue}", summed
    else:   # the department's own name is all a department-level query needs of the catalogue
        source, sums = f"{SCHEMA}.department_month r CROSS JOIN LATERAL (SELECT r.department) d", summed
    sql, params = _grouped_query(
        source, sums + ", min(r.period) AS first_month, max(r.period) AS last_month", group_by,
        {**filters, "period_from": period_from, "period_to": period_to},
        _bucket_sql(period_type, "r.period") if "period" in group_by else None, with_total)
    return [{k: plain_number(v) for k, v in row.items()} for row in conn.execute(sa.text(sql), params).mappings()]


def catalogue_sums(conn, *, group_by: Sequence[str], with_total: bool = False,
                   **filters: Any) -> list[dict[str, Any]]:
    """The catalogue KPIs' sums (active services as they are now) per group;
    ``with_total`` as in ``kpi_sums``."""
    sums = ", ".join(f"{sql} AS {name}" for name, sql in CATALOGUE_SUMS.items())
    sql, params = _grouped_query(f"{SCHEMA}.service d", sums, group_by, filters, with_total=with_total)
    sql = sql.replace("WHERE TRUE", "WHERE d.status = 'active'", 1)
    return [{k: plain_number(v) for k, v in row.items()} for row in conn.execute(sa.text(sql), params).mappings()]


def latest_period(conn, department: str | None = None) -> str | None:
    sql = f"SELECT max(period) FROM {SCHEMA}.department_month"
    if department:
        return conn.execute(sa.text(sql + " WHERE department = :d"), {"d": department}).scalar()
    return conn.execute(sa.text(sql)).scalar()


def summary(conn, department: str, service_code: str) -> dict[str, Any] | None:
    """A service's latest-12-months summary: period_from, period_to and each
    summary KPI's value; None when it has no figures."""
    row = conn.execute(sa.text(f"""
        SELECT period_from, period_to, {", ".join(SUMMARY_KPIS)}
        FROM {SCHEMA}.service_summary WHERE service_code = :c AND department = :d"""),
        {"c": service_code, "d": department}).mappings().first()
    return {k: plain_number(v) for k, v in row.items()} if row else None


def summaries(conn, services: Sequence[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """``summary`` of many services in one query: {(department, service_code):
    summary}; services without figures are left out."""
    pairs = sorted({(d, c) for d, c in services if d and c})
    if not pairs:
        return {}
    rows = conn.execute(sa.text(f"""
        SELECT m.department, m.service_code, m.period_from, m.period_to,
               {", ".join(f"m.{k}" for k in SUMMARY_KPIS)}
        FROM {SCHEMA}.service_summary m
        JOIN unnest(CAST(:departments AS text[]), CAST(:codes AS text[])) AS wanted(department, service_code)
          USING (department, service_code)"""),
        {"departments": [d for d, _ in pairs], "codes": [c for _, c in pairs]}).mappings().all()
    return {(row["department"], row["service_code"]):
            {k: plain_number(v) for k, v in row.items() if k not in ("department", "service_code")}
            for row in rows}


def service_trend(conn, table: str, department: str, service_code: str,
                  months: int = 36) -> list[dict[str, Any]]:
    """A service's summary KPIs (volume, on-time rate, satisfaction…) month by month, oldest first."""
    rows = conn.execute(sa.text(f"""
        SELECT period, {', '.join(SUMS)} FROM {SCHEMA}.service_month
        WHERE service_code = :c AND department = :d ORDER BY period DESC LIMIT :n"""),
        {"c": service_code, "d": department, "n": months}).mappings().all()
    out = []
    for row in reversed(rows):
        sums = {k: plain_number(v) for k, v in row.items()}
        values = stats.kpi_values(sums, SUMMARY_KPIS)
        out.append({"period": row["period"], **{k: v["value"] for k, v in values.items()}})
    return out


def department_services(conn, department: str, limit: int | None = None,
                        offset: int = 0) -> list[dict[str, Any]]:
    """The department's services in the KPI engine (name, title, service_code,
    package_id) with their latest-12-months summary (period_from, period_to,
    each summary KPI; None without figures), highest on-time rate first, then
    largest volume, no data last; ``limit`` of them from ``offset`` (a page:
    the order is total, so pages neither repeat nor skip a service)."""
    rows = conn.execute(sa.text(f"""
        SELECT s.name, s.title, s.service_code, s.package_id, m.period_from, m.period_to,
               {", ".join(f"m.{k}" for k in SUMMARY_KPIS)}
        FROM {SCHEMA}.service s
        LEFT JOIN {SCHEMA}.service_summary m USING (department, service_code)
        WHERE s.department = :d
        ORDER BY m.on_time_rate DESC NULLS LAST, m.volume DESC NULLS LAST, s.title, s.service_code
        LIMIT :limit OFFSET :offset"""),
        {"d": department, "limit": limit, "offset": offset}).mappings().all()
    return [{k: plain_number(v) for k, v in row.items()} for row in rows]


def department_service_count(conn, department: str) -> int:
    """How many services the department has in the KPI engine."""
    return conn.execute(sa.text(f"SELECT count(*) FROM {SCHEMA}.service WHERE department = :d"),
                        {"d": department}).scalar()


def _neutralised(column: str, kind: str) -> str:
    """The column as the CSV shows it: a text cell a spreadsheet would run as a
    formula gets a leading quote, in SQL, as core.tabular.neutralise does in Python."""
    if kind != "text":
        return column
    # a character class: "-" last, so it is itself and not a range
    first = "".join(sorted(({"\t": r"\t", "\r": r"\r"}.get(t, t) for t in FORMULA_TRIGGERS),
                           key=lambda t: t == "-"))
    return f"CASE WHEN {column} ~ E'^[{first}]' THEN '''' || {column} ELSE {column} END AS {column}"


def copy_department_rows(conn, table: str, department: str, columns: Sequence[str], out: IO[bytes]) -> None:
    """Write the department's published statistics rows to ``out`` as CSV with a
    header (``columns``, in that order), ordered by service, month and channel.
    Text a spreadsheet would run as a formula (starting ``=`` ``+`` ``-`` ``@``,
    tab or carriage return) gets a leading quote, as in the catalogue files."""
    kinds = {c["name"]: c["type"] for c in stats.columns()}
    selected = ", ".join(_neutralised(c, kinds.get(c, "")) for c in columns)
    with conn.connection.dbapi_connection.cursor() as cur:
        cur.copy_expert(cur.mogrify(
            f'COPY (SELECT {selected} FROM public."{table}" WHERE department = %s '
            f"ORDER BY service_code, period, channel) TO STDOUT WITH (FORMAT csv, HEADER true)",
            (department,)).decode(), out)
