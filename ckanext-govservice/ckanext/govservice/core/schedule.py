"""When the platform's periodic tasks are due: cron expressions over plain datetimes.

The CKAN side (``schedule.py``) keeps the clock, the claims and the tasks; here
is only the arithmetic, so it is tested without a server or a clock.
"""
from __future__ import annotations

import datetime as dt

from croniter import croniter


def check(expression: str) -> str | None:
    """Why ``expression`` is not a cron expression (five fields), or None when it is."""
    if not expression.strip():
        return None   # empty: the task is off
    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        return f"{expression!r} is not a cron expression of five fields, such as '0 7 * * *' (07:00 daily)"
    return None


def latest_due(expression: str, since: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """The latest time in (since, now] the expression names, or None: a scheduler
    that was down at several due times runs the task once, not once for each."""
    if not expression.strip():
        return None
    previous = croniter(expression, now + dt.timedelta(microseconds=1)).get_prev(dt.datetime)
    return previous if since < previous <= now else None


def next_due(expression: str, now: dt.datetime) -> dt.datetime | None:
    """The next time after ``now`` the expression names (None when the task is off)."""
    return croniter(expression, now).get_next(dt.datetime) if expression.strip() else None
