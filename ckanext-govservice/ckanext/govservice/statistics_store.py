"""The statistics store in the DataStore database: table, loader, KPI aggregates.

Where things live (all in the DataStore database, so one SQL engine joins them):

* the statistics rows: one DataStore table, the resource ``service-statistics``
  of the platform dataset ``service-statistics`` — the one query point for
  ``datastore_search`` / ``datastore_search_sql``; its primary key is
  (department, service_code, period, channel) — service codes are unique
  within a department, as the catalogue enforces — and its data dictionary comes from
  statistics.yaml;
* our own schema ``govservice`` (not visible to DataStore SQL): ``service``
  (each public service's code, department, themes, life events and catalogue
  facts, synced from the catalogue), ``service_month`` and
  ``department_month`` (the KPI sums, kept up to date incrementally after each
  load — materialised, so reads stay fast however many rows there are) and
  ``service_summary`` (the latest 12 months' KPIs shown on each service).

Loading (``load``): the file is COPYed into a temporary staging table of text
columns, every rule of statistics.yaml is checked in one SQL pass, the good
rows are merged into the DataStore table with INSERT … ON CONFLICT (re-sending
a row replaces it; an identical row is left alone), the bad ones come back with
line, record, field and reason. All in one transaction: a load either lands
its good rows and its aggregates together or changes nothing.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import time
from decimal import Decimal
from typing import IO, Any, Iterable, Mapping, Sequence

import sqlalchemy as sa

from . import statistics as stats

log = logging.getLogger(__name__)

SCHEMA = "govservice_kpi"   # not "govservice": that is the database user, first on the search_path
DATASET = "service-statistics"
RESOURCE_KEY = "govservice_statistics"
INT_RE = r"^\s*-?\d{1,9}\s*$"
NUMBER_RE = r"^\s*-?\d{1,9}(\.\d+)?\s*$"
TRUE_WORDS = ("true", "t", "yes", "y", "1", "是")
FALSE_WORDS = ("false", "f", "no", "n", "0", "否")
MAX_REJECTIONS = 1000   # reported one by one; beyond that, counted

# The sums the KPIs are made of (kpis.yaml names them). A rate's numerator and
# denominator come from the same rows: a row that reports completions but not
# how many were on time does not count against the on-time rate.
_LEVELS = [c["name"] for c in stats.rating_columns()]
_ALL_LEVELS = " AND ".join(f"{c} IS NOT NULL" for c in _LEVELS)
_SATISFIED = " + ".join(c["name"] for c in stats.rating_columns() if c["rating_score"] >= 3)
_POINTS = " + ".join(f"{c['rating_score']} * {c['name']}" for c in stats.rating_columns())
SUMS: dict[str, str] = {
    "received": "sum(received)",
    "completed": "sum(completed)",
    "completed_on_time": "sum(completed_on_time) FILTER (WHERE completed IS NOT NULL AND completed_on_time IS NOT NULL)",
    "completed_with_on_time": "sum(completed) FILTER (WHERE completed IS NOT NULL AND completed_on_time IS NOT NULL)",
    "completed_online": "sum(completed_online)",
    "ratings": f"sum({' + '.join(_LEVELS)}) FILTER (WHERE {_ALL_LEVELS})",
    "satisfied_ratings": f"sum({_SATISFIED}) FILTER (WHERE {_ALL_LEVELS})",
    "rating_points": f"sum({_POINTS}) FILTER (WHERE {_ALL_LEVELS})",
    "bad_reviews": "sum(bad_reviews)",
    "bad_reviews_rectified": "sum(bad_reviews_rectified) FILTER (WHERE bad_reviews IS NOT NULL AND bad_reviews_rectified IS NOT NULL)",
    "bad_reviews_with_rectified": "sum(bad_reviews) FILTER (WHERE bad_reviews IS NOT NULL AND bad_reviews_rectified IS NOT NULL)",
    "enquiries": "sum(enquiries)",
}
CATALOGUE_SUMS: dict[str, str] = {
    "services": "count(*)",
    "services_with_limits": "count(time_limit_compression)",
    "compression_sum": "sum(time_limit_compression)",
    "zero_visit_services": "count(*) FILTER (WHERE in_person_visits = 0)",
    "at_most_one_visit_services": "count(*) FILTER (WHERE in_person_visits <= 1)",
    "fully_online_services": "count(*) FILTER (WHERE fully_online)",
}
_SUM_COLUMNS = ", ".join(f"{name} numeric" for name in SUMS)


def engine() -> sa.engine.Engine:
    from ckanext.datastore.backend.postgres import get_write_engine
    return get_write_engine()


_schema_ready: set[str] = set()


def ensure_schema(conn) -> None:
    """Create our own tables in the DataStore database (idempotent; once per process and database)."""
    url = str(conn.engine.url)
    if url in _schema_ready and conn.execute(sa.text(
            "SELECT to_regclass(:t) IS NOT NULL"), {"t": f"{SCHEMA}.service_summary"}).scalar():
        return
    _create_schema(conn)
    _schema_ready.add(url)


def _create_schema(conn) -> None:
    # CREATE SCHEMA/TABLE IF NOT EXISTS race when two processes run them at once
    # (a web request and a background job): one at a time.
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('govservice_kpi schema'))"))
    conn.execute(sa.text(f"""
        CREATE SCHEMA IF NOT EXISTS {SCHEMA};
        CREATE TABLE IF NOT EXISTS {SCHEMA}.service (
            department text NOT NULL,
            service_code text NOT NULL,
            package_id text NOT NULL,
            name text NOT NULL,
            title text,
            themes text[] NOT NULL DEFAULT '{{}}',
            life_events text[] NOT NULL DEFAULT '{{}}',
            in_person_visits int,
            fully_online boolean,
            time_limit_compression numeric,
            status text,
            PRIMARY KEY (department, service_code));
        CREATE INDEX IF NOT EXISTS service_code_idx ON {SCHEMA}.service (service_code);
        CREATE TABLE IF NOT EXISTS {SCHEMA}.service_month (
            service_code text NOT NULL, period text NOT NULL, department text NOT NULL,
            rows_reported int NOT NULL, {_SUM_COLUMNS},
            PRIMARY KEY (department, service_code, period));
        CREATE INDEX IF NOT EXISTS service_month_department_idx
            ON {SCHEMA}.service_month (department, period);
        CREATE TABLE IF NOT EXISTS {SCHEMA}.department_month (
            department text NOT NULL, period text NOT NULL, channel text NOT NULL,
            rows_reported int NOT NULL, {_SUM_COLUMNS},
            PRIMARY KEY (department, period, channel));
        CREATE TABLE IF NOT EXISTS {SCHEMA}.service_summary (
            service_code text NOT NULL, department text NOT NULL,
            period_from text, period_to text,
            on_time_rate numeric, digital_take_up numeric, satisfaction_rate numeric,
            volume numeric, updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (department, service_code));
    """))
    # Columns a newer sums list added to tables an older version created.
    for table in ("service_month", "department_month"):
        for name in SUMS:
            conn.execute(sa.text(
                f"ALTER TABLE {SCHEMA}.{table} ADD COLUMN IF NOT EXISTS {name} numeric"))


# ---------------------------------------------------------------- the catalogue side

def service_row(service: Mapping[str, Any], department: str) -> dict[str, Any]:
    """What the KPI engine keeps of a service (a package dict from CKAN)."""
    def number(value):
        return None if value in (None, "") else float(value)
    visits = service.get("in_person_visits")
    return {
        "department": department,
        "service_code": service.get("service_code") or service["name"],
        "package_id": service["id"],
        "name": service["name"],
        "title": service.get("title"),
        "themes": list(service.get("themes") or []),
        "life_events": list(service.get("life_events") or []),
        "in_person_visits": None if visits in (None, "") else int(visits),
        "fully_online": bool(service.get("fully_online")),
        "time_limit_compression": number(service.get("time_limit_compression")),
        "status": service.get("status") or "active",
    }


def sync_services(conn, department: str, services: Iterable[Mapping[str, Any]]) -> int:
    """Replace a department's services in the KPI engine with these (its public ones)."""
    rows = [service_row(s, department) for s in services]
    conn.execute(sa.text(f"DELETE FROM {SCHEMA}.service WHERE department = :d"), {"d": department})
    if rows:
        conn.execute(sa.text(f"""
            INSERT INTO {SCHEMA}.service (department, service_code, package_id, name, title,
                themes, life_events, in_person_visits, fully_online, time_limit_compression, status)
            VALUES (:department, :service_code, :package_id, :name, :title, :themes, :life_events,
                    :in_person_visits, :fully_online, :time_limit_compression, :status)
            ON CONFLICT (department, service_code) DO NOTHING"""), rows)
    return len(rows)


