"""One row of a centre's queue feed, checked by the core (core/queues.py)."""
from __future__ import annotations

import datetime as dt

import pytest

from ckanext.govservice.core import queues

NOW = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.timezone.utc)   # 10:00 in Beijing


def row(**overrides) -> dict:
    return {"centre_code": "BJ-HALL", "implementation_code": "IMP-1",
            "observed_at": "2026-03-02T09:59:00+08:00", "tickets_waiting": "6",
            "estimated_wait_minutes": 24, "appointments_left_today": "", **overrides}


def problem(**overrides) -> tuple[str, str]:
    with pytest.raises(queues.RowProblem) as e:
        queues.check_row(row(**overrides), NOW)
    return e.value.field, e.value.reason


def test_a_good_row_is_typed():
    assert queues.check_row(row(), NOW) == {
        "centre_code": "BJ-HALL", "implementation_code": "IMP-1",
        "observed_at": dt.datetime(2026, 3, 2, 1, 59, tzinfo=dt.timezone.utc),
        "tickets_waiting": 6, "estimated_wait_minutes": 24, "appointments_left_today": None}


def test_a_negative_wait_is_refused():
    assert problem(estimated_wait_minutes="-5") == ("estimated_wait_minutes", "is negative; it cannot be below zero")


def test_a_count_that_is_not_a_number_is_refused():
    assert problem(tickets_waiting="many") == ("tickets_waiting", "is not a number")


def test_a_fraction_of_a_ticket_is_refused():
    assert problem(tickets_waiting="2.5") == ("tickets_waiting", "is not a whole number")


def test_a_time_without_its_offset_is_refused():
    assert problem(observed_at="2026-03-02T09:59:00") == (
        "observed_at", "has no time zone offset; write it as 2026-03-02T09:15:00+08:00")


def test_a_time_beyond_the_tolerance_in_the_future_is_refused():
    field, reason = problem(observed_at="2026-03-02T10:30:00+08:00")
    assert field == "observed_at"
    assert reason.startswith("is 30 minutes in the future")


def test_a_clock_a_few_minutes_ahead_is_tolerated():
    assert queues.check_row(row(observed_at="2026-03-02T10:04:00+08:00"), NOW)["tickets_waiting"] == 6


def test_a_missing_centre_is_refused():
    assert problem(centre_code=" ") == ("centre_code", "is missing")


def test_headers_in_chinese_name_the_columns():
    assert [queues.column_of(h) for h in ("大厅编码", "实施编码", "观测时间", "等候人数", "预计等候分钟数", "当日剩余预约号")] \
        == queues.column_names()


def test_a_code_with_control_characters_is_refused():
    assert problem(centre_code="BJ\x00HALL") == ("centre_code", "contains control characters")
