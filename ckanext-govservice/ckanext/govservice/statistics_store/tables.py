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

import functools
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from ..core import kpis as stats, schema as core_schema

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
    # In-person service (issue 17, migration d17d0a1b2c3d). The mean wait is a
    # ratio of sums too: each row's mean weighted by the people it served. A
    # row's 90th-percentile wait is not summable (no percentile of percentiles):
    # it stays a figure of its row in the open table, never a KPI across rows.
    "appointments_made": "sum(appointments_made)",
    "appointments_kept": "sum(appointments_kept) FILTER (WHERE appointments_made IS NOT NULL AND appointments_kept IS NOT NULL)",
    "appointments_made_with_kept": "sum(appointments_made) FILTER (WHERE appointments_made IS NOT NULL AND appointments_kept IS NOT NULL)",
    "served": "sum(served)",
    "served_within_30_minutes": "sum(served_within_30_minutes) FILTER (WHERE served IS NOT NULL AND served_within_30_minutes IS NOT NULL)",
    "served_with_within_30_minutes": "sum(served) FILTER (WHERE served IS NOT NULL AND served_within_30_minutes IS NOT NULL)",
    "wait_minutes_total": "sum(wait_minutes_mean * served) FILTER (WHERE served IS NOT NULL AND wait_minutes_mean IS NOT NULL)",
    "served_with_wait": "sum(served) FILTER (WHERE served IS NOT NULL AND wait_minutes_mean IS NOT NULL)",
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


# ---------------------------------------------------------------- the schema govservice_kpi

# What the migrations (migration/govservice/versions) have built, written once
# more as SQLAlchemy tables: alembic compares the two (a test does), and a new
# revision can be drafted from the difference (ckan generate migration -p
# govservice --autogenerate). The loader and the queries write their SQL by hand.
metadata = sa.MetaData(schema=SCHEMA)


def _text(name: str) -> sa.Column:
    """A text column that must be filled."""
    return sa.Column(name, sa.Text, nullable=False)


