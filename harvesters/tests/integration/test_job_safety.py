"""Harvest data safety: a job always ends, one run of a source at a time, a stale
held job cannot withdraw, and a record that fails to read is not "missing"."""
import psycopg2
import pytest

from govharvest import db, pipeline, sources

from test_pipeline import ROWS, harvest, services_of, write_feed


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


def rows(n):
    return [f"R-{i},事项{i},public_service,citizen,10,{1 + i % 5},0\r\n" for i in range(1, n + 1)]


def test_a_held_job_superseded_by_a_later_harvest_cannot_be_confirmed(portal, department, source):
    write_feed(source, rows(3))
    harvest(portal, "csv-feed")
    write_feed(source, rows(1))
    held = harvest(portal, "csv-feed")
    assert held["status"] == "held"
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
