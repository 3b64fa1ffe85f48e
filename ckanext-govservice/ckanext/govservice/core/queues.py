"""Live queues of the service centres: the pure core.

Works from ``schemas/queues.yaml`` (the rows of a centre's queue feed, the
DataStore time series they land in) and does what needs no server: mapping a
feed's headers to columns, checking one row (each problem named by its field,
in a publisher's words), and the DataStore columns with their data
dictionary. The harvesters read feeds with it (``govharvest.queues``), the
CKAN side stores and serves the rows (``queues.py``, ``logic/queues.py``).
No CKAN here (see ``core/__init__.py``).
"""
from __future__ import annotations

import datetime as dt
import functools
from typing import Any, Iterable, Mapping

import yaml

from .schema import LANGUAGES, SCHEMA_DIR, label
from .schema import datastore_fields as datastore_columns

QUEUE_SCHEMA = SCHEMA_DIR / "queues.yaml"


@functools.cache
def queue_schema() -> dict[str, Any]:
    with open(QUEUE_SCHEMA, encoding="utf-8") as f:
        return yaml.safe_load(f)


def columns() -> list[dict[str, Any]]:
    return list(queue_schema()["fields"])


def column_names() -> list[str]:
    return [c["name"] for c in columns()]


def primary_key() -> list[str]:
    return list(queue_schema()["primary_key"])


def future_tolerance() -> dt.timedelta:
    return dt.timedelta(minutes=queue_schema()["future_tolerance_minutes"])


def datastore_fields() -> list[dict[str, Any]]:
    """The queue table's DataStore columns with their data dictionary in both
    languages, as the statistics table's (``schema.datastore_fields``)."""
    return datastore_columns(columns())


@functools.cache
def _header_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for c in columns():
        for name in (c["name"], *(label(c, lang) for lang in LANGUAGES), *c.get("aliases", [])):
            index[name.strip().lower()] = c["name"]
    return index


def column_of(header: str) -> str | None:
    """The column a feed's header names (its name, a label in either language or
    an alias), or None for a column the platform does not keep."""
    return _header_index().get(str(header).strip().lower())


def missing_columns(headers: Iterable[str]) -> list[str]:
    """The required columns no header names."""
    named = {column_of(h) for h in headers}
    return [c["name"] for c in columns() if c.get("required") and c["name"] not in named]


# ---------------------------------------------------------------- one row

class RowProblem(ValueError):
    """What is wrong with one field of a queue row."""

    def __init__(self, field: str, value: Any, reason: str):
        super().__init__(f"{field} {reason}")
        self.field, self.value, self.reason = field, value, reason


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise RowProblem(name, value, "is not a number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        try:
            number = int(text)
        except ValueError:
            try:
                as_float = float(text)
            except ValueError:
                raise RowProblem(name, value, "is not a number") from None
            if not as_float.is_integer():
                raise RowProblem(name, value, "is not a whole number") from None
            number = int(as_float)
    if number < 0:
        raise RowProblem(name, value, "is negative; it cannot be below zero")
    if number > 2_147_483_647:
        raise RowProblem(name, value, "is too large")
    return number


def parse_moment(value: Any, name: str = "observed_at") -> dt.datetime:
    """An ISO 8601 time with its offset (``2026-03-02T09:15:00+08:00``, ``…Z``)."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise RowProblem(name, value, "is not a time written as ISO 8601, "
                             "e.g. 2026-03-02T09:15:00+08:00") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise RowProblem(name, value, "has no time zone offset; write it as "
                         "2026-03-02T09:15:00+08:00")
    return moment


def check_row(row: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """One queue row, its values typed: ``{column: value}`` for every column
    (None for an empty optional one). Raises RowProblem for the first field
    that is missing or wrong: a negative or non-numeric count, a time without
    its offset, or one further in the future than the tolerance allows
    (``now`` must carry its offset). The centre being the department's is the
    platform's check, not this one's."""
    clean: dict[str, Any] = {}
    for c in columns():
        name, value = c["name"], row.get(c["name"])
        if _blank(value):
            if c.get("required"):
                raise RowProblem(name, value, "is missing")
            clean[name] = None
            continue
        if c["type"] == "int":
            clean[name] = _count(name, value)
        elif c["type"] == "timestamptz":
            moment = parse_moment(value, name)
            ahead = moment - now
            if ahead > future_tolerance():
                raise RowProblem(name, value, f"is {int(ahead.total_seconds() // 60)} minutes in the "
                                 f"future (the platform's clock says {now.isoformat(timespec='seconds')}); "
                                 "check the centre's clock and time zone")
            clean[name] = moment
        else:
            text = str(value).strip()
            if any(ord(ch) < 32 for ch in text):
                raise RowProblem(name, text.encode("unicode_escape").decode("ascii")[:40],
                                 "contains control characters")
            if len(text) > 100:
                raise RowProblem(name, text[:40] + "…", "is longer than 100 characters")
            clean[name] = text
    return clean


def record_id(row: Mapping[str, Any]) -> str:
    """How a row is named in a report: centre/service/time, as far as it has them."""
    return "/".join(str(row.get(k) or "?") for k in primary_key())