# ---------------------------------------------------------------- the DataStore table

def table_exists(conn, table: str) -> bool:
    return conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"),
                        {"t": f'public."{table}"'}).scalar()


def unique_key(conn, table: str) -> list[str]:
    """The columns of the table's unique key (the DataStore's primary_key), in order."""
    rows = conn.execute(sa.text("""
        SELECT a.attname FROM pg_index i
        JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON TRUE
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = to_regclass(:t) AND i.indisunique AND NOT i.indisprimary
        ORDER BY k.n"""), {"t": f'public."{table}"'}).all()
    return [r[0] for r in rows]


def tune_table(conn, table: str) -> None:
    """Indexes for how statistics are read, instead of the DataStore's defaults.

    The DataStore gives every text column a full-text index; statistics rows
    are looked up by key (department first) and period, never by words in the
    period or channel, and those indexes (and the one on ``_full_text``) would
    cost most of a bulk load. The row's ``_full_text`` (service code and
    department) is still filled, so ``q=`` works, by scanning.
    """
    indexes = conn.execute(sa.text("""
        SELECT indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename = :t"""), {"t": table}).all()
    for name, definition in indexes:
        if "to_tsvector" in definition or "_full_text" in definition:
            conn.execute(sa.text(f'DROP INDEX IF EXISTS public."{name}"'))
    # The key starts with the department, so it already serves a department's
    # rows (filters={"department": ...}, and the KPI sums' refresh).
    conn.execute(sa.text(f'DROP INDEX IF EXISTS public."{table}_department_period"'))
    # The loader fills _full_text itself; the DataStore's per-row trigger
    # (which would only skip it) costs a function call for every loaded row.
    # datastore_create puts it back, and a later tune_table takes it off again.
    conn.execute(sa.text(f'DROP TRIGGER IF EXISTS zfulltext ON public."{table}"'))


