"""The reference feed server's simulated day of a centre's queues (feedserver.simulated_queue)."""
from __future__ import annotations

import datetime as dt

from govharvest.feedserver import QUEUE_TIMEZONE, simulated_queue

CENTRE = {"centre_code": "BJ-HALL", "opening_hours": "Mo-Fr 08:30-17:00",
          "counters": [{"implementation_codes": ["IMP-A", "IMP-B"]}, {"implementation_codes": "IMP-B IMP-C"}]}


def at(hour: int, minute: int = 0, day: int = 2) -> dt.datetime:   # 2 March 2026 is a Monday
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=QUEUE_TIMEZONE)


def waiting(moment: dt.datetime) -> int:
    return sum(r["tickets_waiting"] for r in simulated_queue(CENTRE, moment))


def test_a_closed_centre_has_no_rows():
    assert simulated_queue(CENTRE, at(7, 30)) == []
    assert simulated_queue(CENTRE, at(10, day=7)) == []   # a Saturday


def test_one_row_per_service_the_counters_handle():
    assert [r["implementation_code"] for r in simulated_queue(CENTRE, at(10))] == ["IMP-A", "IMP-B", "IMP-C"]


def test_the_morning_peak_is_busier_than_the_lunch_dip():
    assert waiting(at(10)) > 2 * waiting(at(12, 45))


def test_appointments_left_only_fall_through_the_day():
    def left(moment):
        return [r["appointments_left_today"] for r in simulated_queue(CENTRE, moment)]
    morning, evening = left(at(9)), left(at(16, 30))
    assert all(m is None and e is None or e <= m for m, e in zip(morning, evening))


def test_the_same_minute_gives_the_same_rows():
    assert simulated_queue(CENTRE, at(11, 17)) == simulated_queue(CENTRE, at(11, 17))


def test_rows_carry_the_time_with_its_offset():
    assert simulated_queue(CENTRE, at(9, 5))[0]["observed_at"] == "2026-03-02T09:05:00+08:00"
