"""Harvest data safety: a job always ends, one run of a source at a time, a stale
held job cannot withdraw, and a record that fails to read is not "missing"."""
import os
import time

import psycopg2
import pytest

from govharvest import db, pipeline, sources

from test_pipeline import HEADER, ROWS, harvest, services_of, write_feed
from test_running import rows


def _job(job_id):
    with db.connect() as conn:
        return db.job(conn, job_id)


def test_an_unexpected_exception_ends_the_job_failed_with_its_reason(portal, source, monkeypatch):
    write_feed(source, [ROWS["SC-1"]])

    def broken(*args, **kwargs):
        raise KeyError("mapping")
    monkeypatch.setattr(pipeline, "_harvest", broken)
    with db.connect() as conn:
        job_id = pipeline.start_job(conn, sources.get(conn, "csv-feed"))

    pipeline.run_job(db.connect, job_id, portal)

    job = _job(job_id)
    assert job["status"] == "failed"
    assert job["error"] == "unexpected error: KeyError: 'mapping'"
    assert job["finished_at"] is not None


def test_the_database_refuses_a_second_open_job_for_one_source(source):
    with db.connect() as conn:
        pipeline.start_job(conn, sources.get(conn, "csv-feed"))
    with pytest.raises(psycopg2.errors.UniqueViolation), db.connect() as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO job (source_id, status) SELECT id, 'running' FROM source")


def test_a_job_already_running_is_not_run_a_second_time_beside_it(portal, department, source):
    write_feed(source, [ROWS["SC-1"]])
    with db.connect() as conn:
        job_id = pipeline.start_job(conn, sources.get(conn, "csv-feed"))
        assert db.claim_job(conn, job_id) is not None          # a worker has it
        assert pipeline.start_job(conn, sources.get(conn, "csv-feed")) == job_id   # run --now joins

    assert pipeline.run_job(db.connect, job_id, portal) == {}

    assert services_of(portal, department) == {}                # nothing loaded twice
    assert _job(job_id)["status"] == "running"                  # the first run's, untouched


def _held_job(portal, source) -> dict:
    """The report of a harvest of csv-feed that holds R-2 and R-3's withdrawals."""
    write_feed(source, rows(3))
    harvest(portal, "csv-feed")
    write_feed(source, rows(1))
    held = harvest(portal, "csv-feed")
    assert held["status"] == "held"
    return held


def test_a_held_job_superseded_by_a_later_harvest_cannot_be_confirmed(portal, department, source):
    held = _held_job(portal, source)
    write_feed(source, rows(3))                 # the feed is whole again
    later = harvest(portal, "csv-feed")
    assert later["status"] == "done"

    with pytest.raises(ValueError) as refused:
        pipeline.confirm_withdrawals(db.connect, held["job"], portal)

    assert str(refused.value) == (f"job {held['job']} was superseded by job {later['job']}, a later "
                                  "harvest of csv-feed: its withdrawals are out of date")
    statuses = {code: d["status"] for code, d in services_of(portal, department).items()}
    assert statuses == {"R-1": "active", "R-2": "active", "R-3": "active"}
    assert _job(held["job"])["status"] == "held"


def _write_feed_with_fees(folder, rows):
    """The feed with a fees column (a JSON list), its mtime moved on as write_feed does."""
    path = folder / "services.csv"
    stamp = int(max(path.stat().st_mtime, time.time())) + 1
    path.write_bytes((HEADER.rstrip("\r\n") + ",收费\r\n" + "".join(rows)).encode("gbk"))
    os.utime(path, (stamp, stamp))


@pytest.fixture
def withdraws_freely(source):
    """csv-feed withdraws whatever goes missing, without holding for a person."""
    with db.connect() as conn:
        sources.update(conn, "csv-feed", withdraw_threshold=1.0)
    return source


