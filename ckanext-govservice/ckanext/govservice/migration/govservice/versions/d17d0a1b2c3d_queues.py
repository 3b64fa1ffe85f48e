"""Live queues and appointments: the KPI sums of in-person service

Revision ID: d17d0a1b2c3d
Revises: c17b0a1b2c3d
Create Date: 2026-11-29

The monthly statistics gained appointments made and kept, people served,
served within 30 minutes and the mean and 90th-percentile wait (issue 17);
the KPI sums gain the columns the appointment keep rate, the share served
within 30 minutes and the mean wait are computed from (statistics_store.tables.SUMS).
Months loaded before have no such figures: their new sums stay empty (no
data), which is what they are. The statistics DataStore table itself gains
its columns from statistics.yaml when the platform next loads statistics
(statistics_publish.statistics_table), with their data dictionary.
The live queues' own rows are a DataStore table (queues.py), not a KPI table.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "d17d0a1b2c3d"
down_revision = "c17b0a1b2c3d"
branch_labels = None
depends_on = None

SCHEMA = "govservice_kpi"
SUMS = ("appointments_made", "appointments_kept", "appointments_made_with_kept", "served",
        "served_within_30_minutes", "served_with_within_30_minutes", "wait_minutes_total", "served_with_wait")


def upgrade():
    for table in ("service_month", "department_month"):
        for name in SUMS:
            op.execute(f"ALTER TABLE {SCHEMA}.{table} ADD COLUMN IF NOT EXISTS {name} numeric")


def downgrade():
    for table in ("service_month", "department_month"):
        for name in SUMS:
            op.execute(f"ALTER TABLE {SCHEMA}.{table} DROP COLUMN IF EXISTS {name}")
