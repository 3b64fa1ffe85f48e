"""Documents a citizen must still bring, per department and day

Revision ID: b16c2d3e4f5a
Revises: a16b1c2d3e4f
Create Date: 2026-11-29

``document_burden_day``: one row per department and day, written by ``ckan
govservice document-snapshot`` (run daily; a second run on the same day
replaces that day's row): how many live services the department had, how
many mandatory documents they demand, and how many of those a citizen must
still bring (the government holds the others: 免提交). The document reduction
rate's trend (材料减免率, govservice_document_burden) is read from it, one
figure per month.

IF NOT EXISTS: a database whose version table was lost runs every revision
again (as the first one explains), and finds this table there.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "b16c2d3e4f5a"
down_revision = "a16b1c2d3e4f"
branch_labels = None
depends_on = None

SCHEMA = "govservice_kpi"


def upgrade():
    op.execute(f"""
        CREATE TABLE IF NOT EXISTS {SCHEMA}.document_burden_day (
            department text NOT NULL,
            day date NOT NULL,
            services integer NOT NULL DEFAULT 0,
            documents_demanded integer NOT NULL DEFAULT 0,
            documents_to_bring integer NOT NULL DEFAULT 0,
            PRIMARY KEY (department, day))""")


def downgrade():
    op.execute(f"DROP TABLE IF EXISTS {SCHEMA}.document_burden_day")
