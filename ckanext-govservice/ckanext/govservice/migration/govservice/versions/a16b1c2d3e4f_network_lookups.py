"""The network's lookups by code (issue 16): expression indexes on CKAN's package table

Revision ID: a16b1c2d3e4f
Revises: 7c41e2a9d5f0
Create Date: 2026-11-29

Validation looks datasets up by a code kept in CKAN 2.12's JSONB column
``package.extras``: a service by its implementation code (unique on the
platform) and its basic code (a basic item's implementations), a basic item by
its basic code, a document by its document code. Without an index each
lookup reads every package row (100,000 services in the province model).

These indexes are on CKAN's database, not the DataStore database the rest of
this plugin's revisions change (see env.py): this revision opens CKAN's
database itself (``sqlalchemy.url``), and only adds or drops indexes there;
its version is recorded with the others. IF NOT EXISTS: a revision run again
on a database that has them (its version table lost, or the KPI schema
dropped, as the tests do) finds them there.
"""
from ckanext.govservice.migration.govservice import ckan_database

# revision identifiers, used by Alembic.
revision = "a16b1c2d3e4f"
down_revision = "7c41e2a9d5f0"
branch_labels = None
depends_on = None

# (index name, JSON key, dataset type): each partial, on the live rows' type only.
INDEXES = (
    ("govservice_service_implementation_code_idx", "implementation_code", "service"),
    ("govservice_service_basic_code_idx", "basic_code", "service"),
    ("govservice_basic_item_basic_code_idx", "basic_code", "basic_item"),
    ("govservice_document_document_code_idx", "document_code", "document"),
)


def upgrade():
    ckan_database.execute([
        f"CREATE INDEX IF NOT EXISTS {name} ON package ((extras->>'{key}')) WHERE type = '{dataset_type}'"
        for name, key, dataset_type in INDEXES])


def downgrade():
    ckan_database.execute([f"DROP INDEX IF EXISTS {name}" for name, _, _ in INDEXES])
