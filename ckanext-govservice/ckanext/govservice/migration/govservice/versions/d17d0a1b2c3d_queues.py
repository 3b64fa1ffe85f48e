"""Live queues and appointments

Revision ID: d17d0a1b2c3d
Revises: c17b0a1b2c3d
Create Date: 2026-11-29

Reserved in the chain so that parallel work lands in a fixed order; filled in by the live-queue work.
"""
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = "d17d0a1b2c3d"
down_revision = "c17b0a1b2c3d"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
