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
from rq.job import Dependency

from . import bulk, catalogues, db, pipeline, settings

log = logging.getLogger(__name__)
QUEUE = "govharvest"


def redis_connection() -> Redis:
    return Redis.from_url(settings.redis_url())


def queue() -> rq.Queue:
    return rq.Queue(QUEUE, connection=redis_connection())


def message_id(job_id: int) -> str:
    """The Redis queue's id of the message that runs harvest job ``job_id``."""
    return f"govharvest-{job_id}"


def enqueue(conn, source: dict, after: list[int] = ()) -> int:
    """Queue a run of the source; returns the harvest job id (an open one is reused).
    ``after``: harvest jobs this one waits for (run when they have ended, whether
    they succeeded or not)."""
    job_id = pipeline.start_job(conn, source)
    conn.commit()
    waits = [message_id(j) for j in after if j != job_id]
    queue().enqueue(run_queued_job, job_id, job_id=message_id(job_id),
                    job_timeout=source.get("time_limit_s", 3600), result_ttl=86400,
                    depends_on=Dependency(jobs=waits, allow_failure=True) if waits else None)
    return job_id


def run_queued_job(job_id: int) -> dict:
    """What a worker runs."""
    return pipeline.run_job(db.connect, job_id, bulk.configured_ckan())


def due_sources(conn, at: dt.datetime) -> list[dict]:
    """Enabled sources whose cron schedule has fired since their last job was queued."""
    due = []
    for s in db.scheduled_sources(conn):
        since = s["last_queued"] or s["created_at"]
        if croniter(s["schedule"], since).get_next(dt.datetime) <= at:
            due.append(s)
    return due


def schedule_once(now: dt.datetime | None = None) -> list[int]:
    """One scheduler tick: fail overdue jobs, queue what is due. Returns the job ids
    queued, in the order they are queued: catalogue sources (basic items,
    documents) first, then services, then statistics (catalogues.HARVEST_ORDER);
    each tier's jobs wait for the earlier tiers' jobs of this tick to end, so a
    service naming a new basic code finds it."""
    now = now or dt.datetime.now(dt.timezone.utc)
    queued: list[int] = []
    earlier: list[int] = []      # the jobs of the tiers before the current one
    with db.connect() as conn:
        for job_id in pipeline.fail_overdue_jobs(conn):
            log.warning("harvest job %s had no sign of life within its time limit: marked failed", job_id)
        due = sorted(due_sources(conn, now), key=lambda s: (catalogues.harvest_tier(s), s["name"]))
        tier = 0
        for source in due:
            if catalogues.harvest_tier(source) != tier:
                tier, earlier = catalogues.harvest_tier(source), list(queued)
            queued.append(enqueue(conn, source, after=earlier))
    return queued


def run_scheduler(interval: float = 30) -> None:
    while True:
        schedule_once()
        time.sleep(interval)


def run_worker(burst: bool = False) -> None:
    """Take jobs until stopped. A worker writing in-process (GOVHARVEST_CKAN_INI)
    runs its jobs in its own process, which loads CKAN once, rather than in a
    forked child per job; start one per core for departments in parallel."""
    if settings.ckan_ini():
        bulk.configured_ckan().loaded()
        rq.SimpleWorker([queue()], connection=redis_connection()).work(burst=burst)
        return
    rq.Worker([queue()], connection=redis_connection()).work(burst=burst)
