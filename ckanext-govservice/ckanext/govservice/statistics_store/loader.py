"""Loading a department's statistics file, and keeping the KPI sums in step.

``load``: the file is COPYed into a temporary staging table, every rule of
statistics.yaml is checked in one SQL pass, and the good rows are merged into
the DataStore table: changed rows updated, new keys inserted, an identical row
left alone (a re-sent row replaces the old one, never duplicates it); the bad
ones come back with line, record, field and reason. The KPI sums are then
brought up to date from the staged rows themselves (only months where a
published row changed are recomputed from the rows). All in one transaction:
a load either lands its good rows and its sums together or changes nothing.
Where the time goes, and what each shortcut saves, is in bench/README.md.

Also here: everything else that writes the KPI engine's tables (the services
synced from the catalogue, a rebuild of every sum, the per-service summaries).
"""
from __future__ import annotations

import csv
import io
import json
import time
from typing import IO, Any, Iterable, Mapping, NamedTuple, Sequence

import sqlalchemy as sa

from ..core import kpis as stats
from .queries import plain_number
from .tables import RATING_LEVELS, SCHEMA, SUMMARY_KPIS, SUMS

INT_RE = r"^\s*-?\d{1,18}\s*$"   # bigint; above 32 bits a rule says "too large"
NUMBER_RE = r"^\s*-?\d{1,9}(\.\d+)?\s*$"
TRUE_WORDS = ("true", "t", "yes", "y", "1", "是")
FALSE_WORDS = ("false", "f", "no", "n", "0", "否")
MAX_REJECTIONS = 1000   # reported one by one; beyond that, counted


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


# The fast path stages counts as 32-bit integers, as the table keeps them (a
# larger one fails the COPY and takes the checked path, which stages bigint).
STAGE_TYPES = {"int": "int", "numeric": "numeric", "text": "text", "bool": "text"}
CHECKED_TYPES = {**STAGE_TYPES, "int": "bigint"}
TYPE_PROBLEMS = {"int": (INT_RE, "is not a whole number"), "numeric": (NUMBER_RE, "is not a number")}
INT4_MAX = 2_147_483_647


class Rule(NamedTuple):
    """A statistics rule over the typed staging row ``s``: when ``condition``
    (SQL) is true, ``field`` is wrong for ``reason`` (an SQL text expression).
    ``bound`` ("<", "0") marks a rule that is just ``s.field < 0``, so that
    one LEAST() can check a whole row of counts at once; ``passes_when``
    lets the common case skip an expensive condition (a regular expression)."""
    field: str
    condition: str
    reason: str
    bound: tuple[str, str] | None = None
    passes_when: str | None = None   # a cheap SQL test that, when true, proves the rule holds


