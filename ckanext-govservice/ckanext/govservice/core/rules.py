"""The rules of a service record, as plain functions over plain values.

No CKAN here: the validators (logic/validators.py), the harvesters and the bulk
files all call these, so a rule is written once and tested without a server.
Yes/no words are read by ``schema.parse_boolean`` (re-exported here).
"""
from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping

from .schema import FALSE_WORDS, TRUE_WORDS, parse_boolean  # noqa: F401  (the rules' parsers, in one place)

# Days a unit is worth on the calendar: a working week is 5 days out of 7.
CALENDAR_DAYS_PER_UNIT = {"calendar_days": 1.0, "working_days": 7 / 5, "hours": 1 / 24}
ONLINE_STAGES = ("registration", "authentication", "application", "decision", "issuance", "feedback")
CHANNELS_NEEDING_URL = {"online", "mobile"}
CHANNELS_NEEDING_ADDRESS = {"in_person", "self_service"}


# Characters no published text may hold: PostgreSQL cannot store NUL, and XML
# 1.0 (RDF/XML, XLSX) cannot hold the other C0 controls or U+FFFE/U+FFFF.
# Tab, line feed and carriage return are ordinary text.
UNPUBLISHABLE_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def unpublishable_character(text: str) -> str | None:
    """The first character of ``text`` that cannot be published, as "U+0000"; None when all can."""
    found = UNPUBLISHABLE_CHARACTER.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def calendar_days(value: int | None, unit: str) -> float | None:
    """A time limit in calendar days, so limits in different units compare."""
    if value is None:
        return None
    return round(value * CALENDAR_DAYS_PER_UNIT[unit], 4)


def iso_duration(value: int | None, unit: str) -> str | None:
    """The limit as an ISO 8601 duration (xsd:duration, CPSV-AP cv:processingTime).

    ISO 8601 has no working days: they are given as the calendar days they
    span (5 working days = a week = P7D), rounded up.
    """
    if value is None:
        return None
    if unit == "hours":
        return f"PT{value}H"
    return f"P{math.ceil(calendar_days(value, unit))}D"


def committed_exceeds_statutory(statutory: int | None, statutory_unit: str,
                                committed: int | None, committed_unit: str) -> bool:
    if statutory is None or committed is None:
        return False
    return calendar_days(committed, committed_unit) > calendar_days(statutory, statutory_unit)


def time_limit_compression(statutory: int | None, statutory_unit: str,
                           committed: int | None, committed_unit: str) -> float | None:
    """(statutory − committed) ÷ statutory; None when there is no statutory limit."""
    s = calendar_days(statutory, statutory_unit)
    c = calendar_days(committed, committed_unit)
    if not s or c is None:
        return None
    return round((s - c) / s, 4)


def is_free(fees: Iterable[Mapping[str, Any]]) -> bool:
    """Free when no fee is listed, or every listed fee is zero."""
    return all(Decimal(str(fee.get("amount") or 0)) == 0 for fee in fees)


def fully_online(online_depth: Iterable[str], in_person_visits: int | None) -> bool:
    """Every stage can be done online, and no visit is needed."""
    return in_person_visits == 0 and set(ONLINE_STAGES) <= set(online_depth)


def channel_problems(channels: list[Mapping[str, Any]]) -> list[tuple[int, str, str]]:
    """(index, field, reason) for each channel that cannot be used as given."""
    problems = []
    for i, channel in enumerate(channels):
        kind = channel.get("channel_type")
        if kind in CHANNELS_NEEDING_URL and not channel.get("url"):
            problems.append((i, "url", f"a channel of type {kind} needs a web address (url)"))
        if kind in CHANNELS_NEEDING_ADDRESS and not channel.get("address"):
            problems.append((i, "address", f"a channel of type {kind} needs an address"))
        if kind == "phone" and not channel.get("phone"):
            problems.append((i, "phone", "a channel of type phone needs a phone number"))
    return problems


def parse_natural_number(value: Any) -> int:
    """A whole number ≥ 0 from an int or a numeric string; ValueError with the reason otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"must be a whole number, not {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = str(value).strip()
        try:
            number = int(text)
        except ValueError:
            raise ValueError(f"must be a whole number, not {text!r}") from None
    if number < 0:
        raise ValueError(f"must not be negative (got {number})")
    return number


def parse_money(value: Any) -> float:
    """An amount ≥ 0 with at most two decimals (fen); ValueError with the reason otherwise."""
    text = str(value).strip().replace(",", "")
    if isinstance(value, bool) or not text:
        raise ValueError(f"must be an amount of money, not {value!r}")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"must be an amount of money, not {text!r}") from None
    if not amount.is_finite():
        raise ValueError(f"must be an amount of money, not {text!r}")
    if amount < 0:
        raise ValueError(f"must not be negative (got {text})")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"has more than two decimal places (got {text})")
    return float(amount)