# ---------------------------------------------------------------- loading

STAGE_TYPES = {"int": "bigint", "numeric": "numeric", "text": "text", "bool": "text"}
TYPE_PROBLEMS = {"int": (INT_RE, "is not a whole number"), "numeric": (NUMBER_RE, "is not a number")}
INT4_MAX = 2_147_483_647


def _rules(has_department: bool) -> list[tuple[str, str]]:
    """(field, SQL giving the reason or NULL) for every rule, over the typed staging row ``s``.

    Cells that were not numbers at all are caught before these run (see
    ``_stage``); here a number column is a number or NULL.
    """
    rules: list[tuple[str, str]] = []
    for name in ("service_code", "period", "channel"):
        rules.append((name, f"CASE WHEN s.{name} IS NULL THEN 'is missing' END"))
    rules.append(("period", """CASE
        WHEN s.period !~ '^\d{4}-(0[1-9]|1[0-2])$' THEN 'is not a month written as YYYY-MM'
        WHEN s.period > :current_period THEN 'is in the future (this month is ' || :current_period || ')' END"""))
    rules.append(("channel", """CASE WHEN NOT (s.channel = ANY(:channels))
        THEN 'is not a channel of the platform (' || array_to_string(:channels, ', ') || ')' END"""))
    rules.append(("service_code", """CASE WHEN s.service_code NOT IN (
        SELECT service_code FROM department_services)
        THEN 'is not a service of department ' || :department || ' in the catalogue' END"""))
    if has_department:
        rules.append(("department", """CASE WHEN s.department IS DISTINCT FROM :department
            THEN 'is not ' || :department || ', the department this file is loaded for' END"""))
    for c in stats.columns():
        name, kind = c["name"], c["type"]
        if kind == "int":
            rules.append((name, f"""CASE WHEN s.{name} < 0 THEN 'is negative; counts cannot be below zero'
                WHEN s.{name} > {INT4_MAX} THEN 'is too large to be a count' END"""))
        elif kind == "numeric":
            rules.append((name, f"CASE WHEN s.{name} < 0 THEN 'is negative' END"))
        elif kind == "bool":
            words = ", ".join(f"'{w}'" for w in TRUE_WORDS + FALSE_WORDS)
            rules.append((name, f"""CASE WHEN s.{name} IS NOT NULL AND lower(trim(s.{name})) NOT IN ({words})
                THEN 'is not yes or no (true/false, 是/否)' END"""))

    def not_more(part: str, whole: str, what: str) -> tuple[str, str]:
        return (part, f"""CASE WHEN s.{part} > s.{whole}
            THEN 'is ' || s.{part} || ', more than the {what} (' || s.{whole} || ')' END""")

    rules.append(not_more("completed_on_time", "completed", "applications completed"))
    rules.append(not_more("completed_online", "completed", "applications completed"))
    rules.append(not_more("bad_reviews_rectified", "bad_reviews", "bad reviews"))
    levels = " + ".join(f"s.{c}" for c in _LEVELS)
    rules.append(("ratings", f"""CASE WHEN s.ratings <> {levels}
        THEN 'is ' || s.ratings || ' but the five rating levels add up to ' || ({levels}) END"""))
    bad = " + ".join(f"s.{c['name']}" for c in stats.rating_columns() if c.get("bad_review"))
    rules.append(("bad_reviews", f"""CASE WHEN s.bad_reviews <> {bad}
        THEN 'is ' || s.bad_reviews || ' but the dissatisfied and very dissatisfied ratings add up to ' || ({bad}) END"""))
    figures = " OR ".join(f"s.{c} IS NOT NULL" for c in stats.column_names()
                          if c not in ("service_code", "department", "period", "channel", "no_data", "note"))
    rules.append(("no_data", f"""CASE WHEN lower(trim(s.no_data)) IN ({", ".join(f"'{w}'" for w in TRUE_WORDS)})
        AND ({figures}) THEN 'says there is no data, but the row has figures; leave them empty for a month with no data' END"""))
    return rules