def test_a_record_that_fails_to_read_is_not_withdrawn_as_missing(portal, department, withdraws_freely):
    write_feed(withdraws_freely, [ROWS["SC-1"], ROWS["SC-2"]])
    harvest(portal, "csv-feed")
    with_fees = [ROWS["SC-1"].rstrip("\r\n") + ",\r\n",
                 ROWS["SC-2"].rstrip("\r\n") + ",[not json\r\n"]   # SC-2 cannot be read
    _write_feed_with_fees(withdraws_freely, with_fees)

    report = harvest(portal, "csv-feed")

    assert report["status"] == "done"
    assert [r["record"] for r in report["rejected"]] == ["SC-2"]
    assert report["withdrawn"] == []
    statuses = {code: d["status"] for code, d in services_of(portal, department).items()}
    assert statuses == {"SC-1": "active", "SC-2": "active"}


def test_a_record_that_fails_to_read_without_an_id_holds_every_withdrawal(
        portal, department, withdraws_freely):
    write_feed(withdraws_freely, [ROWS["SC-1"], ROWS["SC-2"]])
    harvest(portal, "csv-feed")
    no_code = ",食品经营许可,administrative_licence,business,20,10,1\r\n"     # SC-2, its code lost
    write_feed(withdraws_freely, [ROWS["SC-1"], no_code])

    report = harvest(portal, "csv-feed")

    assert report["status"] == "held"
    assert report["held"] == ["SC-2"] and report["withdrawn"] == []
    statuses = {code: d["status"] for code, d in services_of(portal, department).items()}
    assert statuses == {"SC-1": "active", "SC-2": "active"}


def test_the_watchdog_does_not_declare_a_long_fetch_dead(portal, department, source, monkeypatch):
    write_feed(source, [ROWS["SC-1"]])
    with db.connect() as conn, conn.cursor() as cur:
        job_id = pipeline.start_job(conn, sources.get(conn, "csv-feed"))
        cur.execute("UPDATE job SET time_limit_s = 2 WHERE id = %s", (job_id,))
    fetch, failed_by_watchdog = pipeline._fetch, []

    def slow_fetch(src):          # the feed takes longer than the job's time limit
        time.sleep(3)
        with db.connect() as conn:     # the scheduler's watchdog, meanwhile
            failed_by_watchdog.extend(pipeline.fail_overdue_jobs(conn))
        return fetch(src)
    monkeypatch.setattr(pipeline, "_fetch", slow_fetch)

    pipeline.run_job(db.connect, job_id, portal)

    assert failed_by_watchdog == []
    assert _job(job_id)["status"] == "done"


def test_a_job_the_watchdog_failed_is_not_finished_as_done_by_its_late_process(
        portal, department, source, monkeypatch):
    write_feed(source, [ROWS["SC-1"]])
    with db.connect() as conn:
        job_id = pipeline.start_job(conn, sources.get(conn, "csv-feed"))
    fetch = pipeline._fetch

    def fetch_after_the_watchdog(src):   # the process stalled; the watchdog gave up on it
        with db.connect() as conn, conn.cursor() as cur:
            cur.execute("UPDATE job SET heartbeat_at = now() - interval '2 hours' WHERE id = %s", (job_id,))
            assert pipeline.fail_overdue_jobs(conn) == [job_id]
        return fetch(src)
    monkeypatch.setattr(pipeline, "_fetch", fetch_after_the_watchdog)

    pipeline.run_job(db.connect, job_id, portal)

    job = _job(job_id)
    assert job["status"] == "failed"
    assert job["error"] == "no sign of life within the time limit; the worker probably died"


def test_a_held_job_cannot_be_confirmed_while_a_later_harvest_of_its_source_runs(
        portal, department, source):
    held = _held_job(portal, source)
    with db.connect() as conn:
        running = pipeline.start_job(conn, sources.get(conn, "csv-feed"))
        assert db.claim_job(conn, running) is not None      # a worker is harvesting again

    with pytest.raises(ValueError) as refused:
        pipeline.confirm_withdrawals(db.connect, held["job"], portal)

    assert str(refused.value) == (f"job {running}, a later harvest of csv-feed, is running: confirm "
                                  f"job {held['job']}'s withdrawals after it ends, if it still holds them")
    statuses = {code: d["status"] for code, d in services_of(portal, department).items()}
    assert statuses == {"R-1": "active", "R-2": "active", "R-3": "active"}
    assert _job(held["job"])["status"] == "held"
