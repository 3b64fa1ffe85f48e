"""Fixtures shared by every test folder (the extension's, tests/, harvesters/, datasets/).

CKAN's own pytest plugin (``--ckan-ini=test.ini``) provides ``clean_db``,
``clean_index``, ``with_plugins`` and friends; these add the pieces of the real
stack that CKAN's plugin does not start by itself. CKAN and rq are imported in
the fixtures, not here: the unit folders run without CKAN's plugin or a config
(``make test-unit``), and loading this file must not need either.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def ckan_ini(pytestconfig) -> Path:
    return Path(pytestconfig.getoption("ckan_ini")).resolve()


def _workers_on(queue: str) -> list[rq.Worker]:
    import rq
    from ckan.lib.redis import connect_to_redis
    return [w for w in rq.Worker.all(connection=connect_to_redis()) if queue in w.queue_names()]


@pytest.fixture
def job_worker(ckan_ini, reset_redis):
    """A real ``ckan jobs worker`` process on the test site's default queue, for one test.

    The demo's worker (started by ``make up``) serves ckan.ini's site; tests
    run as another site (test.ini), so they start a worker of their own. It
    starts on empty queues and stops with its test: CKAN itself queues jobs
    (the DataStore's record count and ``last_modified`` patch, a few seconds
    late) that a worker left running would carry out in a later test's fresh
    database, racing that test to create the site user.
    """
    from ckan.lib import jobs
    reset_redis("rq:*")
    queue = jobs.add_queue_name_prefix(jobs.DEFAULT_QUEUE_NAME)
    (ROOT / "var" / "log").mkdir(parents=True, exist_ok=True)
    log = open(ROOT / "var" / "log" / "test-worker.log", "ab")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "ckan"), "-c", str(ckan_ini), "jobs", "worker"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while not any(w.pid == proc.pid for w in _workers_on(queue)):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the test job worker did not start; see {log.name}")
        time.sleep(0.2)
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def sysadmin_context():
    from ckan.tests import factories
    user = factories.Sysadmin()
    return {"user": user["name"], "ignore_auth": False}


@pytest.fixture
def clean_db(reset_db, migrate_db_for):
    """CKAN's clean_db, plus the migrations of the plugins test.ini enables.

    CKAN rebuilds only its core tables; the activity plugin keeps its columns
    in migrations of its own (as ckanext-activity's own tests do).
    """
    reset_db()
    migrate_db_for("activity")
