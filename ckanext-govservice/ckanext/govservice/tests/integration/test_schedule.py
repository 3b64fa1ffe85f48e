"""The platform's periodic tasks (schedule.py) on the real stack: a due task runs
once however many schedulers look, its outcome is recorded in Redis and shown
by govservice_health, and a failing task does not stop the others."""
from __future__ import annotations

import datetime as dt
import socket

import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import helpers

from ckanext.govservice import schedule

NOW = dt.datetime(2026, 11, 29, 3, 45, tzinfo=dt.timezone.utc)


@pytest.fixture
def tasks(monkeypatch, clean_db, statistics_db):
    r = schedule._redis()
    for key in r.keys(f"{schedule.KEY}:*"):
        r.delete(key)
    for task in schedule.TASKS:
        monkeypatch.setitem(tk.config, f"ckanext.govservice.schedule.{task}", "")
    return monkeypatch


def test_a_due_task_runs_once_however_many_schedulers_look(tasks):
    tasks.setitem(tk.config, "ckanext.govservice.schedule.document_snapshot", "45 3 * * *")
    first = schedule.run_due(NOW, since=NOW - dt.timedelta(seconds=30))
    assert list(first) == ["document_snapshot"]
    assert (first["document_snapshot"]["due"], first["document_snapshot"]["ok"]) == (NOW.isoformat(), True)
    assert schedule.run_due(NOW, since=NOW - dt.timedelta(seconds=30)) == {}    # a second scheduler
    assert schedule.run_due(NOW + dt.timedelta(seconds=30), since=NOW) == {}   # the next look


def test_a_failing_task_is_recorded_and_the_others_still_run(tasks):
    def broken():
        raise RuntimeError("mail server refused the connection")
    tasks.setitem(schedule.TASKS, "alerts", broken)
    tasks.setitem(tk.config, "ckanext.govservice.schedule.alerts", "45 3 * * *")
    tasks.setitem(tk.config, "ckanext.govservice.schedule.document_snapshot", "45 3 * * *")
    ran = schedule.run_due(NOW, since=NOW - dt.timedelta(minutes=1))
    assert ran["alerts"]["ok"] is False
    assert ran["alerts"]["error"] == "RuntimeError: mail server refused the connection"
    assert ran["document_snapshot"]["ok"] is True


def test_health_shows_each_tasks_schedule_last_run_and_next_time(tasks):
    tasks.setitem(tk.config, "ckanext.govservice.schedule.document_snapshot", "45 3 * * *")
    schedule.run_due(NOW, since=NOW - dt.timedelta(minutes=1))
    shown = helpers.call_action("govservice_health", context={"ignore_auth": True})["scheduled_tasks"]
    snapshot = shown["tasks"]["document_snapshot"]
    assert (snapshot["schedule"], snapshot["last"]["due"], snapshot["last"]["ok"]) == (
        "45 3 * * *", NOW.isoformat(), True)
    assert dt.datetime.fromisoformat(snapshot["next"]).time() == dt.time(3, 45)
    assert shown["tasks"]["alerts"] == {"schedule": None, "last": None, "next": None}
    assert shown["running"] is False          # no scheduler process in the test site
    anonymous = helpers.call_action("govservice_health", context={"ignore_auth": False, "user": ""})
    assert "scheduled_tasks" not in anonymous


def test_a_schedulers_heartbeat_shows_it_running_until_it_expires(tasks):
    r = schedule._redis()
    schedule._heartbeat(r, NOW)
    assert schedule.report(NOW)["running"] is True
    r.delete(f"{schedule.KEY}:alive:{socket.gethostname()}")        # its HEARTBEAT_TTL passed
    assert schedule.report(NOW)["running"] is False
    assert r.smembers(f"{schedule.KEY}:schedulers") == set()           # and it left the set
