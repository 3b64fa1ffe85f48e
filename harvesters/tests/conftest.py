"""Harvest tests run against the test site, never the demo portal: the harvest
test database, feeds served over real HTTP from a temporary folder and, for the
tests that load into a portal, the test site (the ini pytest was given) served
over HTTP by gunicorn in a subprocess (tests/testsite.py).

The site starts once, for the first test that asks for ``portal`` (or
``department``, ``source``, which need it), and stops at the end of the session.
It starts on an emptied test database, so nothing a test leaves there needs
purging.

unit/ holds the tests that need none of it (compare, normalise, tabular, the
formats, layout…; ``make test-unit`` runs them without CKAN, PostgreSQL, Solr or
Redis); integration/ those that use the harvest database or the site, which are
also marked ``stack`` here (``-m "not stack"`` leaves them out of any run).
feed_samples.py is what both read as another platform's feeds.
"""
from __future__ import annotations

import functools
import http.server
import os
import threading
import uuid
from pathlib import Path

import pytest
from ckanapi import RemoteCKAN

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SYSADMIN = "govharvest-tests"


def _settings() -> dict[str, str]:
    """The harvest test database and Redis db from var/harvest.env (nothing else
    of that file: its CKAN URL and token are the demo portal's)."""
    env = {}
    for line in (ROOT / "var" / "harvest.env").read_text().splitlines():
        key, _, value = line.partition("=")
        if key.startswith("GOVHARVEST_TEST_"):
            env[key] = value
    slot = os.environ.get("GOVSERVICE_TEST_SLOT")
    if slot:   # a parallel test run: its own harvest database and Redis db
        env["GOVHARVEST_TEST_DB_URL"] += f"_{slot}"
        env["GOVHARVEST_TEST_REDIS_URL"] = env["GOVHARVEST_TEST_REDIS_URL"][:-2] + f"1{slot}"
    # the environment wins, as in govharvest.settings (Redis has 16 databases:
    # slots 6-9 get 16-19, which it lacks, unless given one here)
    return {key: os.environ.get(key, value) for key, value in env.items()}


STACK_FIXTURES = {"settings", "harvest_db", "test_site"}


@pytest.fixture(autouse=True)
def _no_demo_settings(monkeypatch):
    """The commands a test runs read no settings file: by default they would read
    the checkout's var/harvest.env, the demo portal's."""
    monkeypatch.setenv("GOVHARVEST_ENV_FILE", "")


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.is_relative_to(HERE) and STACK_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.stack)


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


@pytest.fixture(scope="session")
def test_site(ckan_ini, reset_db, migrate_db_for, reset_index, reset_queues):
    """The test site's URL: its database and search index emptied (as root
    conftest's clean_db does), then served over HTTP until the session ends.
    No job worker: the served config turns off the jobs a service change queues."""
    from ckan import plugins
    # here, not at the top: importing ckan (ckanapi does) puts ckan/ first on
    # sys.path, where ``tests`` is CKAN's own; the unit run loads no CKAN plugin
    # that would have put the repository ahead of it
    from tests import testsite
    reset_db()   # the session's first reset drops every table, activity's too
    plugins.load("activity")   # its migrations are found through the loaded plugin
    try:
        migrate_db_for("activity")
    finally:
        plugins.unload("activity")
    reset_index()
    with testsite.serve(ckan_ini) as url:
        yield url
    reset_queues()   # what the site queued (xloader's jobs) and no worker took


_tokens: dict[str, str] = {}   # the sysadmin's id -> its API token


@pytest.fixture
def site_token(test_site) -> str:
    """A sysadmin's API token on the test site, made in-process; made again
    when a clean_db (of another test folder) has removed the sysadmin."""
    from ckan import model
    from ckan.tests import factories, helpers
    try:
        user = model.User.get(SYSADMIN)
        user_id = user.id if user else factories.Sysadmin(name=SYSADMIN)["id"]
        if user_id not in _tokens:
            _tokens[user_id] = helpers.call_action(
                "api_token_create", context={"user": SYSADMIN, "ignore_auth": True},
                user=SYSADMIN, name="harvester tests")["token"]
        return _tokens[user_id]
    finally:
        model.Session.remove()


@pytest.fixture
def portal(test_site, site_token, monkeypatch):
    """The test site as its sysadmin; the harvesters in this process, and the
    processes a test starts with its environment, load into it too."""
    monkeypatch.setenv("GOVHARVEST_CKAN_URL", test_site)
    monkeypatch.setenv("GOVHARVEST_CKAN_TOKEN", site_token)
    monkeypatch.delenv("GOVHARVEST_CKAN_TOKEN_FILE", raising=False)
    monkeypatch.setenv("GOVHARVEST_ENV_FILE", "")   # not the demo's settings
    with RemoteCKAN(test_site, apikey=site_token) as ckan:
        yield ckan


@pytest.fixture
def department(portal):
    """A department of its own on the test site."""
    return portal.action.organization_create(name=f"harvest-test-{uuid.uuid4().hex[:8]}",
                                             title="采集测试局")


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


@pytest.fixture
def sample_catalogue(portal):
    """The basic item and catalogue documents the sample services name
    (ckanext.govservice.tests.samples), on the test site: their codes are
    platform-wide, so they are made once a session, by a department of their own."""
    import ckanapi
    from ckanext.govservice.tests import samples
    try:
        owner = portal.action.organization_show(id="harvest-sample-catalogue")
    except ckanapi.NotFound:
        owner = portal.action.organization_create(name="harvest-sample-catalogue", title="样例目录发布机构")
    for entry in samples.catalogue(owner["name"]):
        try:
            portal.action.package_create(**entry)
        except ckanapi.ValidationError as e:
            if "already" not in str(e.error_dict):
                raise
    return owner