def _rules(has_department: bool) -> list[Rule]:
    """Every rule of a statistics row.

    A row is rejected when any condition is true; the reasons are worked out
    only for the rejected rows. Cells that were not numbers at all are caught
    before these run (see ``_stage``); here a number column is a number or NULL.
    """
    period_format = r"s.period ~ '^\d{4}-(0[1-9]|1[0-2])$'"
    # Nearly every row's month is one of the last fifty years': a hash lookup
    # (PostgreSQL hashes a long constant array) proves both period rules.
    recent_month = "s.period = ANY(:recent_months)"
    rules: list[Rule] = []
    for name in ("service_code", "period", "channel"):
        rules.append(Rule(name, f"s.{name} IS NULL", "'is missing'"))
    rules += [
        Rule("period", f"NOT {period_format}", "'is not a month written as YYYY-MM'",
             passes_when=recent_month),
        Rule("period", f"s.period > :current_period AND {period_format}",
             "'is in the future (this month is ' || :current_period || ')'", passes_when=recent_month),
        Rule("channel", "NOT (s.channel = ANY(:channels))",
             "'is not a channel of the platform (' || array_to_string(:channels, ', ') || ')'"),
        Rule("service_code", "s.service_code NOT IN (SELECT service_code FROM department_services)",
             "'is not a service of department ' || :department || ' in the catalogue'"),
    ]
    if has_department:
        rules.append(Rule("department", "s.department IS DISTINCT FROM :department",
                          "'is not ' || :department || ', the department this file is loaded for'"))
    for c in stats.columns():
        name, kind = c["name"], c["type"]
        if kind == "int":
            rules.append(Rule(name, f"s.{name} < 0", "'is negative; counts cannot be below zero'", ("<", "0")))
            rules.append(Rule(name, f"s.{name} > {INT4_MAX}", "'is too large to be a count'",
                              (">", str(INT4_MAX))))
        elif kind == "numeric":
            rules.append(Rule(name, f"s.{name} < 0", "'is negative'"))   # not with the counts: numeric
        elif kind == "bool":
            words = ", ".join(f"'{w}'" for w in TRUE_WORDS + FALSE_WORDS)
            rules.append(Rule(name, f"lower(trim(s.{name})) NOT IN ({words})",
                              "'is not yes or no (true/false, 是/否)'"))

    def not_more(part: str, whole: str, what: str) -> Rule:
        return Rule(part, f"s.{part} > s.{whole}",
                    f"'is ' || s.{part} || ', more than the {what} (' || s.{whole} || ')'")

    whole_label = {c["name"]: stats.label(c, "en").lower() for c in stats.columns()}
    for c in stats.columns():   # statistics.yaml's at_most: a part never above its whole
        if c.get("at_most"):
            rules.append(not_more(c["name"], c["at_most"], whole_label[c["at_most"]]))
    levels = " + ".join(f"s.{c}" for c in RATING_LEVELS)
    rules.append(Rule("ratings", f"s.ratings <> {levels}",
                      f"'is ' || s.ratings || ' but the five rating levels add up to ' || ({levels})"))
    bad = " + ".join(f"s.{c['name']}" for c in stats.rating_columns() if c.get("bad_review"))
    rules.append(Rule("bad_reviews", f"s.bad_reviews <> {bad}",
                      f"'is ' || s.bad_reviews || ' but the dissatisfied and very dissatisfied ratings add up to ' || ({bad})"))
    figures = " OR ".join(f"s.{c} IS NOT NULL" for c in stats.column_names()
                          if c not in ("service_code", "department", "period", "channel", "no_data", "note"))
    said_no_data = ", ".join(f"'{w}'" for w in TRUE_WORDS)
    rules.append(Rule("no_data", f"lower(trim(s.no_data)) IN ({said_no_data}) AND ({figures})",
                      "'says there is no data, but the row has figures; leave them empty for a month with no data'"))
    return rules


def _any_problem(rules: list[Rule]) -> str:
    """SQL true when a staged row breaks any rule (NULL counts as no problem).

    The bound rules of a row's counts fold into one LEAST()/GREATEST() each
    (they skip NULLs as the separate comparisons do): a good row is checked
    with a handful of expressions instead of some fifty.
    """
    bounded: dict[tuple[str, str], list[str]] = {}
    shortcut: dict[str, list[str]] = {}
    conditions = []
    for rule in rules:
        if rule.bound:
            bounded.setdefault(rule.bound, []).append(f"s.{rule.field}")
        elif rule.passes_when:
            shortcut.setdefault(rule.passes_when, []).append(f"({rule.condition})")
        else:
            conditions.append(rule.condition)
    for (op, limit), columns in bounded.items():
        conditions.append(f"{'LEAST' if op == '<' else 'GREATEST'}({', '.join(columns)}) {op} {limit}")
    for passes, checks in shortcut.items():
        conditions.append(f"NOT ({passes}) AND ({' OR '.join(checks)})")
    return " OR ".join(f"({c})" for c in conditions)


def months_up_to(current_period: str, years: int = 50) -> list[str]:
    """Every month of the ``years`` years up to ``current_period`` (YYYY-MM), as text."""
    year, month = map(int, current_period.split("-"))
    count = years * 12
    first = year * 12 + month - 1 - (count - 1)
    return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(first, first + count)]


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