def _typed(name: str, kind: str) -> str:
    """The staged cell as the DataStore column wants it."""
    if kind == "bool":
        words = ", ".join(f"'{w}'" for w in TRUE_WORDS)
        return f"CASE WHEN s.{name} IS NULL THEN NULL ELSE lower(trim(s.{name})) IN ({words}) END"
    return f"s.{name}"


def read_header(stream: IO[bytes]) -> tuple[list[str], bytes]:
    """The CSV header (UTF-8, BOM allowed) and the raw bytes read for it."""
    first = stream.readline()
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the file is not UTF-8 text (save it as CSV UTF-8)")
    return next(csv.reader([text]), []), first


def records_to_csv(records: Sequence[Mapping[str, Any]]) -> tuple[list[str], io.BytesIO]:
    """JSON rows as a CSV stream the loader can COPY (header: the keys seen, in order)."""
    headers: list[str] = []
    for r in records:
        for key in r:
            if key not in headers:
                headers.append(key)
    out = io.StringIO()
    writer = csv.writer(out)
    for r in records:
        writer.writerow(["" if r.get(h) is None else
                         (json.dumps(r[h]) if isinstance(r[h], (dict, list)) else
                          str(r[h]).lower() if isinstance(r[h], bool) else r[h]) for h in headers])
    return headers, io.BytesIO(out.getvalue().encode("utf-8"))


def _copy(conn, table: str, columns: list[str], body: IO[bytes]) -> None:
    with conn.connection.dbapi_connection.cursor() as cur:
        cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH "
                        f"(FORMAT csv, FORCE_NULL ({', '.join(columns)}))", body)


def _copy_context(e) -> str:
    """Where PostgreSQL's COPY stopped, as a line of the department's file (line 1: the header)."""
    import re
    where = (getattr(getattr(e, "diag", None), "context", None) or "")
    found = re.search(r"line (\d+)", where)
    # COPY counts from the first row after the header, which the loader read itself.
    return f"line {int(found.group(1)) + 1} of the file" if found else "somewhere in the file"


def _stage(conn, stage_columns: list[str], absent: list[str], body: IO[bytes]) -> str:
    """COPY the rows into the typed staging table ``stage``; returns "typed" or "checked".

    Fast path: COPY straight into number columns. If any cell is not a
    number, PostgreSQL refuses the whole COPY; then the rows go into text
    columns first, every such cell is listed in ``type_problems`` with its
    line, and the rest is converted — so one bad cell costs a second pass,
    never the load.
    """
    import psycopg2
    kinds = {c["name"]: c["type"] for c in stats.columns()}
    typed_defs = ", ".join(f"{c} {STAGE_TYPES.get(kinds.get(c), 'text')}" for c in stage_columns + absent)
    start = body.tell()
    savepoint = conn.begin_nested()
    try:
        conn.execute(sa.text(f"""CREATE TEMP TABLE stage (
            line bigint GENERATED ALWAYS AS IDENTITY (START WITH 2), {typed_defs}) ON COMMIT DROP"""))
        _copy(conn, "stage", stage_columns, body)
        savepoint.commit()
        conn.execute(sa.text("""CREATE TEMP TABLE type_problems (
            line bigint, field text, value text, reason text) ON COMMIT DROP"""))
        return "typed"
    except sa.exc.DBAPIError as e:
        if not isinstance(e.orig, psycopg2.DataError):
            raise
        savepoint.rollback()
    except psycopg2.DataError:
        savepoint.rollback()
    body.seek(start)
    text_defs = ", ".join(f"{c} text" for c in stage_columns + absent)
    conn.execute(sa.text(f"""CREATE TEMP TABLE raw_stage (
        line bigint GENERATED ALWAYS AS IDENTITY (START WITH 2), {text_defs}) ON COMMIT DROP"""))
    savepoint = conn.begin_nested()
    try:
        _copy(conn, "raw_stage", stage_columns, body)
        savepoint.commit()
    except psycopg2.DataError as e:   # not UTF-8, or a row with more cells than the header
        savepoint.rollback()
        raise ValueError("the file could not be read as CSV UTF-8: "
                         + str(e).strip().splitlines()[0]
                         + " (" + _copy_context(e) + ")") from None
    checks, casts = [], []
    for c in stage_columns + absent:
        kind = kinds.get(c)
        if kind in TYPE_PROBLEMS:
            pattern, reason = TYPE_PROBLEMS[kind]
            checks.append(f"('{c}', r.{c}, CASE WHEN r.{c} !~ '{pattern}' THEN '{reason}' END)")
            casts.append(f"CASE WHEN r.{c} ~ '{pattern}' THEN trim(r.{c})::{STAGE_TYPES[kind]} END AS {c}")
        else:
            casts.append(f"r.{c}")
    conn.execute(sa.text(f"""
        CREATE TEMP TABLE stage ON COMMIT DROP AS SELECT r.line, {', '.join(casts)} FROM raw_stage r;
        CREATE TEMP TABLE type_problems ON COMMIT DROP AS
            SELECT r.line, p.field, p.value, p.reason FROM raw_stage r
            CROSS JOIN LATERAL (VALUES {', '.join(checks) or "(NULL, NULL, NULL)"}) AS p(field, value, reason)
            WHERE p.reason IS NOT NULL;"""))
    return "checked"


