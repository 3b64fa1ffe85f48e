"""The KPI engine's tables: service, service_month, department_month, service_summary

Revision ID: 0700690b517b
Revises:
Create Date: 2026-11-29

Exactly what statistics_store created at run time before it had migrations.
A DataStore database that code already set up has these tables without a
version table, so every statement here tolerates finding its object (IF NOT
EXISTS): on such a database this revision adds what an older version of that
code had not (sum columns), then records the revision. A later change to
these tables is a new revision, never an edit of this one.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "0700690b517b"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "govservice_kpi"
# The KPI sums as they were when this revision was written (statistics_store.tables.SUMS).
SUMS = ("received", "completed", "completed_on_time", "completed_with_on_time", "completed_online",
        "ratings", "satisfied_ratings", "rating_points", "bad_reviews", "bad_reviews_rectified",
        "bad_reviews_with_rectified", "enquiries")
SUM_COLUMNS = ", ".join(f"{name} numeric" for name in SUMS)


def upgrade():
    op.execute(f"""
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
            rows_reported int NOT NULL, {SUM_COLUMNS},
            PRIMARY KEY (department, service_code, period));
        -- The key, department first, also serves a department's months; a
        -- second index (department, period) cost a third of each load's sums.
        DROP INDEX IF EXISTS {SCHEMA}.service_month_department_idx;
        CREATE TABLE IF NOT EXISTS {SCHEMA}.department_month (
            department text NOT NULL, period text NOT NULL, channel text NOT NULL,
            rows_reported int NOT NULL, {SUM_COLUMNS},
            PRIMARY KEY (department, period, channel));
        CREATE TABLE IF NOT EXISTS {SCHEMA}.service_summary (
            service_code text NOT NULL, department text NOT NULL,
            period_from text, period_to text,
            on_time_rate numeric, digital_take_up numeric, satisfaction_rate numeric,
            volume numeric, updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (department, service_code));
    """)
    # Sum columns that tables created by an older run-time version lack.
    for table in ("service_month", "department_month"):
        for name in SUMS:
            op.execute(f"ALTER TABLE {SCHEMA}.{table} ADD COLUMN IF NOT EXISTS {name} numeric")


def downgrade():
    # The schema stays: it holds the version table. Everything dropped here is
    # derived (the catalogue and the published rows rebuild it: statistics-refresh).
    op.execute(f"""
        DROP TABLE IF EXISTS {SCHEMA}.service_summary;
        DROP TABLE IF EXISTS {SCHEMA}.department_month;
        DROP TABLE IF EXISTS {SCHEMA}.service_month;
        DROP TABLE IF EXISTS {SCHEMA}.service;
    """)