def _copy(conn, table: str, columns: list[str], body: IO[bytes]) -> int:
    """COPY the CSV rows into ``table``; returns how many rows."""
    with conn.connection.dbapi_connection.cursor() as cur:
        cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH "
                        f"(FORMAT csv, FORCE_NULL ({', '.join(columns)}))", body)
        return cur.rowcount


def _copy_context(e) -> str:
    """Where PostgreSQL's COPY stopped, as a line of the department's file (line 1: the header)."""
    import re
    where = (getattr(getattr(e, "diag", None), "context", None) or "")
    found = re.search(r"line (\d+)", where)
    # COPY counts from the first row after the header, which the loader read itself.
    return f"line {int(found.group(1)) + 1} of the file" if found else "somewhere in the file"


def _stage(conn, stage_columns: list[str], absent: list[str], body: IO[bytes]) -> tuple[str, int]:
    """COPY the rows into the typed staging table ``stage``; returns "typed"
    or "checked" (see below) and the number of rows.

    Fast path: COPY straight into number columns. If any cell is not a
    number, PostgreSQL refuses the whole COPY; then the rows go into text
    columns first, every such cell is listed in ``type_problems`` with its
    line, and the rest is converted — so one bad cell costs a second pass,
    never the load.

    ``stage`` has no line number column (numbering every row costs a tenth of
    the COPY): its rows lie in the file's order, so a row is known by its
    ``ctid`` and its line is worked out, for the rejected rows only, by
    ``LINES``.
    """
    import psycopg2
    kinds = {c["name"]: c["type"] for c in stats.columns()}
    typed_defs = ", ".join(f"{c} {STAGE_TYPES.get(kinds.get(c), 'text')}" for c in stage_columns + absent)
    start = body.tell()
    savepoint = conn.begin_nested()
    try:
        conn.execute(sa.text(f"CREATE TEMP TABLE stage ({typed_defs}) ON COMMIT DROP"))
        rows = _copy(conn, "stage", stage_columns, body)
        savepoint.commit()
        conn.execute(sa.text("""CREATE TEMP TABLE type_problems (
            line bigint, field text, value text, reason text) ON COMMIT DROP"""))
        return "typed", rows
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
        rows = _copy(conn, "raw_stage", stage_columns, body)
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
            casts.append(f"CASE WHEN r.{c} ~ '{pattern}' THEN trim(r.{c})::{CHECKED_TYPES[kind]} END AS {c}")
        else:
            casts.append(f"r.{c}")
    conn.execute(sa.text(f"""
        CREATE TEMP TABLE stage ON COMMIT DROP AS SELECT {', '.join(casts)} FROM raw_stage r ORDER BY r.line;
        CREATE TEMP TABLE type_problems ON COMMIT DROP AS
            SELECT r.line, p.field, p.value, p.reason FROM raw_stage r
            CROSS JOIN LATERAL (VALUES {', '.join(checks) or "(NULL, NULL, NULL)"}) AS p(field, value, reason)
            WHERE p.reason IS NOT NULL;"""))
    return "checked", rows


WRITER_SETTING = "govservice.statistics_writer"
GUARD_TRIGGER = "govservice_loader_only"


def write_as_the_loader(conn) -> None:
    """Let this transaction (and only it: the setting ends with it) past the
    table's guard trigger, as a load's own transaction is."""
    conn.execute(sa.text("SELECT set_config(:s, 'loader', true)"), {"s": WRITER_SETTING})


def allow_replacing(conn) -> None:
    """Let this transaction (only it) drop or reshape the statistics table on
    purpose, past the database's DDL guard (database_guard.sql): a restore or
    a test's reset of the whole DataStore. Nothing in the platform's normal
    work drops it."""
    conn.execute(sa.text("SELECT set_config(:s, 'replace', true)"), {"s": WRITER_SETTING})


