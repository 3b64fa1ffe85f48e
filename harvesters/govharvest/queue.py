"""Harvest jobs on a Redis queue: workers run them, a scheduler starts due ones.

The job's record in the harvest database is the truth; the Redis message only
says "run job N". A worker that dies leaves the job 'running' with an old
heartbeat, and the watchdog (fail_overdue_jobs, run by the scheduler and
before each run) marks it failed; the next run completes the work.
"""
from __future__ import annotations

import datetime as dt
import logging
import time

import rq
from croniter import croniter
from redis import Redis

from . import db, pipeline, settings

log = logging.getLogger(__name__)
QUEUE = "govharvest"


def redis_connection() -> Redis:
    return Redis.from_url(settings.redis_url())


def queue() -> rq.Queue:
    return rq.Queue(QUEUE, connection=redis_connection())


def enqueue(conn, source: dict) -> int:
    """Queue a run of the source; returns the harvest job id (an open one is reused)."""
    job_id = pipeline.start_job(conn, source)
    conn.commit()
    queue().enqueue(run_queued_job, job_id, job_id=f"govharvest-{job_id}",
                    job_timeout=source.get("time_limit_s", 3600), result_ttl=86400)
    return job_id


def run_queued_job(job_id: int) -> dict:
    """What a worker runs."""
    return pipeline.run_job(db.connect, job_id, settings.ckan())


def due_sources(conn, at: dt.datetime) -> list[dict]:
    """Enabled sources whose cron schedule has fired since their last job was queued."""
    due = []
    for s in db.scheduled_sources(conn):
        since = s["last_queued"] or s["created_at"]
        if croniter(s["schedule"], since).get_next(dt.datetime) <= at:
            due.append(s)
    return due


def schedule_once(now: dt.datetime | None = None) -> list[int]:
    """One scheduler tick: fail overdue jobs, queue what is due. Returns the job ids queued."""
    now = now or dt.datetime.now(dt.timezone.utc)
    queued = []
    with db.connect() as conn:
        for job_id in pipeline.fail_overdue_jobs(conn):
            log.warning("harvest job %s had no sign of life within its time limit: marked failed", job_id)
        for source in due_sources(conn, now):
            queued.append(enqueue(conn, source))
    return queued


def run_scheduler(interval: float = 30) -> None:
    while True:
        schedule_once()
        time.sleep(interval)


def run_worker(burst: bool = False) -> None:
    rq.Worker([queue()], connection=redis_connection()).work(burst=burst)