def load(conn, table: str, department: str, headers: list[str], body: IO[bytes],
         current_period: str) -> dict[str, Any]:
    """COPY ``body`` (CSV rows after the header, UTF-8) for a department, validate, merge.

    ``conn`` is a SQLAlchemy connection inside a transaction the caller
    commits; ``body`` must be seekable. Returns the load report: counts
    (``rows``, ``inserted``, ``updated``, ``unchanged``, ``rejected``),
    ``rejections`` (line, record, field, value, reason; line 2 is the first
    row after the header), ``ignored_columns`` and ``seconds`` per stage.
    """
    mapped, unknown = stats.map_headers(headers)
    missing = [c for c in ("service_code", "period", "channel") if c not in mapped]
    if missing:
        labels = {c["name"]: c["label"] for c in stats.columns()}
        raise ValueError("the file has no column for " + ", ".join(
            f"{labels[m]['zh_Hans_CN']} ({m})" for m in missing))
    seen: set[str] = set()
    stage_columns = []
    for i, name in enumerate(mapped):
        if name is None or name in seen:   # not ours, or a second column for the same field
            stage_columns.append(f"ignored_{i}")
        else:
            stage_columns.append(name)
            seen.add(name)
    ours = [c for c in stats.column_names() if c in seen]
    absent = [c for c in stats.column_names() if c not in seen]

    ensure_schema(conn)
    clock = [time.perf_counter()]
    seconds: dict[str, float] = {}

    def lap(stage: str) -> None:
        clock.append(time.perf_counter())
        seconds[stage] = round(clock[-1] - clock[-2], 3)

    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('govservice statistics ' || :d))"),
                 {"d": department})   # one load per department at a time
    path = _stage(conn, stage_columns, absent, body)
    lap("copy")
    conn.execute(sa.text(f"""
        ANALYZE stage;
        CREATE TEMP TABLE department_services ON COMMIT DROP AS
            SELECT service_code FROM {SCHEMA}.service WHERE department = :d;
        ANALYZE department_services;"""), {"d": department})
    params = {"department": department, "current_period": current_period,
              "channels": channel_vocabulary()}
    rules = _rules("department" in seen)
    first_problem = "COALESCE(" + ", ".join(sql for _, sql in rules) + ")"
    conn.execute(sa.text(f"""
        CREATE TEMP TABLE bad ON COMMIT DROP AS
            SELECT s.line FROM stage s WHERE {first_problem} IS NOT NULL
            UNION SELECT line FROM type_problems;
        CREATE TEMP TABLE superseded ON COMMIT DROP AS
            SELECT s.line, k.last_line FROM stage s JOIN (
                SELECT service_code, period, channel, max(line) AS last_line FROM stage
                WHERE line NOT IN (SELECT line FROM bad)
                GROUP BY service_code, period, channel HAVING count(*) > 1) k
              USING (service_code, period, channel)
            WHERE s.line <> k.last_line AND s.line NOT IN (SELECT line FROM bad);"""), params)
    total, bad_count, superseded_count = conn.execute(sa.text(
        "SELECT (SELECT count(*) FROM stage), (SELECT count(*) FROM bad), (SELECT count(*) FROM superseded)"
    )).one()
    rejections = _rejections(conn, rules, params) if bad_count or superseded_count else []
    lap("validate")
    merged = _merge(conn, table, ours, params)
    lap("merge")
    refreshed = refresh_aggregates(conn, table)
    lap("aggregates")
    good = total - bad_count - superseded_count
    return {
        "department": department,
        "rows": total,
        "inserted": merged["inserted"],
        "updated": merged["updated"],
        "unchanged": good - merged["inserted"] - merged["updated"],
        "rejected": bad_count + superseded_count,
        "rejections": rejections,
        "ignored_columns": unknown,
        "refreshed": refreshed,
        "seconds": seconds,
        "copy": path,
    }