def guard_table(conn, table: str) -> None:
    """Have the database itself refuse INSERT, UPDATE, DELETE and TRUNCATE on the
    statistics table from any transaction but a load's (which sets
    WRITER_SETTING for itself only: ``set_config(..., true)`` ends with it).

    The CKAN-side guards (auth and the chained DataStore and resource actions)
    stop the API's doors; this one stops whatever else holds CKAN's write
    connection (another plugin, a DataStore action reached round them). The
    table is the DataStore's, made at run time, so its trigger is put on here,
    by the first load that finds it missing. DROP, ALTER and rewrites of a
    table carrying this trigger are refused by the superuser's event triggers
    (database_guard.sql, installed by the stack's and the containers' set-up).
    """
    present = conn.execute(sa.text(
        "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(:t) AND tgname = :g)"),
        {"t": f'public."{table}"', "g": GUARD_TRIGGER}).scalar()
    if present:
        return
    conn.execute(sa.text(f"""
        CREATE OR REPLACE FUNCTION {SCHEMA}.statistics_loader_only() RETURNS trigger
        LANGUAGE plpgsql AS $guard$
        BEGIN
            IF coalesce(current_setting('{WRITER_SETTING}', true), '') <> 'loader' THEN
                RAISE EXCEPTION 'the statistics table % is written only by govservice_statistics_load: % refused',
                    TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN NULL;
        END $guard$;
        CREATE TRIGGER {GUARD_TRIGGER} BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE
            ON public."{table}" FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.statistics_loader_only();"""))


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

    clock = [time.perf_counter()]
    seconds: dict[str, float] = {}

    def lap(stage: str) -> None:
        clock.append(time.perf_counter())
        seconds[stage] = round(clock[-1] - clock[-2], 3)

    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('govservice statistics ' || :d))"),
                 {"d": department})   # one load per department at a time
    guard_table(conn, table)
    write_as_the_loader(conn)
    path, total = _stage(conn, stage_columns, absent, body)
    lap("copy")
    conn.execute(sa.text(f"""
        CREATE TEMP TABLE department_services ON COMMIT DROP AS
            SELECT service_code, to_tsvector('simple', service_code || ' ' || department) AS full_text
            FROM {SCHEMA}.service WHERE department = :d;
        ANALYZE department_services;"""), {"d": department})
    params = {"department": department, "current_period": current_period,
              "channels": channel_vocabulary(), "recent_months": months_up_to(current_period)}
    rules = _rules("department" in seen)
    conn.execute(sa.text(f"""
        CREATE TEMP TABLE bad ON COMMIT DROP AS
            SELECT s.ctid AS rid FROM stage s WHERE {_any_problem(rules)}
            {f"UNION SELECT n.rid FROM ({LINES}) n WHERE n.line IN (SELECT line FROM type_problems)"
             if path == "checked" else ""};
        CREATE TEMP TABLE superseded (rid tid, last_rid tid) ON COMMIT DROP;"""), params)
    lap("validate")
    bad_count = conn.execute(sa.text("SELECT count(*) FROM bad")).scalar()
    merged = _merge_each_key_once(conn, table, ours, params, bad_count > 0)
    lap("merge")
    superseded_count = conn.execute(sa.text("SELECT count(*) FROM superseded")).scalar()
    rejections = _rejections(conn, rules, params) if bad_count or superseded_count else []
    lap("report")
    refreshed = _fold_into_sums(conn, table, merged, params)
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
    values = ",\n".join(f"('{r.field}', s.{r.field}::text, CASE WHEN {r.condition} THEN {r.reason} END)"
                        for r in rules)
    # The rules run again only on the rejected rows (MATERIALIZED keeps the
    # planner from running them over every row before joining).
    rows = conn.execute(sa.text(f"""
        WITH lines AS MATERIALIZED ({LINES}),
        rejected AS MATERIALIZED (
            SELECT s.*, n.line FROM stage s JOIN lines n ON n.rid = s.ctid
            WHERE s.ctid IN (SELECT rid FROM bad)
            ORDER BY n.line LIMIT :n)
        SELECT * FROM (
            SELECT s.line, concat_ws('/', s.service_code, s.period, s.channel) AS record,
                   p.field, p.value, p.reason
            FROM rejected s
            CROSS JOIN LATERAL (VALUES {values}) AS p(field, value, reason)
            WHERE p.reason IS NOT NULL
            UNION ALL
            SELECT t.line, concat_ws('/', s.service_code, s.period, s.channel), t.field, t.value, t.reason
            FROM type_problems t JOIN lines n ON n.line = t.line JOIN stage s ON s.ctid = n.rid
            UNION ALL
            SELECT n.line, concat_ws('/', s.service_code, s.period, s.channel), 'service_code', NULL,
                   'is repeated at line ' || later.line || '; the later row is used'
            FROM superseded p JOIN lines n ON n.rid = p.rid JOIN lines later ON later.rid = p.last_rid
            JOIN stage s ON s.ctid = p.rid) problems
        ORDER BY line, field LIMIT :n"""), {**params, "n": MAX_REJECTIONS}).all()
    out, seen = [], set()
    for line, record, field, value, reason in rows:
        if (line, field, reason) not in seen:
            seen.add((line, field, reason))
            out.append({"line": line, "record": record, "field": field, "value": value, "reason": reason})
    return out


