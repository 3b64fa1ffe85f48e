"""Province scale: precomputed figures

Revision ID: e13c0a1b2c3d
Revises: d17d0a1b2c3d
Create Date: 2026-11-29

Reserved in the chain so that parallel work lands in a fixed order; filled in by the province-scale work.
"""
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = "e13c0a1b2c3d"
down_revision = "d17d0a1b2c3d"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
