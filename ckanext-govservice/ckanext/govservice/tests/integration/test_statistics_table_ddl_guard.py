"""The statistics table is kept by the database itself against DDL (issue 19):
the superuser's event triggers (statistics_store/database_guard.sql, installed
by the stack's database set-up) refuse DROP TABLE, ALTER TABLE ... DROP COLUMN,
dropping or disabling its guard trigger, rewriting it, renaming it or one of
its columns and moving it to another schema, as the DataStore's
write role over a real connection, whatever CKAN code path reached it
(datastore_delete with ignore_auth skips every CKAN-side guard). TRUNCATE is
refused by the table's own guard trigger. A load, and every other DataStore
table, go on as before."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

import ckan.plugins.toolkit as tk
from ckan.tests import factories, helpers

from ckanext.govservice import statistics_store as store
from ckanext.govservice.core import kpis

from .test_statistics import HEADER, load_csv, published, services, table_id  # noqa: F401  (fixture)

ROW = "SR-1,2026-01,online,1,1,1,1,,,,,,,,,\n"

REFUSED = {
    "DROP TABLE": ('DROP TABLE public."{t}"', "its guard trigger would go with it"),
    "DROP TABLE CASCADE": ('DROP TABLE public."{t}" CASCADE', "its guard trigger would go with it"),
    "ALTER TABLE": ('ALTER TABLE public."{t}" DROP COLUMN received', "column received would be dropped"),
    "DROP TRIGGER": ('DROP TRIGGER govservice_loader_only ON public."{t}"', "its guard trigger would go with it"),
    "DISABLE TRIGGER": ('ALTER TABLE public."{t}" DISABLE TRIGGER govservice_loader_only',
                        "its guard trigger would be disabled or renamed"),
    "REWRITE": ('ALTER TABLE public."{t}" ALTER COLUMN received TYPE bigint USING NULL',
                "its rows would be rewritten"),
}


@pytest.fixture
def loaded(services):
    load_csv(services["context"], "market-regulation", HEADER + ROW)
    return services


def _write_role_runs(statement: str) -> None:
    """One statement in its own transaction, as CKAN's DataStore write role."""
    with store.engine().begin() as conn:
        conn.execute(sa.text(statement))


@pytest.mark.parametrize("name", REFUSED)
def test_ddl_on_the_statistics_table_by_the_write_role_is_refused_naming_table_and_reason(loaded, name):
    table = table_id()
    statement, reason = REFUSED[name]

    with pytest.raises(sa.exc.DBAPIError) as refused:
        _write_role_runs(statement.format(t=table))

    tag = "ALTER TABLE" if name in ("DISABLE TRIGGER", "REWRITE") else name.replace(" CASCADE", "")
    assert (f"the statistics table {table} keeps every department's service statistics: "
            f"{tag} refused ({reason})") in str(refused.value)


def test_truncate_by_the_write_role_is_refused(loaded):
    table = table_id()
    with pytest.raises(sa.exc.DBAPIError, match=f"statistics table {table} is written only by"):
        _write_role_runs(f'TRUNCATE public."{table}"')


def test_the_rows_are_still_there_after_every_refused_change(loaded):
    table = table_id()
    for statement, _ in REFUSED.values():
        with pytest.raises(sa.exc.DBAPIError):
            _write_role_runs(statement.format(t=table))
    with pytest.raises(sa.exc.DBAPIError):
        _write_role_runs(f'TRUNCATE public."{table}"')

    assert [(r["service_code"], r["period"], r["received"]) for r in published()] == [("SR-1", "2026-01", 1)]


def test_datastore_delete_with_ignore_auth_is_refused_by_the_database(loaded):
    table = table_id()
    context = {**loaded["context"], "ignore_auth": True}   # skips every CKAN-side auth check

    with pytest.raises(sa.exc.DBAPIError, match=f"the statistics table {table} keeps every department's"):
        helpers.call_action("datastore_delete", context=context, resource_id=table, force=True)

    assert [r["received"] for r in published()] == [1]
    resource = helpers.call_action("resource_show", id=table)
    assert resource["datastore_active"] is True


def test_a_load_still_lands_after_the_guard(loaded):
    report = load_csv(loaded["context"], "market-regulation", HEADER + ROW.replace(",1,1,1,1,", ",7,1,1,1,", 1)
                      + "SR-2,2026-01,online,2,2,2,2,,,,,,,,,\n")

    assert (report["inserted"], report["updated"]) == (1, 1)
    assert [(r["service_code"], r["received"]) for r in published()] == [("SR-1", 7), ("SR-2", 2)]


