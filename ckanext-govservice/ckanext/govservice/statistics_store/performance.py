"""Every read and write of the performance-management tables (migration
5a1e0c3d9b21): the standards, the alerts last sent, the links last checked;
and the monthly KPI sums the standards are judged on."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Iterable, Sequence

import sqlalchemy as sa

from .queries import plain_number
from .tables import SCHEMA, SUMS


# ---------------------------------------------------------------- standards

def _standard(row: Any) -> dict[str, Any]:
    return {"kpi": row["kpi"], "department": row["department"] or None,
            "service": row["service_code"] or None,
            "scope": "service" if row["service_code"] else "department" if row["department"] else "platform",
            "target": plain_number(row["target"]), "period_from": row["period_from"],
            "wording": {"zh_Hans_CN": row["wording_zh"], "en": row["wording_en"]},
            "source": row["source"], "set_by": row["set_by"],
            "updated_at": row["updated_at"].isoformat(timespec="seconds")}


def standards(conn, department: str | None = None) -> list[dict[str, Any]]:
    """Every standard (with ``department``: the platform's and that department's),
    widest first, then by KPI."""
    rows = conn.execute(sa.text(f"""
        SELECT * FROM {SCHEMA}.standard
        WHERE CAST(:d AS text) IS NULL OR department IN ('', :d)
        ORDER BY (department <> '')::int + (service_code <> '')::int, kpi, department, service_code"""),
        {"d": department}).mappings().all()
    return [_standard(r) for r in rows]


def put_standards(conn, clean: Sequence[dict[str, Any]], source: str, set_by: str | None) -> None:
    """Create or replace standards already checked (``core.standards.check``)."""
    for s in clean:
        conn.execute(sa.text(f"""
            INSERT INTO {SCHEMA}.standard (kpi, department, service_code, target, period_from,
                                           wording_zh, wording_en, source, set_by)
            VALUES (:kpi, :department, :service, :target, :period_from, :zh, :en, :source, :set_by)
            ON CONFLICT (kpi, department, service_code) DO UPDATE SET target = EXCLUDED.target,
                period_from = EXCLUDED.period_from, wording_zh = EXCLUDED.wording_zh,
                wording_en = EXCLUDED.wording_en, source = EXCLUDED.source,
                set_by = EXCLUDED.set_by, updated_at = now()"""),
            {"kpi": s["kpi"], "department": s["department"] or "", "service": s["service"] or "",
             "target": s["target"], "period_from": s["period_from"], "zh": s["wording"]["zh_Hans_CN"],
             "en": s["wording"]["en"], "source": source, "set_by": set_by})


def delete_standard(conn, kpi: str, department: str | None, service: str | None) -> bool:
    return conn.execute(sa.text(f"""
        DELETE FROM {SCHEMA}.standard WHERE kpi = :k AND department = :d AND service_code = :s"""),
        {"k": kpi, "d": department or "", "s": service or ""}).rowcount > 0


# ---------------------------------------------------------------- monthly sums

def monthly_sums(conn, *, level: str, period_from: str, period_to: str,
                 department: str | None = None, service: str | None = None,
                 services: Sequence[str] | None = None, with_platform: bool = False) -> list[dict[str, Any]]:
    """The KPI sums month by month: per service (``level`` service; of one
    ``service`` or of the ``services`` listed), per department (department) or
    for the whole platform (platform), each row with ``department``,
    ``service`` and ``period``. ``with_platform`` (level department): the
    platform's rows too (``department`` None), summed in the same pass."""
    params = {"f": period_from, "t": period_to, "d": department, "s": service,
              "ss": list(services) if services is not None else None}
    summed = ", ".join(f"sum({name}) AS {name}" for name in SUMS)
    where = "period BETWEEN :f AND :t AND (CAST(:d AS text) IS NULL OR department = :d)"
    if level == "service":
        sql = f"""SELECT department, service_code AS service, period, {", ".join(SUMS)}
                  FROM {SCHEMA}.service_month
                  WHERE {where} AND (CAST(:s AS text) IS NULL OR service_code = :s)
                    AND (CAST(:ss AS text[]) IS NULL OR service_code = ANY(CAST(:ss AS text[])))"""
    elif level == "department":
        grouping = "GROUPING SETS ((department, period), (period))" if with_platform else "department, period"
        sql = f"""SELECT department, NULL AS service, period, {summed} FROM {SCHEMA}.department_month
                  WHERE {where} GROUP BY {grouping}"""
    else:
        sql = f"""SELECT NULL AS department, NULL AS service, period, {summed} FROM {SCHEMA}.department_month
                  WHERE {where} GROUP BY period"""
    return [{k: plain_number(v) for k, v in r.items()} for r in conn.execute(sa.text(sql), params).mappings()]


