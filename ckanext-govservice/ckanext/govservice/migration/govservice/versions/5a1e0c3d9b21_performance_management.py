"""Performance management: service standards, alerts sent, links checked

Revision ID: 5a1e0c3d9b21
Revises: 0700690b517b
Create Date: 2026-11-29

* ``standard``: a KPI's target for the platform, a department or a service
  (department / service_code '' when the standard is wider), from a month on,
  with its wording in both languages; one per KPI and scope;
* ``alert``: each condition the data office and a department are told about
  (a target missed, a stale or failing source, coverage below the threshold,
  broken links), what it was when last sent, so an unchanged one is not sent again;
* ``link_check``: the last check of each channel and legal-basis address.

IF NOT EXISTS: a database whose version table was lost runs every revision
again (as the first one explains), and finds these tables there.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "5a1e0c3d9b21"
down_revision = "0700690b517b"
branch_labels = None
depends_on = None

SCHEMA = "govservice_kpi"


def upgrade():
    op.execute(f"""
        CREATE TABLE IF NOT EXISTS {SCHEMA}.standard (
            kpi text NOT NULL,
            department text NOT NULL DEFAULT '',
            service_code text NOT NULL DEFAULT '',
            target numeric NOT NULL,
            period_from text,
            wording_zh text NOT NULL,
            wording_en text NOT NULL,
            source text NOT NULL,
            set_by text,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (kpi, department, service_code));
        CREATE TABLE IF NOT EXISTS {SCHEMA}.alert (
            department text NOT NULL,
            kind text NOT NULL,
            subject text NOT NULL,
            condition text NOT NULL,
            since timestamptz NOT NULL,
            details jsonb NOT NULL DEFAULT '{{}}',
            sent_at timestamptz,
            resolved_at timestamptz,
            PRIMARY KEY (department, kind, subject));
        CREATE TABLE IF NOT EXISTS {SCHEMA}.link_check (
            department text NOT NULL,
            service_code text NOT NULL,
            url text NOT NULL,
            field text NOT NULL,
            broken boolean NOT NULL,
            reason text,
            checked_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (department, service_code, url));
    """)


def downgrade():
    op.execute(f"""
        DROP TABLE IF EXISTS {SCHEMA}.link_check;
        DROP TABLE IF EXISTS {SCHEMA}.alert;
        DROP TABLE IF EXISTS {SCHEMA}.standard;
    """)