# A staged row's line in the file (line 1 is the header), by its place in ``stage``.
LINES = "SELECT ctid AS rid, row_number() OVER (ORDER BY ctid) + 1 AS line FROM stage"


def _good(any_bad: bool, any_superseded: bool) -> str:
    """SQL telling the staged rows ``s`` to land (a test per row saved when nothing is set aside)."""
    tests = (["s.ctid NOT IN (SELECT rid FROM bad)"] if any_bad else []) + (
        ["s.ctid NOT IN (SELECT rid FROM superseded)"] if any_superseded else [])
    return " AND ".join(tests) or "TRUE"


class _RepeatedKey(Exception):
    """The file gives a key more than once (found while merging)."""


def _merge_each_key_once(conn, table: str, ours: list[str], params, any_bad: bool) -> dict[str, Any]:
    """Merge as if every key were given once; if one was not, set aside all
    but the last row of each repeated key and merge again.

    Looking for repeats costs a grouping pass over the whole file and files
    rarely have any, while the merge notices them for nothing: a new key given
    twice breaks the table's unique key, a published one matches the same
    row twice. Only then is the merge undone and redone.
    """
    import psycopg2.errors
    attempt = conn.begin_nested()
    try:
        merged = _merge(conn, table, ours, params, _good(any_bad, False), watch_repeats=True)
        attempt.commit()
        return merged
    except _RepeatedKey:
        attempt.rollback()
    except sa.exc.IntegrityError as e:
        if not isinstance(e.orig, psycopg2.errors.UniqueViolation):
            raise
        attempt.rollback()
    conn.execute(sa.text("""
        INSERT INTO superseded
            SELECT s.ctid, k.last_rid FROM stage s JOIN (
                SELECT service_code, period, channel, max(ctid) AS last_rid FROM stage
                WHERE ctid NOT IN (SELECT rid FROM bad)
                GROUP BY service_code, period, channel HAVING count(*) > 1) k
              USING (service_code, period, channel)
            WHERE s.ctid <> k.last_rid AND s.ctid NOT IN (SELECT rid FROM bad)"""))
    return _merge(conn, table, ours, params, _good(any_bad, True), watch_repeats=False)


