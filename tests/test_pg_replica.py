"""The PostgreSQL streaming replica, run for real and killed on purpose.

The replica is Debian's PostgreSQL 15 cluster `15/replica` (port 5433) made by
pg_basebackup of the primary and streaming from it, started once per session
the way an operator starts it (`GOVSERVICE_PG_REPLICA=1 stack/stack.sh start
pg-replica`) and stopped again at the end if this session started it. The test
site (in-process) reads the DataStore and the KPIs through the read URL that
`make up` writes in replica mode: the replica first, the primary when it is
down (libpq's ``target_session_attrs=prefer-standby``). Writes stay on the primary.

Behaviour when the replica is down, decided here: reads fail over to the
primary, transparently; govservice_health says `datastore_replica` is down,
naming it, and which server serves the reads.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

import ckan.plugins.toolkit as tk
from ckan.tests import factories, helpers

from ckanext.govservice import statistics_store as store
from ckanext.govservice.tests.integration.conftest import statistics_db  # noqa: F401  (a fixture)
from govharvest import statistics as statistics_feed

from .stackctl import ROOT, STACK
from .test_crawl import CITY, _department_services, load_network

pytestmark = pytest.mark.stack

REPLICA_PORT = int(os.environ.get("GOVSERVICE_PG_REPLICA_PORT", "5433"))
PRIMARY_PORT = int(os.environ.get("GOVSERVICE_PG_PORT", "5432"))
DEPARTMENT = "housing-provident-fund"   # 13 services (CPSV-AP), 36 months of statistics (JSON)


def _replica_running() -> bool:
    listed = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
    return any(line.split()[:2] == ["15", "replica"] and "online" in line for line in listed.splitlines())


def _stack(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GOVSERVICE_PG_REPLICA": "1", "GOVSERVICE_PG_REPLICA_PORT": str(REPLICA_PORT)}
    done = subprocess.run(["bash", str(STACK), *args], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"stack.sh {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="session")
def pg_replica():
    was_running = _replica_running()
    _stack("start", "pg-replica")   # makes it with pg_basebackup the first time
    yield
    if not was_running:
        _stack("stop", "pg-replica")


@pytest.fixture
def reads_on_replica(pg_replica, monkeypatch, with_plugins, statistics_db):  # noqa: F811
    """The test site's read URL as `GOVSERVICE_PG_REPLICA=1 make up` writes it."""
    read = sa.engine.make_url(tk.config["ckan.datastore.read_url"])
    replica_url = read.set(host=None, port=None, query={
        "host": [f"127.0.0.1:{REPLICA_PORT}", f"127.0.0.1:{PRIMARY_PORT}"],
        "target_session_attrs": "prefer-standby", "connect_timeout": "3"})
    urls = {"primary": tk.config["ckan.datastore.read_url"],
            "replica": replica_url.render_as_string(hide_password=False)}
    monkeypatch.setitem(tk.config, "ckan.datastore.read_url", urls["replica"])
    monkeypatch.setitem(tk.config, "ckanext.govservice.catalogue.auto_rebuild", False)
    monkeypatch.setitem(tk.config, "ckanext.govservice.statistics.background_jobs", False)
    return urls


def _load_department(tmp_path: Path) -> str:
    """The demo department's services and statistics, through the platform's own loader."""
    d = next(d for d in json.loads((CITY / "departments.json").read_text("utf-8"))["departments"]
             if d["name"] == DEPARTMENT)
    context = {"user": factories.Sysadmin()["name"]}
    load_network([d], context)
    org = factories.Organization(name=d["name"], title=d["title"], title_en=d["title_en"],
                                 level=d["level"], area=d["area"])
    for record in _department_services(d):
        try:
            helpers.call_action("package_create", context=dict(context),
                                **{**record, "type": "service", "owner_org": org["id"]})
        except tk.ValidationError:
            pass
    csv_path = tmp_path / "statistics.csv"
    statistics_feed.to_platform_csv(CITY / d["statistics"]["file"], d["statistics"]["format"], csv_path)
    helpers.call_action("govservice_statistics_load", context=dict(context), department=d["name"],
                        upload=FileStorage(stream=io.BytesIO(csv_path.read_bytes()), filename="statistics.csv",
                                           content_type="text/csv"))
    return helpers.call_action("package_show", id="service-statistics")["resources"][0]["id"]


def _on(port: int, sql: str):
    url = sa.engine.make_url(tk.config["ckan.datastore.write_url"]).set(host="127.0.0.1", port=port, query={})
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar()
    finally:
        engine.dispose()


