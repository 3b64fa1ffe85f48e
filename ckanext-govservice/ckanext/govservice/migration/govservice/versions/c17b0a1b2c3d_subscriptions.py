"""Subscriptions to change: webhooks and their delivery log

Revision ID: c17b0a1b2c3d
Revises: b16c2d3e4f5a
Create Date: 2026-11-29

Reserved in the chain so that parallel work lands in a fixed order; filled in by the subscriptions work.
"""
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = "c17b0a1b2c3d"
down_revision = "b16c2d3e4f5a"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
