"""The statistics table guards itself in the database: a statement-level
trigger refuses INSERT, UPDATE, DELETE and TRUNCATE from any session but the
loader's, so a side door round the CKAN-side guards (another plugin, a DataStore
action called with ignore_auth, SQL on CKAN's write connection) cannot change or
empty every department's KPI history. The CKAN-side guards are
test_statistics_resource_guard.py and test_statistics.py."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from ckanext.govservice import statistics_store as store

from .test_statistics import HEADER, load_csv, published, services, table_id  # noqa: F401  (fixture)

WRITES = {
    "insert": 'INSERT INTO public."{t}" (service_code, department, period, channel, received) '
              "VALUES ('SR-1', 'market-regulation', '2026-02', 'online', 9)",
    "update": 'UPDATE public."{t}" SET received = 999',
    "delete": 'DELETE FROM public."{t}"',
    "truncate": 'TRUNCATE public."{t}"',
}


def test_every_write_on_ckans_own_connection_is_refused_by_the_database(services):
    load_csv(services["context"], "market-regulation", HEADER + "SR-1,2026-01,online,1,1,1,1,,,,,,,,,\n")
    table = table_id()

    for write, statement in WRITES.items():
        with pytest.raises(sa.exc.DBAPIError) as refused, store.engine().begin() as conn:
            conn.execute(sa.text(statement.format(t=table)))
        assert (f"the statistics table {table} is written only by govservice_statistics_load: "
                f"{write.upper()} refused") in str(refused.value)

    assert [(r["service_code"], r["period"], r["received"]) for r in published()] == [("SR-1", "2026-01", 1)]


def test_the_loader_still_writes_and_its_permission_ends_with_its_transaction(services):
    load_csv(services["context"], "market-regulation", HEADER + "SR-1,2026-01,online,1,1,1,1,,,,,,,,,\n")
    load_csv(services["context"], "market-regulation", HEADER + "SR-1,2026-01,online,5,1,1,1,,,,,,,,,\n")

    assert [r["received"] for r in published()] == [5]
    with store.engine().connect() as conn:   # a pooled connection the loader used: no permission left
        assert conn.execute(sa.text("SELECT current_setting('govservice.statistics_writer', true)")
                            ).scalar() in (None, "")
