"""The KPI engine's tables come from alembic migrations (``ckan db upgrade -p govservice``),
in the DataStore database: integration tests against the test site's databases."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from ckanext.govservice.statistics_store import tables


def _datastore():
    from ckanext.datastore.backend.postgres import get_write_engine
    return get_write_engine()


def test_migrations_build_the_tables_tables_py_describes(statistics_db):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with _datastore().connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "include_schemas": True,
            "include_name": lambda name, kind, _: kind != "schema" or name == tables.SCHEMA,
            "include_object": lambda _, name, kind, *rest: not (kind == "table" and name == "alembic_version"),
        })
        assert compare_metadata(context, tables.metadata) == []
        assert tables.revision(conn) == tables.head_revision()


def test_the_version_is_kept_in_the_datastore_database_not_ckans(statistics_db):
    import ckan.model as model
    with model.meta.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT to_regclass('govservice_alembic_version')")).scalar() is None


def test_first_migration_adopts_tables_made_before_migrations_keeping_their_rows(statistics_db, migrate_db_for):
    """The demo portal's DataStore had the tables, made at run time, and no version:
    the first revision keeps them and their rows, adds a sum column an older
    version lacked, and records itself."""
    with _datastore().begin() as conn:
        conn.execute(sa.text(f"""
            INSERT INTO {tables.SCHEMA}.service (department, service_code, package_id, name)
            VALUES ('tax-bureau', 'TX-1', 'p-1', 'tx-1');
            ALTER TABLE {tables.SCHEMA}.service_month DROP COLUMN enquiries;
            DROP TABLE {tables.SCHEMA}.alembic_version"""))
    migrate_db_for("govservice")
    with _datastore().connect() as conn:
        assert conn.execute(sa.text(f"SELECT service_code FROM {tables.SCHEMA}.service")).scalars().all() == ["TX-1"]
        assert conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"),
                            {"t": f"{tables.SCHEMA}.service_month"}).scalar()
        assert "enquiries" in [c["name"] for c in sa.inspect(conn).get_columns("service_month", tables.SCHEMA)]
        assert tables.revision(conn) == tables.head_revision()


def test_an_unmigrated_datastore_is_refused_with_the_command_that_fixes_it(statistics_db, migrate_db_for, monkeypatch):
    monkeypatch.setattr(tables, "_migrated", set())
    with _datastore().begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {tables.SCHEMA} CASCADE"))
    try:
        with pytest.raises(tables.NotMigrated, match=r"revision \(none\).*db upgrade -p govservice"):
            tables.engine()
    finally:
        migrate_db_for("govservice")
    assert tables.engine() is _datastore()


def test_health_reports_the_kpi_tables_revision(statistics_db):
    from ckanext.govservice import health
    probe = health.check_datastore()
    assert (probe["status"], probe["kpi_tables"]) == ("up", tables.head_revision())