def active_services(conn, department: str | None = None) -> list[dict[str, Any]]:
    """The active services in the KPI engine's catalogue: department, service_code, name, title."""
    return [dict(r) for r in conn.execute(sa.text(f"""
        SELECT department, service_code, name, title FROM {SCHEMA}.service
        WHERE status = 'active' AND (CAST(:d AS text) IS NULL OR department = :d)
        ORDER BY department, service_code"""), {"d": department}).mappings()]


def departments_of(conn, codes: Iterable[str]) -> dict[str, str]:
    """The department of each service code that only one department uses."""
    rows = conn.execute(sa.text(f"""
        SELECT service_code, min(department) FROM {SCHEMA}.service WHERE service_code = ANY(:c)
        GROUP BY service_code HAVING count(*) = 1"""), {"c": list(codes)}).all()
    return {r[0]: r[1] for r in rows}


def services_reporting(conn, period: str, department: str | None = None) -> dict[str, int]:
    """Per department, how many of its active services have a row for ``period``."""
    rows = conn.execute(sa.text(f"""
        SELECT s.department, count(*) AS n FROM {SCHEMA}.service s
        WHERE s.status = 'active' AND (CAST(:d AS text) IS NULL OR s.department = :d)
          AND EXISTS (SELECT 1 FROM {SCHEMA}.service_month m WHERE m.department = s.department
                      AND m.service_code = s.service_code AND m.period = :p)
        GROUP BY s.department"""), {"p": period, "d": department}).all()
    return {r[0]: r[1] for r in rows}


def services_without_applications(conn, period_from: str, period_to: str,
                                  department: str | None = None) -> list[dict[str, Any]]:
    """Active services that received no application from period_from to
    period_to (零办件): no row, or rows that report none."""
    return [dict(r) for r in conn.execute(sa.text(f"""
        SELECT s.department, s.service_code, s.name, s.title FROM {SCHEMA}.service s
        WHERE s.status = 'active' AND (CAST(:d AS text) IS NULL OR s.department = :d)
          AND NOT EXISTS (SELECT 1 FROM {SCHEMA}.service_month m WHERE m.department = s.department
                          AND m.service_code = s.service_code AND m.period BETWEEN :f AND :t
                          AND m.received > 0)
        ORDER BY s.department, s.service_code"""), {"f": period_from, "t": period_to, "d": department}).mappings()]


# ---------------------------------------------------------------- alerts

def alerts(conn, department: str | None = None, *, open_only: bool = True) -> list[dict[str, Any]]:
    """The alerts (of one department), newest first; open ones only unless asked."""
    rows = conn.execute(sa.text(f"""
        SELECT * FROM {SCHEMA}.alert
        WHERE (CAST(:d AS text) IS NULL OR department = :d) AND (NOT :o OR resolved_at IS NULL)
        ORDER BY since DESC, kind, subject"""), {"d": department, "o": open_only}).mappings().all()
    # the DataStore's engine hands jsonb back as text
    return [{**r, "details": json.loads(r["details"]) if isinstance(r["details"], str) else r["details"]}
            for r in rows]