def _rejections(conn, rules, params) -> list[dict[str, Any]]:
    """Every problem of the rejected rows (a row may have several), first lines first."""
    values = ",\n".join(f"('{field}', s.{field}::text, {sql})" for field, sql in rules)
    # The rules run again only on the rejected rows (MATERIALIZED keeps the
    # planner from running them over every row before joining).
    rows = conn.execute(sa.text(f"""
        WITH rejected AS MATERIALIZED (
            SELECT s.* FROM stage s WHERE s.line IN (SELECT line FROM bad)
            ORDER BY s.line LIMIT :n)
        SELECT * FROM (
            SELECT s.line, concat_ws('/', s.service_code, s.period, s.channel) AS record,
                   p.field, p.value, p.reason
            FROM rejected s
            CROSS JOIN LATERAL (VALUES {values}) AS p(field, value, reason)
            WHERE p.reason IS NOT NULL
            UNION ALL
            SELECT t.line, concat_ws('/', s.service_code, s.period, s.channel), t.field, t.value, t.reason
            FROM type_problems t JOIN stage s USING (line)
            UNION ALL
            SELECT s.line, concat_ws('/', s.service_code, s.period, s.channel), 'service_code', NULL,
                   'is repeated at line ' || p.last_line || '; the later row is used'
            FROM superseded p JOIN stage s USING (line)) problems
        ORDER BY line, field LIMIT :n"""), {**params, "n": MAX_REJECTIONS}).all()
    out, seen = [], set()
    for line, record, field, value, reason in rows:
        if (line, field, reason) not in seen:
            seen.add((line, field, reason))
            out.append({"line": line, "record": record, "field": field, "value": value, "reason": reason})
    return out


def _merge(conn, table: str, ours: list[str], params) -> dict[str, int]:
    """Insert the new keys, update the changed rows, leave identical rows alone.

    Two plain statements rather than INSERT ... ON CONFLICT: a speculative
    insert per row costs about twice a plain one, and most rows of a bulk
    load are new. The department's advisory lock (taken in ``load``) keeps
    two loads of the same department from racing for the same keys.
    """
    kinds = {c["name"]: c["type"] for c in stats.columns()}
    target = stats.column_names()
    select = [":department" if c == "department" else _typed(c, kinds[c]) if c in ours else "NULL"
              for c in target]
    key = stats.primary_key()
    on_key = " AND ".join("t.department = :department" if k == "department" else f"t.{k} = s.{k}"
                          for k in key)
    updates = [c for c in target if c not in key]
    good = "s.line NOT IN (SELECT line FROM bad) AND s.line NOT IN (SELECT line FROM superseded)"
    _create_affected(conn)
    new_values = ", ".join(select[target.index(c)] for c in updates)
    inserted = conn.execute(sa.text(f"""
        WITH added AS (
            INSERT INTO public."{table}" ({', '.join(target)}, _full_text)
            SELECT {', '.join(select)}, to_tsvector('simple', s.service_code || ' ' || :department)
            FROM stage s
            WHERE {good} AND NOT EXISTS (SELECT 1 FROM public."{table}" t WHERE {on_key})
            RETURNING service_code, period)
        , noted AS (INSERT INTO affected SELECT DISTINCT service_code, period, :department FROM added)
        SELECT count(*) FROM added"""), params).scalar()
    updated = conn.execute(sa.text(f"""
        WITH changed AS (
            UPDATE public."{table}" t SET ({', '.join(updates)}) = ({new_values})
            FROM stage s
            WHERE {good} AND {on_key}
              AND ({', '.join(f't.{c}' for c in updates)}) IS DISTINCT FROM ({new_values})
            RETURNING t.service_code, t.period)
        , noted AS (INSERT INTO affected SELECT DISTINCT service_code, period, :department FROM changed)
        SELECT count(*) FROM changed"""), params).scalar()
    return {"inserted": inserted, "updated": updated}


