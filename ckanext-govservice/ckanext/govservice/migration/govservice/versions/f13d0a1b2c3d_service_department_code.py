"""Province scale: a service's code looked up within its department by index

Revision ID: f13d0a1b2c3d
Revises: e13c0a1b2c3d
Create Date: 2026-11-29

Every service saved is checked for another live service of its department
with the same service code (logic/validators.py, _duplicate_code_owner). CKAN
has no index on ``package.owner_org`` and the code is kept in the JSONB
``extras``, so each check read every package row: 180 ms at 100,380 services,
once per service harvested, a first load's cost growing with the square of the
province. A partial index on (department, code) of services makes it a
lookup. A revision of its own: e13c0a1b2c3d, reserved for this work, is
applied on running sites already and would never run again. Like
a16b1c2d3e4f, the index is added to CKAN's database (ckan_database.execute).
"""
from ckanext.govservice.migration.govservice import ckan_database

# revision identifiers, used by Alembic.
revision = "f13d0a1b2c3d"
down_revision = "e13c0a1b2c3d"
branch_labels = None
depends_on = None

INDEX = "govservice_service_department_code_idx"


def upgrade():
    ckan_database.execute([
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON package (owner_org, (extras->>'service_code')) "
        "WHERE type = 'service'"])


def downgrade():
    ckan_database.execute([f"DROP INDEX IF EXISTS {INDEX}"])
