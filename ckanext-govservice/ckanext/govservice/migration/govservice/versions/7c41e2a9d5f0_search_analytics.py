"""Search analytics: what citizens search for, per day

Revision ID: 7c41e2a9d5f0
Revises: 5a1e0c3d9b21
Create Date: 2026-11-29

``search_day``: one row per day and query text (cleaned, lower-cased): how
often it was searched on the service search page, how often it found nothing,
the results it found in all, and how often a service was opened from its
results. No address, no user, no cookie: nothing that tells who searched.
Rows older than ``ckanext.govservice.search.analytics_retention_days`` are
deleted by search_analytics.py.

IF NOT EXISTS: a database whose version table was lost runs every revision
again (as the first one explains), and finds this table there.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "7c41e2a9d5f0"
down_revision = "5a1e0c3d9b21"
branch_labels = None
depends_on = None

SCHEMA = "govservice_kpi"


def upgrade():
    op.execute(f"""
        CREATE TABLE IF NOT EXISTS {SCHEMA}.search_day (
            day date NOT NULL,
            query text NOT NULL,
            searches integer NOT NULL DEFAULT 0,
            zero_results integer NOT NULL DEFAULT 0,
            results bigint NOT NULL DEFAULT 0,
            opened integer NOT NULL DEFAULT 0,
            PRIMARY KEY (day, query))""")


def downgrade():
    op.execute(f"DROP TABLE IF EXISTS {SCHEMA}.search_day")