service = sa.Table(
    "service", metadata,
    _text("department"), _text("service_code"), _text("package_id"), _text("name"),
    sa.Column("title", sa.Text),
    sa.Column("themes", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("life_events", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("in_person_visits", sa.Integer),
    sa.Column("fully_online", sa.Boolean),
    sa.Column("time_limit_compression", sa.Numeric),
    sa.Column("status", sa.Text),
    sa.PrimaryKeyConstraint("department", "service_code"),
    sa.Index("service_code_idx", "service_code"),
)
service_month = sa.Table(
    "service_month", metadata,
    _text("service_code"), _text("period"), _text("department"),
    sa.Column("rows_reported", sa.Integer, nullable=False),
    *(sa.Column(name, sa.Numeric) for name in SUMS),
    sa.PrimaryKeyConstraint("department", "service_code", "period"),
)
department_month = sa.Table(
    "department_month", metadata,
    _text("department"), _text("period"), _text("channel"),
    sa.Column("rows_reported", sa.Integer, nullable=False),
    *(sa.Column(name, sa.Numeric) for name in SUMS),
    sa.PrimaryKeyConstraint("department", "period", "channel"),
)
service_summary = sa.Table(
    "service_summary", metadata,
    _text("service_code"), _text("department"),
    sa.Column("period_from", sa.Text), sa.Column("period_to", sa.Text),
    *(sa.Column(name, sa.Numeric) for name in SUMMARY_KPIS),
    sa.Column("updated_at", sa.TIMESTAMP(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.PrimaryKeyConstraint("department", "service_code"),
)

# Performance management (migration 5a1e0c3d9b21): the standards (one per KPI and
# scope; '' for the department or service a wider standard leaves open), the
# alerts last sent, and the last check of each address a service links to.
standard = sa.Table(
    "standard", metadata,
    _text("kpi"),
    sa.Column("department", sa.Text, nullable=False, server_default=""),
    sa.Column("service_code", sa.Text, nullable=False, server_default=""),
    sa.Column("target", sa.Numeric, nullable=False),
    sa.Column("period_from", sa.Text),
    _text("wording_zh"), _text("wording_en"), _text("source"),
    sa.Column("set_by", sa.Text),
    sa.Column("updated_at", sa.TIMESTAMP(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.PrimaryKeyConstraint("kpi", "department", "service_code"),
)
alert = sa.Table(
    "alert", metadata,
    _text("department"), _text("kind"), _text("subject"), _text("condition"),
    sa.Column("since", sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column("details", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("sent_at", sa.TIMESTAMP(timezone=True)),
    sa.Column("resolved_at", sa.TIMESTAMP(timezone=True)),
    sa.PrimaryKeyConstraint("department", "kind", "subject"),
)
link_check = sa.Table(
    "link_check", metadata,
    _text("department"), _text("service_code"), _text("url"), _text("field"),
    sa.Column("broken", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("checked_at", sa.TIMESTAMP(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.PrimaryKeyConstraint("department", "service_code", "url"),
)

# Search analytics (migration 7c41e2a9d5f0, written by search_analytics.py): per day
# and cleaned query text, how often it was searched, found nothing, what it found and
# how often a result was opened. Nothing that tells who searched.
search_day = sa.Table(
    "search_day", metadata,
    sa.Column("day", sa.Date, nullable=False),
    _text("query"),
    sa.Column("searches", sa.Integer, nullable=False, server_default="0"),
    sa.Column("zero_results", sa.Integer, nullable=False, server_default="0"),
    sa.Column("results", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("opened", sa.Integer, nullable=False, server_default="0"),
    sa.PrimaryKeyConstraint("day", "query"),
)

# Documents a citizen must still bring (migration b16c2d3e4f5a, written by
# document_catalogue.snapshot): per department and day, its live services and
# their mandatory documents demanded and still to bring; read as a monthly series.
document_burden_day = sa.Table(
    "document_burden_day", metadata,
    _text("department"),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("services", sa.Integer, nullable=False, server_default="0"),
    sa.Column("documents_demanded", sa.Integer, nullable=False, server_default="0"),
    sa.Column("documents_to_bring", sa.Integer, nullable=False, server_default="0"),
    sa.PrimaryKeyConstraint("department", "day"),
)

# Webhooks and their delivery log (migration c17b0a1b2c3d, written by subscriptions.py):
# a developer's subscription to changes, and each change's delivery to it.
webhook = sa.Table(
    "webhook", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    _text("owner"), _text("target_url"), _text("follows"), _text("value"), _text("secret"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("failures_in_a_row", sa.Integer, nullable=False, server_default="0"),
    sa.Column("disabled_reason", sa.Text),
    sa.Column("created_at", sa.TIMESTAMP(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Index("webhook_owner", "owner"),
)
webhook_delivery = sa.Table(
    "webhook_delivery", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("webhook_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.webhook.id", ondelete="CASCADE"), nullable=False),
    _text("event_id"), _text("payload"),
    sa.Column("status", sa.Text, nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.TIMESTAMP(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("last_error", sa.Text),
    sa.Column("response_code", sa.Integer),
    sa.Column("created_at", sa.TIMESTAMP(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("delivered_at", sa.TIMESTAMP(timezone=True)),
    sa.UniqueConstraint("webhook_id", "event_id", name="webhook_delivery_once"),
    sa.Index("webhook_delivery_due", "status", "next_attempt_at"),
)

# ---------------------------------------------------------------- the database they live in

MIGRATIONS = Path(__file__).resolve().parent.parent / "migration" / "govservice"


class NotMigrated(RuntimeError):
    """The DataStore database's KPI tables are not at the revision this code reads and writes."""


@functools.cache
def head_revision() -> str:
    """The newest revision of migration/govservice: what this code expects to find."""
    from alembic.script import ScriptDirectory
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def revision(conn) -> str | None:
    """The revision the database's KPI tables are at (None: never migrated)."""
    if not conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"),
                        {"t": f"{SCHEMA}.alembic_version"}).scalar():
        return None
    return conn.execute(sa.text(f"SELECT version_num FROM {SCHEMA}.alembic_version")).scalar()


_migrated: set[str] = set()


def require_migrated(conn) -> None:
    """Refuse to go on unless the KPI tables are at this code's revision.

    Nothing is created at run time: the tables are made and changed by the
    migrations (``ckan db upgrade -p govservice``, which the stack and the
    containers run at set-up). Checked once per process and database.
    """
    url = str(conn.engine.url)
    if url in _migrated:
        return
    found, wanted = revision(conn), head_revision()
    if found != wanted:
        raise NotMigrated(
            f"the KPI engine's tables in the DataStore database {conn.engine.url.database} are at "
            f"revision {found or '(none)'}, this code needs {wanted}: run `ckan -c <ini> db upgrade -p govservice`")
    _migrated.add(url)


def engine() -> sa.engine.Engine:
    """The DataStore database's write engine, once its KPI tables are known to be migrated."""
    from ckanext.datastore.backend.postgres import get_write_engine
    write = get_write_engine()
    if str(write.url) not in _migrated:
        with write.connect() as conn:
            require_migrated(conn)
    return write


_read_engines: dict[str, sa.engine.Engine] = {}


def read_engine() -> sa.engine.Engine:
    """The engine for the KPI reads (the API's KPIs and league table, the dashboards).

    The write role and database, on the hosts ``ckan.datastore.read_url`` names:
    with a streaming replica that is ``?host=replica:5433&host=primary:5432&
    target_session_attrs=prefer-standby``, so reads go to the replica and, when it
    is down, libpq connects to the primary instead (a pooled connection to a dead
    replica is found by the pre-ping and replaced). A read URL on another single host
    (the containers' GOVSERVICE_DATASTORE_READ_HOST) is used as it is. On the
    primary's own host, the write engine. Reads only: a replica refuses writes, and
    what must see a write just made (the summary indexed after a load) keeps to
    :func:`engine`."""
    from ckan.plugins import toolkit as tk
    write = engine()
    read = sa.engine.make_url(tk.config["ckan.datastore.read_url"])
    if read.query.get("host"):
        url = write.url.set(host=None, port=None, query=dict(read.query))
    elif (read.host, read.port or 5432) != (write.url.host, write.url.port or 5432):
        url = write.url.set(host=read.host, port=read.port, query=dict(read.query))
    else:
        return write
    key = url.render_as_string(hide_password=False)
    if key not in _read_engines:
        _read_engines[key] = sa.create_engine(url, pool_pre_ping=True, pool_recycle=300)
    return _read_engines[key]


# ---------------------------------------------------------------- the DataStore table

def table_exists(conn, table: str) -> bool:
    return conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"),
                        {"t": f'public."{table}"'}).scalar()


def missing_columns(conn, table: str, columns: list[str]) -> list[str]:
    """Of ``columns``, those the DataStore table lacks (statistics.yaml gained them since it was made)."""
    found = {r[0] for r in conn.execute(sa.text(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = :t"),
        {"t": table})}
    return [c for c in columns if c not in found]


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
