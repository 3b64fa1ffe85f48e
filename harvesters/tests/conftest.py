"""Harvest tests run against the real stack: the harvest test database, the
portal over HTTP, and feeds served over real HTTP from a temporary folder."""
from __future__ import annotations

import functools
import http.server
import os
import threading
import uuid
from pathlib import Path

import pytest
from ckanapi import RemoteCKAN

ROOT = Path(__file__).resolve().parents[2]


def _settings() -> dict[str, str]:
    env = {}
    for line in (ROOT / "var" / "harvest.env").read_text().splitlines():
        key, _, value = line.partition("=")
        env[key] = value
    slot = os.environ.get("GOVSERVICE_TEST_SLOT")
    if slot:   # a parallel test run: its own harvest database and Redis db
        env["GOVHARVEST_TEST_DB_URL"] += f"_{slot}"
        env["GOVHARVEST_TEST_REDIS_URL"] = env["GOVHARVEST_TEST_REDIS_URL"][:-2] + f"1{slot}"
    return env


@pytest.fixture(scope="session")
def settings():
    return _settings()


@pytest.fixture
def harvest_db(settings, monkeypatch):
    """The harvest test database, emptied, as GOVHARVEST_DB_URL."""
    import psycopg2
    url = settings["GOVHARVEST_TEST_DB_URL"]
    monkeypatch.setenv("GOVHARVEST_DB_URL", url)
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("TRUNCATE job_outcome, record, job, source RESTART IDENTITY CASCADE")
    conn.close()
    return url


@pytest.fixture
def portal(settings):
    token = Path(settings["GOVHARVEST_CKAN_TOKEN_FILE"]).read_text().strip()
    with RemoteCKAN(settings["GOVHARVEST_CKAN_URL"], apikey=token) as ckan:
        yield ckan


TEST_DEPARTMENT_PREFIXES = ("harvest-test-", "harvest-other-", "harvest-remote-")


@pytest.fixture(scope="session", autouse=True)
def no_leftover_test_departments(settings):
    """Purge test departments an interrupted earlier run left on the portal.

    These tests write to the portal the demo serves; a run killed mid-test
    never reaches its purge, and its departments would stay in the demo's
    lists. Only those over an hour old go: a parallel run's are still in use."""
    import datetime as dt
    token = Path(settings["GOVHARVEST_CKAN_TOKEN_FILE"]).read_text().strip()
    cutoff = dt.datetime.utcnow() - dt.timedelta(hours=1)
    with RemoteCKAN(settings["GOVHARVEST_CKAN_URL"], apikey=token) as ckan:
        for name in ckan.action.organization_list(limit=1000):
            if name.startswith(TEST_DEPARTMENT_PREFIXES):
                org = ckan.action.organization_show(id=name)
                if dt.datetime.fromisoformat(org["created"]) < cutoff:
                    _purge_department(ckan, org)


@pytest.fixture
def department(portal):
    """A department of its own on the portal, purged with its services afterwards."""
    name = f"harvest-test-{uuid.uuid4().hex[:8]}"
    org = portal.action.organization_create(name=name, title="采集测试局")
    yield org
    _purge_department(portal, org)


def _purge_department(portal, org, attempts: int = 5) -> None:
    """Purge the department and everything in it. A catalogue rebuild queued by
    the last harvest may create the department's catalogue dataset after we
    listed its datasets, so list, purge and try again until it goes."""
    import time
    from ckanapi import ValidationError
    for attempt in range(attempts):
        _drain_job_queue(portal)   # background jobs (catalogue files) may still be writing
        for dataset in portal.action.package_search(fq=f"owner_org:{org['id']}", rows=1000,
                                                    include_private=True, include_drafts=True)["results"]:
            _purge(portal, dataset["id"])
        try:
            portal.action.organization_purge(id=org["id"])
            return
        except ValidationError:
            if attempt == attempts - 1:
                raise
            time.sleep(1)


def _purge(portal, dataset_id: str, attempts: int = 10) -> None:
    """Purge, retrying while a background job (xloader, catalogue files) still
    writes resources of the dataset."""
    import time
    from ckanapi import CKANAPIError
    for attempt in range(attempts):
        try:
            portal.action.dataset_purge(id=dataset_id)
            return
        except CKANAPIError:
            if attempt == attempts - 1:
                raise
            time.sleep(1)


def _drain_job_queue(portal, timeout: float = 60) -> None:
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker = portal.action.govservice_health()["services"]["job_worker"]
        if not any(worker.get("queued_jobs", {}).values()):
            time.sleep(1)   # the job that was just taken off the queue, finishing
            return
        time.sleep(0.5)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def feed_server(tmp_path, monkeypatch):
    """A real HTTP server on loopback serving tmp_path; loopback allowed for the test."""
    monkeypatch.setenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def source(harvest_db, department, feed_server):
    """A CSV source "csv-feed" for the department, served from the returned folder."""
    from govharvest import db, sources
    folder, url = feed_server
    with db.connect() as conn:
        sources.add(conn, name="csv-feed", department=department["name"], format="csv",
                    location=f"{url}/services.csv")
    return folder
