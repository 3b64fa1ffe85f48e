"""Running harvests: queued for real workers, scheduled by cron, surviving kill -9."""
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest

from govharvest import db, pipeline, queue, sources

from test_pipeline import HEADER, harvest, services_of, write_feed

GOVHARVEST = str(Path(sys.executable).parent / "govharvest")


@pytest.fixture
def harvest_queue(settings, monkeypatch):
    """The harvest test queue; the worker a test starts inherits the environment,
    where the portal fixture has put the test site's URL and token."""
    monkeypatch.setenv("GOVHARVEST_REDIS_URL", settings["GOVHARVEST_TEST_REDIS_URL"])
    queue.queue().empty()
    return queue


def rows(n, start=1):
    return [f"R-{i},事项{i},public_service,citizen,10,{1 + i % 5},0\r\n" for i in range(start, start + n)]


def test_a_queued_run_is_done_by_a_worker(portal, department, source, harvest_queue):
    write_feed(source, rows(3))
    with db.connect() as conn:
        job_id = queue.enqueue(conn, sources.get(conn, "csv-feed"))

    subprocess.run([GOVHARVEST, "worker", "--burst"], check=True, timeout=120, env=os.environ)

    with db.connect() as conn:
        assert pipeline.report(conn, job_id)["counts"]["new"] == 3
    assert sorted(services_of(portal, department)) == ["R-1", "R-2", "R-3"]


def test_running_twice_at_once_joins_the_open_job(source):
    with db.connect() as conn:
        src = sources.get(conn, "csv-feed")
        assert pipeline.start_job(conn, src) == pipeline.start_job(conn, src)


def test_a_held_job_withdraws_once_a_person_confirms(portal, department, source):
    write_feed(source, rows(3))
    harvest(portal, "csv-feed")
    write_feed(source, rows(1))
    held = harvest(portal, "csv-feed")
    assert held["status"] == "held"

    with db.connect() as conn:
        job_id = held["job"]
    assert pipeline.confirm_withdrawals(db.connect, job_id, portal) == 2

    statuses = {code: d["status"] for code, d in services_of(portal, department).items()}
    assert statuses == {"R-1": "active", "R-2": "withdrawn", "R-3": "withdrawn"}


def test_the_scheduler_queues_due_sources_and_fails_dead_jobs(source, harvest_queue):
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("UPDATE source SET schedule = '*/5 * * * *', "
                    "created_at = now() - interval '1 hour' WHERE name = 'csv-feed'")
        dead = pipeline.start_job(conn, sources.get(conn, "csv-feed"))
        cur.execute("UPDATE job SET status = 'running', queued_at = now() - interval '2 hours', "
                    "started_at = now() - interval '2 hours', "
                    "heartbeat_at = now() - interval '2 hours' WHERE id = %s", (dead,))

    queued = queue.schedule_once()

    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT status, error FROM job WHERE id = %s", (dead,))
        job = cur.fetchone()
    assert job["status"] == "failed" and "no sign of life" in job["error"]
    assert len(queued) == 1 and queued[0] != dead
    assert queue.schedule_once() == []          # not due again until the next slot


def test_a_job_killed_mid_way_leaves_no_duplicates_and_the_next_run_completes(
        portal, department, source, settings):
    write_feed(source, rows(40))
    proc = subprocess.Popen([GOVHARVEST, "run", "csv-feed", "--now"], env=os.environ,   # the test site's
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _loaded(settings) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 5 <= _loaded(settings) < 40

    with db.connect() as conn, conn.cursor() as cur:   # the watchdog's view, an hour later
        cur.execute("UPDATE job SET heartbeat_at = now() - interval '2 hours', time_limit_s = 60")
        pipeline.fail_overdue_jobs(conn)
    report = harvest(portal, "csv-feed")

    assert report["status"] == "done"
    found = portal.action.package_search(
        fq=f"owner_org:{department['id']} AND dataset_type:service", rows=100)
    assert found["count"] == 40
    assert len({d["service_code"] for d in found["results"]}) == 40


def _loaded(settings) -> int:
    conn = psycopg2.connect(settings["GOVHARVEST_TEST_DB_URL"])
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM record")
            return cur.fetchone()[0]
    finally:
        conn.close()
