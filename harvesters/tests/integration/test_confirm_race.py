"""Confirming a held job's withdrawals is taken in one transaction, not checked
then acted on (issue 19): with two real connections at once, one confirmation
holds the job while it withdraws, so a second confirmation, or a harvest of the
same source, cannot run beside it. Before, both confirmations passed the checks
and withdrew, and a harvest that ran meanwhile found the services live and then
saw them withdrawn by the confirmation that had started before it."""
import threading

import pytest

from govharvest import db, pipeline, sources
from govharvest.load import CkanTarget

from test_job_safety import _held_job, _job
from test_pipeline import services_of, write_feed
from test_running import rows


@pytest.fixture
def confirmation_in_progress(portal, monkeypatch):
    """Start confirming a job in a thread and stop it at its first withdrawal,
    until the test lets it go on. Yields (start, finish): start(job_id) returns
    once the thread is withdrawing; finish() lets it go on and returns what it
    returned (or raised)."""
    inside, go_on = threading.Event(), threading.Event()
    withdraw = CkanTarget.withdraw
    first = threading.Lock()
    result: dict = {}

    def held_up_withdraw(self, name):
        if first.acquire(blocking=False):   # only the confirmation in the thread waits
            inside.set()
            go_on.wait(60)   # a safety net: the test lets it go long before
        withdraw(self, name)

    monkeypatch.setattr(CkanTarget, "withdraw", held_up_withdraw)

    def confirm(job_id):
        try:
            result["withdrawn"] = pipeline.confirm_withdrawals(db.connect, job_id, portal)
        except Exception as e:   # reported to the test by finish()
            result["error"] = e
            inside.set()

    thread = None

    def start(job_id):
        nonlocal thread
        thread = threading.Thread(target=confirm, args=(job_id,))
        thread.start()
        assert inside.wait(60)
        assert "error" not in result, result.get("error")

    def finish():
        go_on.set()
        thread.join(60)
        return result

    yield start, finish
    go_on.set()
    if thread is not None:
        thread.join(60)


def test_a_second_confirmation_while_the_first_withdraws_is_refused(
        portal, department, source, confirmation_in_progress):
    start, finish = confirmation_in_progress
    held = _held_job(portal, source)
    start(held["job"])

    with pytest.raises(ValueError) as refused:
        pipeline.confirm_withdrawals(db.connect, held["job"], portal)

    assert str(refused.value) == (f"job {held['job']} is being confirmed by someone else, "
                                  "not held: nothing to confirm")
    assert finish() == {"withdrawn": 2}
    assert _job(held["job"])["counts"]["withdrawn"] == 2
    assert _job(held["job"])["status"] == "done"


def test_a_harvest_of_the_source_does_not_run_while_a_confirmation_withdraws(
        portal, department, source, confirmation_in_progress):
    start, finish = confirmation_in_progress
    held = _held_job(portal, source)
    write_feed(source, rows(3))                 # the feed is whole again
    start(held["job"])

    with db.connect() as conn:
        during = pipeline.start_job(conn, sources.get(conn, "csv-feed"))
    ran = pipeline.run_job(db.connect, during, portal)

    assert (during, ran) == (held["job"], {})   # it joined the confirmation: nothing harvested beside it
    assert finish() == {"withdrawn": 2}


def test_a_harvest_after_a_confirmation_finds_the_withdrawn_services_again(
        portal, department, source, confirmation_in_progress):
    start, finish = confirmation_in_progress
    held = _held_job(portal, source)
    write_feed(source, rows(3))
    start(held["job"])
    finish()

    with db.connect() as conn:
        after = pipeline.start_job(conn, sources.get(conn, "csv-feed"))
    pipeline.run_job(db.connect, after, portal)

    statuses = {code: d["status"] for code, d in services_of(portal, department).items()}
    assert statuses == {"R-1": "active", "R-2": "active", "R-3": "active"}


def test_a_confirmation_refused_by_a_running_harvest_leaves_the_job_held(portal, department, source):
    held = _held_job(portal, source)
    with db.connect() as conn:
        running = pipeline.start_job(conn, sources.get(conn, "csv-feed"))
        assert db.claim_job(conn, running) is not None

    with pytest.raises(ValueError):
        pipeline.confirm_withdrawals(db.connect, held["job"], portal)

    with db.connect() as conn:
        assert db.open_job_of(conn, source_id=db.job(conn, held["job"])["source_id"]) == running
    assert _job(held["job"])["status"] == "held"
