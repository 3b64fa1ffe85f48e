"""The platform's periodic tasks, run by ``ckan govservice scheduler``.

CKAN has job queues but no clock: this process is the clock. Each task has a
cron expression in ckan.ini (``ckanext.govservice.schedule.<task>``; empty
turns it off). Every half minute the scheduler runs the tasks that came due
since it last looked, each once even when several schedulers run (a claim in
Redis per task and due time), and records the outcome in Redis, where
``govservice_health`` reads it. A scheduler that was down over several due
times runs the task once when it is back, never once per missed time.

Tasks: ``alerts`` (e-mail what went wrong, alerts.py), ``links_check``
(queue each department's link check on the job worker), ``standards_publish``
(the open dataset of service standards), ``document_snapshot`` (each
department's documents to bring, for the 材料减免率 trend), ``webhooks``
(queue the changes the webhooks follow and deliver them, with their retries;
subscriptions.py), ``digests`` (CKAN's activity e-mail notifications) and
``reminders_publish`` (the open dataset of reminder rules, due.py) and
``synonyms_restore`` (runtime synonyms a new Solr home lost, put back: search.py).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import time
from typing import Any, Callable

import ckan.plugins.toolkit as tk

from .core import schedule as cron

log = logging.getLogger(__name__)
KEY = "govservice:schedule"
TICK = 30              # seconds between looks at the clock
HEARTBEAT_TTL = 120    # a scheduler not seen for this long is down (health, container health check)


def _alerts() -> Any:
    from . import alerts
    return alerts.run()


def _links_check() -> Any:
    from . import data_quality
    return {"queued_departments": data_quality.enqueue_link_checks()}


def _standards_publish() -> Any:
    from . import standards
    return standards.publish()


def _document_snapshot() -> Any:
    from . import document_catalogue
    return document_catalogue.snapshot()


def _reminders_publish() -> Any:
    from . import due
    return due.publish()


def _webhooks() -> Any:
    from . import subscriptions
    return subscriptions.run_webhooks()


def _digests() -> Any:
    from . import subscriptions
    return subscriptions.send_digests()


def _synonyms_restore() -> Any:   # runtime synonyms Solr lost (a new Solr home), put back
    from . import search
    entries = tk.get_action("govservice_synonym_list")({"ignore_auth": True}, {})["entries"]
    return {"restored": search.restore_synonyms(entries)}


def _queues_prune() -> Any:   # the live queues' observations beyond their retention (queues.py)
    from . import queues
    return queues.prune()


TASKS: dict[str, Callable[[], Any]] = {
    "alerts": _alerts, "links_check": _links_check,
    "standards_publish": _standards_publish, "document_snapshot": _document_snapshot,
    "webhooks": _webhooks, "digests": _digests, "reminders_publish": _reminders_publish,
    "queues_prune": _queues_prune, "synonyms_restore": _synonyms_restore,
}


def expression(task: str) -> str:
    return (tk.config.get(f"ckanext.govservice.schedule.{task}") or "").strip()


def _redis():
    from ckan.lib.redis import connect_to_redis
    return connect_to_redis()


def run_due(now: dt.datetime, since: dt.datetime) -> dict[str, dict[str, Any]]:
    """Run each task due in (since, now], unless another scheduler has claimed it;
    return {task: outcome} for the tasks this call ran."""
    ran: dict[str, dict[str, Any]] = {}
    r = _redis()
    for task, function in TASKS.items():
        due = cron.latest_due(expression(task), since, now)
        if due is None:
            continue
        if not r.set(f"{KEY}:claim:{task}:{due.isoformat()}", socket.gethostname(), nx=True, ex=2 * 86400):
            continue   # another scheduler runs this one
        started = time.monotonic()
        try:
            result = function()
            outcome = {"due": due.isoformat(), "ok": True, "seconds": round(time.monotonic() - started, 1)}
            log.info("scheduled task %s (due %s) done: %s", task, due.isoformat(),
                     json.dumps(result, ensure_ascii=False, default=str)[:500])
        except Exception as e:   # one failing task never stops the others or the clock
            log.exception("scheduled task %s (due %s) failed", task, due.isoformat())
            outcome = {"due": due.isoformat(), "ok": False, "seconds": round(time.monotonic() - started, 1),
                       "error": f"{type(e).__name__}: {e}"[:500]}
        r.set(f"{KEY}:last:{task}", json.dumps(outcome))
        ran[task] = outcome
    return ran


def report(now: dt.datetime | None = None) -> dict[str, Any]:
    """For govservice_health: whether a scheduler is alive, and per task its
    expression, its last run (due time, ok or the error) and its next due time."""
    now = now or dt.datetime.now(dt.timezone.utc)
    r = _redis()
    tasks = {}
    for task in TASKS:
        last = r.get(f"{KEY}:last:{task}")
        nxt = cron.next_due(expression(task), now)
        tasks[task] = {"schedule": expression(task) or None,
                       "last": json.loads(last) if last else None,
                       "next": nxt.isoformat() if nxt else None}
    return {"running": bool(_alive_schedulers(r)), "tasks": tasks}


def _heartbeat(r, now: dt.datetime) -> None:
    """This scheduler is alive for HEARTBEAT_TTL: a key of its own that expires
    (what the container's health check reads), and its host in the set of
    schedulers, so the health report asks after each instead of scanning keys."""
    host = socket.gethostname()
    with r.pipeline() as p:
        p.set(f"{KEY}:alive:{host}", now.isoformat(), ex=HEARTBEAT_TTL)
        p.sadd(f"{KEY}:schedulers", host)
        p.execute()


def _alive_schedulers(r) -> list[str]:
    """The hosts whose scheduler's heartbeat has not expired; the others leave the set."""
    hosts = sorted(h.decode() if isinstance(h, bytes) else h for h in r.smembers(f"{KEY}:schedulers"))
    beats = r.mget([f"{KEY}:alive:{h}" for h in hosts]) if hosts else []
    gone = [h for h, beat in zip(hosts, beats) if beat is None]
    if gone:
        r.srem(f"{KEY}:schedulers", *gone)
    return [h for h, beat in zip(hosts, beats) if beat is not None]


def forever() -> None:
    """The scheduler's loop: heartbeat, run what came due, sleep."""
    for task in TASKS:
        problem = cron.check(expression(task))
        if problem:
            raise SystemExit(f"ckanext.govservice.schedule.{task}: {problem}")
    since = dt.datetime.now(dt.timezone.utc)
    log.info("scheduler started: %s", {t: expression(t) or "off" for t in TASKS})
    while True:
        now = dt.datetime.now(dt.timezone.utc)
        try:
            _heartbeat(_redis(), now)
            run_due(now, since)
            since = now
        except Exception:   # Redis away: try again at the next tick, from the same point
            log.exception("scheduler: this tick failed; trying again")
        time.sleep(TICK)