def _reads(resource_id: str) -> dict:
    """What a visitor reads: DataStore rows and SQL, KPIs, the league table."""
    return {
        "search": helpers.call_action("datastore_search", resource_id=resource_id, limit=5,
                                      sort="period, service_code, channel")["records"],
        "sql": helpers.call_action("datastore_search_sql", sql=(
            f'SELECT period, sum(completed) AS completed FROM "{resource_id}" '
            "GROUP BY period ORDER BY period"))["records"],
        "kpis": helpers.call_action("govservice_kpis", department=DEPARTMENT, group_by="period",
                                    period_type="quarter")["results"],
        "league": helpers.call_action("govservice_league_table")["departments"],
    }


def _served_by() -> int:
    with store.read_engine().connect() as conn:
        return conn.execute(sa.text("SELECT inet_server_port()")).scalar()


def test_a_load_reaches_the_replica_within_a_second_and_reads_from_it_equal_the_primarys(
        reads_on_replica, tmp_path, monkeypatch):
    resource_id = _load_department(tmp_path)
    on_primary = _on(PRIMARY_PORT, f'SELECT count(*) FROM "{resource_id}"')
    assert on_primary > 200
    loaded = time.monotonic()
    while _on(REPLICA_PORT, f"SELECT count(*) FROM pg_class WHERE relname = '{resource_id}'") == 0 \
            or _on(REPLICA_PORT, f'SELECT count(*) FROM "{resource_id}"') != on_primary:
        assert time.monotonic() - loaded < 10, "the load did not reach the replica within 10 s"
        time.sleep(0.05)
    print(f"statistics load visible on the replica {time.monotonic() - loaded:.2f} s after it committed")

    assert _served_by() == REPLICA_PORT
    from_replica = _reads(resource_id)
    monkeypatch.setitem(tk.config, "ckan.datastore.read_url", reads_on_replica["primary"])
    assert _served_by() == PRIMARY_PORT
    from_primary = _reads(resource_id)
    assert from_replica == from_primary
    assert len(from_replica["kpis"]) >= 4
    assert [d["department"] for d in from_replica["league"]] == [DEPARTMENT]

    monkeypatch.setitem(tk.config, "ckan.datastore.read_url", reads_on_replica["replica"])
    health = helpers.call_action("govservice_health", context={"ignore_auth": True})["services"]
    replica = health["datastore_replica"]
    assert replica["status"] == "up", replica
    assert replica["reads_served_by"] == f"replica on port {REPLICA_PORT}"
    assert replica["replicas"][f"127.0.0.1:{REPLICA_PORT}"]["lag_bytes"] < 16 * 1024 * 1024
    assert health["datastore"]["status"] == "up"


def test_the_replica_killed_reads_fail_over_to_the_primary_and_health_names_it(reads_on_replica, tmp_path):
    resource_id = _load_department(tmp_path)
    time.sleep(1)
    before = _reads(resource_id)
    _stack("start", "pg-replica")
    subprocess.run(["bash", str(ROOT / "stack" / "pg-replica.sh"), "kill"], check=True, capture_output=True,
                   env={**os.environ, "GOVSERVICE_PG_REPLICA_PORT": str(REPLICA_PORT)})
    try:
        assert not _replica_running()
        # the visitor's reads answer the same, from the primary (pooled replica connections
        # are found dead by the pre-ping and replaced)
        assert _reads(resource_id) == before
        assert _served_by() == PRIMARY_PORT
        health = helpers.call_action("govservice_health", context={"ignore_auth": True})
        replica = health["services"]["datastore_replica"]
        assert health["status"] == "degraded"
        assert replica["status"] == "down"
        assert replica["error"].startswith(f"the DataStore replica at 127.0.0.1:{REPLICA_PORT} did not answer (")
        assert replica["error"].endswith("DataStore and KPI reads are served by the primary")
        assert replica["reads_served_by"] == "primary (fail-over)"
        assert health["services"]["datastore"]["status"] == "up"
        assert health["services"]["postgresql"]["status"] == "up"
        # the primary takes writes as before: a second load of the same month is accepted
        org = helpers.call_action("organization_show", id=DEPARTMENT)
        assert org["name"] == DEPARTMENT
        count = _on(PRIMARY_PORT, f'SELECT count(*) FROM "{resource_id}"')
        assert count == len(helpers.call_action("datastore_search", resource_id=resource_id,
                                                limit=32000)["records"])
    finally:
        _stack("start", "pg-replica")   # restarts it: it catches up from the primary's WAL
    back = time.monotonic()
    while _served_by() != REPLICA_PORT:   # new connections prefer the standby again
        from ckanext.govservice.statistics_store import tables
        for engine in tables._read_engines.values():
            engine.dispose()
        assert time.monotonic() - back < 30
        time.sleep(0.5)
    assert _reads(resource_id) == before
    replica = helpers.call_action("govservice_health", context={"ignore_auth": True})["services"]["datastore_replica"]
    assert replica["status"] == "up", replica
