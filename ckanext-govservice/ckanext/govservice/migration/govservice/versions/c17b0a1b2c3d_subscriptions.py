"""Subscriptions to change: webhooks and their delivery log

Revision ID: c17b0a1b2c3d
Revises: b16c2d3e4f5a
Create Date: 2026-11-29

``webhook``: a developer's subscription (``govservice_webhook_create``): whose
it is (the CKAN user's id), where to POST, what it follows (a service, a
department, a theme or a life event), the secret its payloads are signed with,
and whether it is still on (turned off after repeated failures, saying why).

``webhook_delivery``: one change (a CKAN activity) to deliver to one webhook,
its signed JSON body, and how delivering it went: pending until delivered or
given up, the attempts made, when the next is due (waits double), the last
error and HTTP status. A change is queued once per webhook (unique key).

IF NOT EXISTS: a database whose version table was lost runs every revision
again (as the first one explains), and finds these tables there.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "c17b0a1b2c3d"
down_revision = "b16c2d3e4f5a"
branch_labels = None
depends_on = None

SCHEMA = "govservice_kpi"


def upgrade():
    op.execute(f"""
        CREATE TABLE IF NOT EXISTS {SCHEMA}.webhook (
            id text PRIMARY KEY,
            owner text NOT NULL,
            target_url text NOT NULL,
            follows text NOT NULL,
            value text NOT NULL,
            secret text NOT NULL,
            active boolean NOT NULL DEFAULT true,
            failures_in_a_row integer NOT NULL DEFAULT 0,
            disabled_reason text,
            created_at timestamptz NOT NULL DEFAULT now())""")
    op.execute(f"CREATE INDEX IF NOT EXISTS webhook_owner ON {SCHEMA}.webhook (owner)")
    op.execute(f"""
        CREATE TABLE IF NOT EXISTS {SCHEMA}.webhook_delivery (
            id bigserial PRIMARY KEY,
            webhook_id text NOT NULL REFERENCES {SCHEMA}.webhook (id) ON DELETE CASCADE,
            event_id text NOT NULL,
            payload text NOT NULL,
            status text NOT NULL DEFAULT 'pending',
            attempts integer NOT NULL DEFAULT 0,
            next_attempt_at timestamptz NOT NULL DEFAULT now(),
            last_error text,
            response_code integer,
            created_at timestamptz NOT NULL DEFAULT now(),
            delivered_at timestamptz,
            CONSTRAINT webhook_delivery_once UNIQUE (webhook_id, event_id))""")
    op.execute(f"CREATE INDEX IF NOT EXISTS webhook_delivery_due ON {SCHEMA}.webhook_delivery "
               "(status, next_attempt_at)")


def downgrade():
    op.execute(f"DROP TABLE IF EXISTS {SCHEMA}.webhook_delivery")
    op.execute(f"DROP TABLE IF EXISTS {SCHEMA}.webhook")