def test_a_new_column_can_still_be_added_to_the_statistics_table(loaded):
    """statistics.yaml gaining a field: datastore_create adds it (ALTER TABLE ADD
    COLUMN, its comment, the full-text trigger back), as the platform's own
    migration path does."""
    table = table_id()
    site = {"user": helpers.call_action("get_site_user", context={"ignore_auth": True})["name"],
            "ignore_auth": True}

    helpers.call_action("datastore_create", context=site, resource_id=table, force=True,
                        fields=kpis.datastore_fields() + [{"id": "extra_figure", "type": "int"}])

    with store.engine().connect() as conn:
        assert store.tables.missing_columns(conn, table, ["extra_figure"]) == []
    assert [r["received"] for r in published()] == [1]


def test_another_datastore_table_can_still_be_dropped(loaded):
    context = {**loaded["context"], "ignore_auth": False}
    other = helpers.call_action("datastore_create", context=dict(context), force=True, resource={
        "package_id": factories.Dataset(owner_org=loaded["dept"]["id"])["id"], "name": "other"},
        fields=[{"id": "n", "type": "int"}], records=[{"n": 1}])

    helpers.call_action("datastore_delete", context=dict(context), resource_id=other["resource_id"], force=True)

    with store.engine().connect() as conn:
        assert not store.table_exists(conn, other["resource_id"])


def test_a_transaction_that_replaces_the_table_on_purpose_may_drop_it(loaded):
    table = table_id()
    with store.engine().begin() as conn:
        store.allow_replacing(conn)
        conn.execute(sa.text(f'DROP TABLE public."{table}"'))

    with store.engine().connect() as conn:
        assert not store.table_exists(conn, table)
    with pytest.raises(tk.ObjectNotFound):
        published()


# ---------------------------------------------------------------- renames and moves
# For CKAN a renamed or moved table is as good as dropped (the DataStore finds the
# resource's table by its id, in public), and the loader finds columns by name.

RENAMED = {
    "RENAME TO": ('ALTER TABLE public."{t}" RENAME TO "{t}_old"', "ALTER TABLE", "it would be renamed to {t}_old"),
    "SET SCHEMA": ('CREATE SCHEMA IF NOT EXISTS elsewhere; ALTER TABLE public."{t}" SET SCHEMA elsewhere',
                   "ALTER TABLE", "it would be moved to schema elsewhere"),
    "RENAME COLUMN": ('ALTER TABLE public."{t}" RENAME COLUMN received TO received_old', "ALTER TABLE",
                      "column received would be renamed to received_old"),
    # PostgreSQL lets ALTER INDEX rename a table too: a side door
    "ALTER INDEX RENAME": ('ALTER INDEX public."{t}" RENAME TO "{t}_old"', "ALTER INDEX",
                           "it would be renamed to {t}_old"),
}


@pytest.mark.parametrize("name", RENAMED)
def test_renaming_or_moving_the_statistics_table_by_the_write_role_is_refused_naming_table_and_reason(loaded, name):
    table = table_id()
    statement, tag, reason = RENAMED[name]

    with pytest.raises(sa.exc.DBAPIError) as refused:
        _write_role_runs(statement.format(t=table))

    assert (f"the statistics table {table} keeps every department's service statistics: "
            f"{tag} refused ({reason.format(t=table)})") in str(refused.value)


def test_the_table_keeps_its_name_schema_columns_and_rows_after_refused_renames(loaded):
    table = table_id()
    for statement, _, _ in RENAMED.values():
        with pytest.raises(sa.exc.DBAPIError):
            _write_role_runs(statement.format(t=table))

    with store.engine().connect() as conn:
        assert store.table_exists(conn, table)
        assert store.tables.missing_columns(conn, table, ["received"]) == []
    assert [(r["service_code"], r["received"]) for r in published()] == [("SR-1", 1)]


def test_another_datastore_table_can_still_be_renamed_with_its_columns(loaded):
    other = helpers.call_action("datastore_create", context=dict(loaded["context"]), force=True, resource={
        "package_id": factories.Dataset(owner_org=loaded["dept"]["id"])["id"], "name": "other"},
        fields=[{"id": "n", "type": "int"}], records=[{"n": 1}])["resource_id"]

    _write_role_runs(f'ALTER TABLE public."{other}" RENAME COLUMN n TO m')
    _write_role_runs(f'ALTER TABLE public."{other}" RENAME TO "{other}_old"')

    with store.engine().connect() as conn:
        assert conn.execute(sa.text(f'SELECT m FROM public."{other}_old"')).scalar() == 1
        conn.execute(sa.text(f'DROP TABLE public."{other}_old"'))
        conn.commit()


def test_a_transaction_that_replaces_the_table_on_purpose_may_rename_it(loaded):
    table = table_id()
    with store.engine().begin() as conn:
        store.allow_replacing(conn)
        conn.execute(sa.text(f'ALTER TABLE public."{table}" RENAME TO "{table}_old"'))

    with store.engine().connect() as conn:
        assert not store.table_exists(conn, table) and store.table_exists(conn, f"{table}_old")