def _create_affected(conn) -> None:
    conn.execute(sa.text("""
        CREATE TEMP TABLE IF NOT EXISTS affected (service_code text, period text, department text)
        ON COMMIT DROP"""))


def refresh_aggregates(conn, table: str, everything: bool = False) -> dict[str, int]:
    """Recompute the KPI sums for the (service, month)s and (department, month)s a load touched.

    With ``everything``, rebuild them from all the rows (after a restore, or
    when the sums list changed).
    """
    sums = ", ".join(f"{sql} AS {name}" for name, sql in SUMS.items())
    names = ", ".join(SUMS)
    if everything:
        _create_affected(conn)
        conn.execute(sa.text(f"""
            DELETE FROM affected;
            INSERT INTO affected SELECT DISTINCT service_code, period, department FROM public."{table}";
            TRUNCATE {SCHEMA}.service_month, {SCHEMA}.department_month;"""))
    else:
        _create_affected(conn)
    conn.execute(sa.text(f"""
        ANALYZE affected;
        DELETE FROM {SCHEMA}.service_month m USING (SELECT DISTINCT department, service_code, period FROM affected) a
            WHERE m.department = a.department AND m.service_code = a.service_code AND m.period = a.period;
        INSERT INTO {SCHEMA}.service_month (service_code, period, department, rows_reported, {names})
            SELECT r.service_code, r.period, r.department, count(*), {sums}
            FROM public."{table}" r
            JOIN (SELECT DISTINCT department, service_code, period FROM affected) a
              USING (department, service_code, period)
            GROUP BY r.department, r.service_code, r.period;
        DELETE FROM {SCHEMA}.department_month m USING (SELECT DISTINCT department, period FROM affected) a
            WHERE m.department = a.department AND m.period = a.period;
        INSERT INTO {SCHEMA}.department_month (department, period, channel, rows_reported, {names})
            SELECT r.department, r.period, r.channel, count(*), {sums}
            FROM public."{table}" r
            JOIN (SELECT DISTINCT department, period FROM affected) a USING (department, period)
            GROUP BY r.department, r.period, r.channel;"""))
    touched = conn.execute(sa.text(
        "SELECT count(DISTINCT (department, service_code, period)), "
        "count(DISTINCT (department, service_code)) FROM affected")).one()
    return {"service_months": touched[0], "services": touched[1]}


def affected_services(conn) -> list[tuple[str, str]]:
    """(department, service code) of every service a load changed figures of."""
    return [tuple(r) for r in conn.execute(sa.text("SELECT DISTINCT department, service_code FROM affected"))]


def channel_vocabulary() -> list[str]:
    from . import schema
    channels = schema.field("channels")
    sub = schema.vocabulary_field(channels)
    return [c["value"] for c in schema.choices(sub)]


# ---------------------------------------------------------------- KPIs

def _number(value: Any) -> Any:
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


def _grouped_query(source: str, sums: str, group_by: Sequence[str], filters: Mapping[str, Any],
                   period_select: str | None = None) -> tuple[str, dict[str, Any]]:
    """SELECT the sums from a source (aliases d: the catalogue side, r: the figures) per group."""
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
    sql = (f"SELECT {', '.join(select + [sums])} FROM {source} WHERE {' AND '.join(where)}"
           + (f" GROUP BY {', '.join(group)}" if group else ""))
    return sql, params


def kpi_sums(conn, table: str, *, group_by: Sequence[str], period_type: str,
             period_from: str | None, period_to: str | None, **filters: Any) -> list[dict[str, Any]]:
    """The statistics sums per group (and period bucket), from the cheapest source.

    Departments and the platform read the department x month x channel sums;
    services, themes and life events read the service x month sums joined
    with the catalogue; a channel breakdown of services reads the rows.
    ``filters``: department, service, theme, life_event, channel.
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
        _bucket_sql(period_type, "r.period") if "period" in group_by else None)
    return [{k: _number(v) for k, v in row.items()} for row in conn.execute(sa.text(sql), params).mappings()]


def catalogue_sums(conn, *, group_by: Sequence[str], **filters: Any) -> list[dict[str, Any]]:
    """The catalogue KPIs' sums (active services as they are now) per group."""
    sums = ", ".join(f"{sql} AS {name}" for name, sql in CATALOGUE_SUMS.items())
    sql, params = _grouped_query(f"{SCHEMA}.service d", sums, group_by, filters)
    sql = sql.replace("WHERE TRUE", "WHERE d.status = 'active'", 1)
    return [{k: _number(v) for k, v in row.items()} for row in conn.execute(sa.text(sql), params).mappings()]