def _merge(conn, table: str, ours: list[str], params, good: str, watch_repeats: bool) -> dict[str, Any]:
    """Update the changed rows, insert the new keys, leave identical rows alone.

    Plain statements rather than INSERT ... ON CONFLICT: a speculative insert
    per row costs about twice a plain one, and most rows of a bulk load are
    new. A department with no rows yet (its first load) skips looking for
    existing keys altogether. The department's advisory lock (taken in
    ``load``) keeps two loads of the same department from racing for the
    same keys. With ``watch_repeats``, a published key matched by two of the
    file's rows raises ``_RepeatedKey`` (a new one breaks the unique key).

    Returns the counts and, for the KPI sums, ``new_rows`` (the SQL telling
    the staged rows that were inserted); leaves the temporary table
    ``changed_rows`` (the updated rows' service and month) when the
    department had rows already.
    """
    kinds = {c["name"]: c["type"] for c in stats.columns()}
    target = stats.column_names()
    select = [":department" if c == "department" else _typed(c, kinds[c]) if c in ours else "NULL"
              for c in target]
    key = stats.primary_key()
    on_key = " AND ".join("t.department = :department" if k == "department" else f"t.{k} = s.{k}"
                          for k in key)
    updates = [c for c in target if c not in key]
    new_values = ", ".join(select[target.index(c)] for c in updates)
    fresh = not conn.execute(sa.text(
        f'SELECT EXISTS (SELECT 1 FROM public."{table}" WHERE department = :department)'), params).scalar()
    updated = 0
    new_rows = good
    if not fresh:
        new_rows += " AND s.ctid NOT IN (SELECT rid FROM matched)"
        conn.execute(sa.text(f"""
            CREATE TEMP TABLE matched (rid tid, _id int) ON COMMIT DROP;
            CREATE TEMP TABLE to_update (rid tid, _id int) ON COMMIT DROP;
            CREATE TEMP TABLE changed_rows (service_code text, period text) ON COMMIT DROP;
            WITH found AS MATERIALIZED (
                SELECT s.ctid AS rid, t._id,
                       ({', '.join(f't.{c}' for c in updates)}) IS DISTINCT FROM ({new_values}) AS changed
                FROM stage s JOIN public."{table}" t ON {on_key}
                WHERE {good})
            , differing AS (INSERT INTO to_update SELECT rid, _id FROM found WHERE changed)
            INSERT INTO matched SELECT rid, _id FROM found;
            ANALYZE to_update"""), params)
        if watch_repeats and conn.execute(sa.text(
                "SELECT EXISTS (SELECT FROM matched GROUP BY _id HAVING count(*) > 1)")).scalar():
            raise _RepeatedKey()
        updated = conn.execute(sa.text(f"""
            WITH changed AS (
                UPDATE public."{table}" t SET ({', '.join(updates)}) = ({new_values})
                FROM stage s JOIN to_update u ON u.rid = s.ctid
                WHERE t._id = u._id
                RETURNING t.service_code, t.period)
            , noted AS (INSERT INTO changed_rows SELECT service_code, period FROM changed)
            SELECT count(*) FROM changed"""), params).scalar()
    inserted = conn.execute(sa.text(f"""
        INSERT INTO public."{table}" ({', '.join(target)}, _full_text)
        SELECT {', '.join(select)}, d.full_text
        FROM stage s JOIN department_services d ON d.service_code = s.service_code
        WHERE {new_rows}"""), params).rowcount
    return {"inserted": inserted, "updated": updated, "fresh": fresh, "new_rows": new_rows}


