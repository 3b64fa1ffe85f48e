"""Alembic environment of the govservice plugin (``ckan db upgrade -p govservice``).

The KPI engine's tables live in the DataStore database, not in CKAN's: they
are joined in SQL with the statistics rows, which are a DataStore table, and
``statistics_store.engine()`` reads and writes them through the DataStore's
write engine. ``ckan db upgrade`` hands every plugin's env.py CKAN's own
database (``sqlalchemy.url``); this one ignores that and migrates
``ckan.datastore.write_url``. Its version table is ``govservice_kpi.alembic_version``,
in the schema it describes, so the revision travels with the tables: a DataStore
dump and restore carries both, dropping the schema (as the tests do) forgets
both, and CKAN's database never records a revision of tables it does not hold.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from ckan.common import config as ckan_config

from ckanext.govservice.statistics_store import tables

VERSION_TABLE = "alembic_version"


def datastore_url() -> str:
    url = ckan_config.get("ckan.datastore.write_url")
    if not url:
        raise RuntimeError("ckan.datastore.write_url is not set: the govservice plugin's tables "
                           "(schema govservice_kpi) live in the DataStore database")
    return url


def run_migrations_offline() -> None:
    context.configure(url=datastore_url(), target_metadata=tables.metadata, literal_binds=True,
                      version_table=VERSION_TABLE, version_table_schema=tables.SCHEMA)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = sa.create_engine(datastore_url(), poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=tables.metadata,
                          version_table=VERSION_TABLE, version_table_schema=tables.SCHEMA)
        with context.begin_transaction():
            # Two processes migrating at once (a web and a worker container
            # starting together) take turns; the second then finds the revision
            # the first wrote. The version table needs its schema first.
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('govservice_kpi migrations'))"))
            connection.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {tables.SCHEMA}"))
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