def latest_period(conn, department: str | None = None) -> str | None:
    sql = f"SELECT max(period) FROM {SCHEMA}.department_month"
    if department:
        return conn.execute(sa.text(sql + " WHERE department = :d"), {"d": department}).scalar()
    return conn.execute(sa.text(sql)).scalar()


# ---------------------------------------------------------------- per-service summaries

SUMMARY_KPIS = ("on_time_rate", "digital_take_up", "satisfaction_rate", "volume")


def refresh_summaries(conn, services: Sequence[tuple[str, str]] | None = None) -> list[str]:
    """Recompute the latest-12-months summary of these (department, code)s, or of all.

    Returns the package ids whose summary changed, for reindexing.
    """
    conn.execute(sa.text("CREATE TEMP TABLE IF NOT EXISTS summary_of (department text, service_code text) "
                         "ON COMMIT DROP; DELETE FROM summary_of"))
    if services is None:
        conn.execute(sa.text(f"INSERT INTO summary_of SELECT DISTINCT department, service_code "
                             f"FROM {SCHEMA}.service_month"))
    elif services:
        conn.execute(sa.text("INSERT INTO summary_of VALUES (:d, :c)"),
                     [{"d": d, "c": c} for d, c in services])
    rows = conn.execute(sa.text(f"""
        WITH latest AS (
            SELECT m.department, m.service_code, max(m.period) AS period_to
            FROM {SCHEMA}.service_month m JOIN summary_of USING (department, service_code)
            GROUP BY m.department, m.service_code)
        SELECT m.department, m.service_code, min(m.period) AS period_from, l.period_to,
               {', '.join(f'sum(m.{n}) AS {n}' for n in SUMS)}
        FROM {SCHEMA}.service_month m JOIN latest l USING (department, service_code)
        WHERE m.period > to_char(to_date(l.period_to, 'YYYY-MM') - interval '12 months', 'YYYY-MM')
        GROUP BY m.department, m.service_code, l.period_to"""), {}).mappings().all()
    summaries = []
    for row in rows:
        sums = {k: _number(v) for k, v in row.items()}
        values = stats.kpi_values(sums, SUMMARY_KPIS)
        summaries.append({"service_code": row["service_code"], "department": row["department"],
                          "period_from": row["period_from"], "period_to": row["period_to"],
                          **{k: values[k]["value"] for k in SUMMARY_KPIS}})
    if summaries:
        conn.execute(sa.text(f"""
            INSERT INTO {SCHEMA}.service_summary (service_code, department, period_from, period_to,
                on_time_rate, digital_take_up, satisfaction_rate, volume, updated_at)
            VALUES (:service_code, :department, :period_from, :period_to,
                :on_time_rate, :digital_take_up, :satisfaction_rate, :volume, now())
            ON CONFLICT (department, service_code) DO UPDATE SET
                period_from = EXCLUDED.period_from, period_to = EXCLUDED.period_to,
                on_time_rate = EXCLUDED.on_time_rate, digital_take_up = EXCLUDED.digital_take_up,
                satisfaction_rate = EXCLUDED.satisfaction_rate, volume = EXCLUDED.volume,
                updated_at = now()"""), summaries)
    return [r[0] for r in conn.execute(sa.text(f"""
        SELECT DISTINCT d.package_id FROM {SCHEMA}.service d JOIN summary_of USING (department, service_code)"""))]


def summary(conn, department: str, service_code: str) -> dict[str, Any] | None:
    row = conn.execute(sa.text(f"""
        SELECT period_from, period_to, on_time_rate, digital_take_up, satisfaction_rate, volume
        FROM {SCHEMA}.service_summary WHERE service_code = :c AND department = :d"""),
        {"c": service_code, "d": department}).mappings().first()
    return {k: _number(v) for k, v in row.items()} if row else None


def service_trend(conn, table: str, department: str, service_code: str,
                  months: int = 36) -> list[dict[str, Any]]:
    """A service's monthly volume, on-time rate and satisfaction, oldest first."""
    rows = conn.execute(sa.text(f"""
        SELECT period, {', '.join(SUMS)} FROM {SCHEMA}.service_month
        WHERE service_code = :c AND department = :d ORDER BY period DESC LIMIT :n"""),
        {"c": service_code, "d": department, "n": months}).mappings().all()
    out = []
    for row in reversed(rows):
        sums = {k: _number(v) for k, v in row.items()}
        values = stats.kpi_values(sums, ("volume", "on_time_rate", "satisfaction_rate", "digital_take_up"))
        out.append({"period": row["period"], **{k: v["value"] for k, v in values.items()}})
    return out