def _fold_into_sums(conn, table: str, merged: Mapping[str, Any], params) -> dict[str, int]:
    """Bring the KPI sums up to date after ``_merge``.

    New rows are added to their month's sums straight from the staging table,
    in one pass for both the service and the channel sums (no re-reading of
    the published rows); a (service, month) or a department's month where a
    published row changed is recomputed from the rows instead, since a figure
    that became empty cannot be subtracted. Sums add up "no data" aware:
    empty plus empty stays empty.
    """
    sums = ", ".join(f"{sql} AS {name}" for name, sql in SUMS.items())
    names = ", ".join(SUMS)
    _create_affected(conn)
    if merged["fresh"]:   # no rows published yet: whatever sums the department has are stale
        conn.execute(sa.text(f"""
            DELETE FROM {SCHEMA}.service_month WHERE department = :department;
            DELETE FROM {SCHEMA}.department_month WHERE department = :department"""), params)
    keep_out = {"service": "", "channel": ""}   # months recomputed below, not added to
    if merged["updated"]:
        conn.execute(sa.text("""
            CREATE TEMP TABLE recompute ON COMMIT DROP AS
                SELECT DISTINCT service_code, period, CAST(:department AS text) AS department FROM changed_rows;
            ANALYZE recompute"""), params)
        keep_out = {"service": "AND (service_code, period) NOT IN (SELECT service_code, period FROM recompute)",
                    "channel": "AND period NOT IN (SELECT period FROM recompute)"}

    def upsert(key: str) -> str:
        if merged["fresh"]:
            return ""
        added = ", ".join(f"{n} = COALESCE(m.{n} + EXCLUDED.{n}, m.{n}, EXCLUDED.{n})" for n in SUMS)
        return (f"ON CONFLICT ({key}) DO UPDATE SET "
                f"rows_reported = m.rows_reported + EXCLUDED.rows_reported, {added}")

    if merged["inserted"]:
        conn.execute(sa.text(f"""
            WITH added AS MATERIALIZED (
                SELECT s.service_code, s.period, s.channel, GROUPING(s.service_code) AS per_channel,
                       count(*) AS rows_reported, {sums}
                FROM stage s WHERE {merged["new_rows"]}
                GROUP BY GROUPING SETS ((s.service_code, s.period), (s.period, s.channel)))
            , per_service AS (
                INSERT INTO {SCHEMA}.service_month AS m (service_code, period, department, rows_reported, {names})
                SELECT service_code, period, :department, rows_reported, {names} FROM added
                WHERE per_channel = 0 {keep_out["service"]}
                {upsert("department, service_code, period")})
            , per_channel AS (
                INSERT INTO {SCHEMA}.department_month AS m (department, period, channel, rows_reported, {names})
                SELECT :department, period, channel, rows_reported, {names} FROM added
                WHERE per_channel = 1 {keep_out["channel"]}
                {upsert("department, period, channel")})
            INSERT INTO affected SELECT service_code, period, :department FROM added WHERE per_channel = 0"""),
            params)
    if merged["updated"]:
        _recompute(conn, table, "recompute")
        conn.execute(sa.text("""
            INSERT INTO affected SELECT * FROM recompute r
            WHERE NOT EXISTS (SELECT 1 FROM affected a
                              WHERE a.service_code = r.service_code AND a.period = r.period)"""))
    return _touched(conn)


def _create_affected(conn) -> None:
    conn.execute(sa.text("""
        CREATE TEMP TABLE IF NOT EXISTS affected (service_code text, period text, department text)
        ON COMMIT DROP"""))


def _touched(conn) -> dict[str, int]:
    """How many (service, month)s and services ``affected`` holds (each once)."""
    touched = conn.execute(sa.text(
        "SELECT count(*), count(DISTINCT department || ' ' || service_code) FROM affected")).one()
    return {"service_months": touched[0], "services": touched[1]}


def _recompute(conn, table: str, months: str) -> None:
    """Recompute from the published rows the sums of the (service, month)s
    listed in the temporary table ``months``, and of their departments' months."""
    sums = ", ".join(f"{sql} AS {name}" for name, sql in SUMS.items())
    names = ", ".join(SUMS)
    conn.execute(sa.text(f"""
        ANALYZE {months};
        DELETE FROM {SCHEMA}.service_month m USING (SELECT DISTINCT department, service_code, period FROM {months}) a
            WHERE m.department = a.department AND m.service_code = a.service_code AND m.period = a.period;
        INSERT INTO {SCHEMA}.service_month (service_code, period, department, rows_reported, {names})
            SELECT r.service_code, r.period, r.department, count(*), {sums}
            FROM public."{table}" r
            JOIN (SELECT DISTINCT department, service_code, period FROM {months}) a
              USING (department, service_code, period)
            GROUP BY r.department, r.service_code, r.period;
        DELETE FROM {SCHEMA}.department_month m USING (SELECT DISTINCT department, period FROM {months}) a
            WHERE m.department = a.department AND m.period = a.period;
        INSERT INTO {SCHEMA}.department_month (department, period, channel, rows_reported, {names})
            SELECT r.department, r.period, r.channel, count(*), {sums}
            FROM public."{table}" r
            JOIN (SELECT DISTINCT department, period FROM {months}) a USING (department, period)
            GROUP BY r.department, r.period, r.channel;"""))


def refresh_aggregates(conn, table: str) -> dict[str, int]:
    """Rebuild every KPI sum from all the published rows (after a restore, when
    the sums list changed, or after rows were changed other than by ``load``)."""
    _create_affected(conn)
    conn.execute(sa.text(f"""
        DELETE FROM affected;
        INSERT INTO affected SELECT DISTINCT service_code, period, department FROM public."{table}";
        TRUNCATE {SCHEMA}.service_month, {SCHEMA}.department_month;"""))
    _recompute(conn, table, "affected")
    return _touched(conn)