def note_alerts(conn, department: str, found: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Record the department's conditions found now; return those to send.

    ``found``: {"kind", "subject", "condition", "since", "details"}. A
    condition not open before, or open with a different ``condition`` text
    (it got worse, or changed), is to send; one open and unchanged is not. An
    open alert not found now is resolved; should it come back, it is new.
    """
    found = list(found)
    current = {(a["kind"], a["subject"]): a for a in alerts(conn, department)}
    to_send = []
    for f in found:
        old = current.get((f["kind"], f["subject"]))
        if old is not None and old["condition"] == f["condition"]:
            continue
        conn.execute(sa.text(f"""
            INSERT INTO {SCHEMA}.alert (department, kind, subject, condition, since, details)
            VALUES (:d, :k, :s, :c, :since, CAST(:details AS jsonb))
            ON CONFLICT (department, kind, subject) DO UPDATE SET condition = EXCLUDED.condition,
                since = CASE WHEN {SCHEMA}.alert.resolved_at IS NULL THEN {SCHEMA}.alert.since
                             ELSE EXCLUDED.since END,
                details = EXCLUDED.details, sent_at = NULL, resolved_at = NULL"""),
            {"d": department, "k": f["kind"], "s": f["subject"], "c": f["condition"],
             "since": f["since"], "details": json.dumps(f["details"], ensure_ascii=False, default=str)})
        to_send.append(f)
    still = {(f["kind"], f["subject"]) for f in found}
    for key in set(current) - still:
        conn.execute(sa.text(f"""UPDATE {SCHEMA}.alert SET resolved_at = now()
                                 WHERE department = :d AND kind = :k AND subject = :s"""),
                     {"d": department, "k": key[0], "s": key[1]})
    return to_send


def mark_sent(conn, department: str, kind: str, subject: str) -> None:
    conn.execute(sa.text(f"""UPDATE {SCHEMA}.alert SET sent_at = now()
                             WHERE department = :d AND kind = :k AND subject = :s"""),
                 {"d": department, "k": kind, "s": subject})


# ---------------------------------------------------------------- links

def note_link(conn, department: str, service_code: str, url: str, field: str,
              broken: bool, reason: str | None) -> None:
    conn.execute(sa.text(f"""
        INSERT INTO {SCHEMA}.link_check (department, service_code, url, field, broken, reason)
        VALUES (:d, :s, :u, :f, :b, :r)
        ON CONFLICT (department, service_code, url) DO UPDATE SET field = EXCLUDED.field,
            broken = EXCLUDED.broken, reason = EXCLUDED.reason, checked_at = now()"""),
        {"d": department, "s": service_code, "u": url, "f": field, "b": broken, "r": reason})


def database_now(conn) -> dt.datetime:
    return conn.execute(sa.text("SELECT now()")).scalar()


def forget_links_not_seen(conn, department: str, since: dt.datetime) -> int:
    """Drop the department's addresses no check has seen since ``since`` (the start
    of its latest full check): services that changed or left no longer list them."""
    return conn.execute(sa.text(f"DELETE FROM {SCHEMA}.link_check WHERE department = :d AND checked_at < :t"),
                        {"d": department, "t": since}).rowcount


def broken_links(conn, department: str | None = None) -> list[dict[str, Any]]:
    """The addresses found broken at their last check, by department and service."""
    return [dict(r) for r in conn.execute(sa.text(f"""
        SELECT department, service_code, url, field, reason, checked_at FROM {SCHEMA}.link_check
        WHERE broken AND (CAST(:d AS text) IS NULL OR department = :d)
        ORDER BY department, service_code, url"""), {"d": department}).mappings()]


def forget_alert(conn, department: str, kind: str, subject: str) -> None:
    """Drop a newly recorded alert that could not be sent, so the next run sends it."""
    conn.execute(sa.text(f"""DELETE FROM {SCHEMA}.alert
                             WHERE department = :d AND kind = :k AND subject = :s AND sent_at IS NULL"""),
                 {"d": department, "k": kind, "s": subject})
