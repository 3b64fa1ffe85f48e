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
