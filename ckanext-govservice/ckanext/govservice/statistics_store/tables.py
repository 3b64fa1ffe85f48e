"""The KPI engine's tables, and the database they live in.

All in the DataStore database (``engine``), so one SQL engine joins them:

* the statistics rows: one DataStore table, the resource ``service-statistics``
  of the platform dataset ``service-statistics`` — the one query point for
  ``datastore_search`` / ``datastore_search_sql``; its primary key is
  (department, service_code, period, channel) — service codes are unique
  within a department, as the catalogue enforces — and its data dictionary
  comes from statistics.yaml; ``tune_table`` gives it the indexes statistics
  are read by;
* our own schema ``govservice_kpi`` (not visible to DataStore SQL): ``service``
  (each public service's code, department, themes, life events and catalogue
  facts, synced from the catalogue), ``service_month`` and
  ``department_month`` (the KPI sums, one column per ``SUMS`` entry, kept up
  to date incrementally after each load — materialised, so reads stay fast
  however many rows there are) and ``service_summary`` (the latest 12 months'
  KPIs shown on each service).
"""
from __future__ import annotations

import sqlalchemy as sa

from .. import statistics as stats
from ..core import schema as core_schema

SCHEMA = "govservice_kpi"   # not "govservice": that is the database user, first on the search_path
DATASET = "service-statistics"
RESOURCE_KEY = "govservice_statistics"

# The sums the KPIs are made of (kpis.yaml names them). A rate's numerator and
# denominator come from the same rows: a row that reports completions but not
# how many were on time does not count against the on-time rate.
RATING_LEVELS = [c["name"] for c in stats.rating_columns()]
_ALL_LEVELS = " AND ".join(f"{c} IS NOT NULL" for c in RATING_LEVELS)
# In bigint: the table's counts are 32-bit, and five of them (or five times one) need not fit.
_SATISFIED = " + ".join(f"{c['name']}::bigint" for c in stats.rating_columns() if c["rating_score"] >= 3)
_POINTS = " + ".join(f"{c['rating_score']} * {c['name']}::bigint" for c in stats.rating_columns())
SUMS: dict[str, str] = {
    "received": "sum(received)",
    "completed": "sum(completed)",
    "completed_on_time": "sum(completed_on_time) FILTER (WHERE completed IS NOT NULL AND completed_on_time IS NOT NULL)",
    "completed_with_on_time": "sum(completed) FILTER (WHERE completed IS NOT NULL AND completed_on_time IS NOT NULL)",
    "completed_online": "sum(completed_online)",
    "ratings": f"sum({' + '.join(f'{c}::bigint' for c in RATING_LEVELS)}) FILTER (WHERE {_ALL_LEVELS})",
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
# The KPIs of each service's latest-12-months summary (kpis.yaml: summary: true),
# one column each in service_summary.
SUMMARY_KPIS: tuple[str, ...] = tuple(core_schema.summary_kpis())
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
        -- The key, department first, also serves a department's months; a
        -- second index (department, period) cost a third of each load's sums.
        DROP INDEX IF EXISTS {SCHEMA}.service_month_department_idx;
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