def affected_services(conn) -> list[tuple[str, str]]:
    """(department, service code) of every service a load changed figures of."""
    return [tuple(r) for r in conn.execute(sa.text("SELECT DISTINCT department, service_code FROM affected"))]


def channel_vocabulary() -> list[str]:
    from ..core import schema
    channels = schema.field("channels")
    sub = schema.vocabulary_field(channels)
    return [c["value"] for c in schema.choices(sub)]

# ---------------------------------------------------------------- per-service summaries

def refresh_summaries(conn, services: Sequence[tuple[str, str]] | None = None) -> list[str]:
    """Recompute the latest-12-months summary of these (department, code)s, or of all.

    Returns the package ids whose summary changed, for reindexing.
    """
    conn.execute(sa.text("CREATE TEMP TABLE IF NOT EXISTS summary_of (department text, service_code text) "
                         "ON COMMIT DROP; DELETE FROM summary_of"))
    if services is None:
        conn.execute(sa.text(f"INSERT INTO summary_of SELECT DISTINCT department, service_code "
                             f"FROM {SCHEMA}.service_month"))
    elif services:   # one statement, however many services
        conn.execute(sa.text("INSERT INTO summary_of SELECT * FROM unnest(CAST(:d AS text[]), CAST(:c AS text[]))"),
                     {"d": [d for d, _ in services], "c": [c for _, c in services]})
    # Per service, two short walks of the key (department, service, month):
    # its latest month, then the twelve months up to it.
    rows = conn.execute(sa.text(f"""
        SELECT o.department, o.service_code, l.period_to, w.*
        FROM (SELECT DISTINCT department, service_code FROM summary_of) o
        CROSS JOIN LATERAL (
            SELECT max(m.period) AS period_to FROM {SCHEMA}.service_month m
            WHERE m.department = o.department AND m.service_code = o.service_code) l
        CROSS JOIN LATERAL (
            SELECT min(m.period) AS period_from, {', '.join(f'sum(m.{n}) AS {n}' for n in SUMS)}
            FROM {SCHEMA}.service_month m
            WHERE m.department = o.department AND m.service_code = o.service_code
              AND m.period > to_char(to_date(l.period_to, 'YYYY-MM') - interval '12 months', 'YYYY-MM')
              AND m.period <= l.period_to) w
        WHERE l.period_to IS NOT NULL"""), {}).mappings().all()
    summaries = []
    for row in rows:
        sums = {k: plain_number(v) for k, v in row.items()}
        values = stats.kpi_values(sums, SUMMARY_KPIS)
        summaries.append({"service_code": row["service_code"], "department": row["department"],
                          "period_from": row["period_from"], "period_to": row["period_to"],
                          **{k: values[k]["value"] for k in SUMMARY_KPIS}})
    if summaries:   # one statement (the rows as JSON), not a round trip per service
        kpis = ", ".join(SUMMARY_KPIS)
        conn.execute(sa.text(f"""
            INSERT INTO {SCHEMA}.service_summary (service_code, department, period_from, period_to,
                {kpis}, updated_at)
            SELECT service_code, department, period_from, period_to, {kpis}, now()
            FROM jsonb_to_recordset(CAST(:summaries AS jsonb)) AS x(
                service_code text, department text, period_from text, period_to text,
                {", ".join(f"{k} numeric" for k in SUMMARY_KPIS)})
            ON CONFLICT (department, service_code) DO UPDATE SET
                period_from = EXCLUDED.period_from, period_to = EXCLUDED.period_to,
                {", ".join(f"{k} = EXCLUDED.{k}" for k in SUMMARY_KPIS)},
                updated_at = now()"""), {"summaries": json.dumps(summaries, default=str)})
    return [r[0] for r in conn.execute(sa.text(f"""
        SELECT DISTINCT d.package_id FROM {SCHEMA}.service d JOIN summary_of USING (department, service_code)"""))]
