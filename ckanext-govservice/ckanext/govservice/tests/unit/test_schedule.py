"""When a periodic task is due (core/schedule.py): plain cron arithmetic."""
from __future__ import annotations

import datetime as dt

from ckanext.govservice.core import schedule

UTC = dt.timezone.utc


def at(hour: int, minute: int = 0, day: int = 29) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_a_daily_task_is_due_once_its_time_has_passed_since_the_last_look():
    assert schedule.latest_due("0 7 * * *", since=at(6, 59), now=at(7, 0)) == at(7, 0)
    assert schedule.latest_due("0 7 * * *", since=at(7, 0), now=at(7, 1)) is None   # already run


def test_a_scheduler_down_over_three_due_times_runs_the_task_once_for_the_latest():
    assert schedule.latest_due("0 * * * *", since=at(3, 30), now=at(6, 10)) == at(6, 0)


def test_nothing_is_due_before_its_time_or_when_the_task_is_off():
    assert schedule.latest_due("0 7 * * *", since=at(5), now=at(6, 59)) is None
    assert schedule.latest_due("", since=at(0), now=at(23)) is None
    assert schedule.next_due("", at(0)) is None


def test_the_next_due_time_is_after_now():
    assert schedule.next_due("45 3 * * *", at(3, 45)) == at(3, 45, day=30)


def test_a_wrong_expression_is_named_with_an_example_and_an_empty_one_is_off():
    assert schedule.check("") is None
    assert schedule.check("0 7 * * *") is None
    assert schedule.check("every day") == (
        "'every day' is not a cron expression of five fields, such as '0 7 * * *' (07:00 daily)")
    assert "five fields" in schedule.check("0 7 * * * *")
