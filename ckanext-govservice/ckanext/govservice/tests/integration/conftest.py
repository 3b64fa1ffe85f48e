import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import factories

from .. import factories as gov


@pytest.fixture(autouse=True)
def load_plugins(with_plugins):
    """Every test here runs with the plugins test.ini lists (ours, scheming, datastore…)."""


@pytest.fixture(autouse=True)
def no_catalogue_rebuilds(monkeypatch):
    """Saving a service queues a rebuild of the bulk files; the test worker would run
    those jobs while later tests reset the database. Tests that want them turn them on."""
    monkeypatch.setitem(tk.config, "ckanext.govservice.catalogue.auto_rebuild", False)
    # Likewise the reindex and CSV jobs a statistics load queues: run late, they
    # would recreate the statistics dataset in a later test's fresh database.
    monkeypatch.setitem(tk.config, "ckanext.govservice.statistics.background_jobs", False)


@pytest.fixture
def sysadmin(clean_db):
    """A clean database and a sysadmin's context to act in."""
    return {"user": factories.Sysadmin()["name"]}


@pytest.fixture
def dept(sysadmin):
    """The market regulation bureau, a department to own services."""
    return gov.department(name="market-regulation")


def empty_statistics_store(migrate_db_for) -> None:
    """An empty DataStore, and an empty KPI engine made by its migrations, as
    ``ckan db upgrade -p govservice`` makes it (``migrate_db_for``: CKAN's fixture)."""
    import sqlalchemy as sa
    from sqlalchemy import orm
    from ckanext.datastore.backend.postgres import get_write_engine
    from ckanext.datastore.tests import helpers as datastore_helpers
    from ckanext.govservice import statistics_store

    engine = get_write_engine()   # not statistics_store.engine(): that one wants the tables migrated
    session = orm.scoped_session(orm.sessionmaker(bind=engine))
    statistics_store.allow_replacing(session.connection())   # past the database's DDL guard, on purpose
    datastore_helpers.clear_db(session)
    with engine.begin() as conn:
        statistics_store.allow_replacing(conn)
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {statistics_store.SCHEMA} CASCADE"))
    migrate_db_for("govservice")   # the plugin's env.py migrates the DataStore database


@pytest.fixture
def statistics_db(clean_db, clean_index, migrate_db_for):
    """Clean CKAN and DataStore databases, and an empty KPI engine made by its
    migrations, as ``ckan db upgrade -p govservice`` makes it."""
    empty_statistics_store(migrate_db_for)


@pytest.fixture
def errors_logged(caplog, monkeypatch):
    """The ERROR records logged during the test, by any CKAN or extension logger.

    CKAN's config loading (logging.config.fileConfig) disables loggers that
    existed before it ran, so a test could miss what a module logged; they are
    switched back on for the test (CKAN's recorded_logs does the same)."""
    import logging
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and logger.disabled:
            monkeypatch.setattr(logger, "disabled", False)

    def records(name: str | None = None) -> list[logging.LogRecord]:
        return [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR
                and (name is None or r.name == name)]
    return records
