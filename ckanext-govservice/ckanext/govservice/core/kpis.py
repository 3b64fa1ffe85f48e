"""Service performance statistics and KPIs: the pure core.

Works from the two declarations — ``schemas/statistics.yaml`` (the monthly
rows) and ``schemas/kpis.yaml`` (the KPIs), both read through ``core.schema``
— and does the arithmetic on plain data:
mapping a department file's headers to columns, periods and their buckets,
KPI values from sums, changes on the previous period and the same period a
year before, and ranks. Everything that touches PostgreSQL is in
``statistics_store``; everything that touches CKAN is in the actions. No CKAN
here (see ``core/__init__.py``).
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterable, Mapping

from . import schema
from .schema import LANGUAGES, kpi_definitions, kpi_schema, label, statistics_schema  # noqa: F401
from .schema import text as _text

PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
PERIOD_TYPES = ("month", "quarter", "year")
GROUP_BY = ("service", "department", "theme", "life_event", "channel", "period")


# ---------------------------------------------------------------- the row declaration

def columns() -> list[dict[str, Any]]:
    return schema.statistics_columns()


def column_names() -> list[str]:
    return [c["name"] for c in columns()]


def primary_key() -> list[str]:
    return list(statistics_schema()["primary_key"])


def count_columns() -> list[str]:
    return [c["name"] for c in columns() if c["type"] == "int"]


def rating_columns() -> list[dict[str, Any]]:
    return [c for c in columns() if c.get("rating_score")]


def datastore_fields() -> list[dict[str, Any]]:
    """The statistics table's DataStore columns with their data dictionary in
    both languages (``schema.datastore_fields``)."""
    return schema.datastore_fields(columns())


@schema.derived
def _header_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for c in columns():
        names = [c["name"], *(label(c, lang) for lang in LANGUAGES), *c.get("aliases", [])]
        for name in names:
            index.setdefault(schema.fold_header(name), c["name"])
    return index


def map_headers(headers: Iterable[str]) -> tuple[list[str | None], list[str]]:
    """Each header's column (None when not ours), and the headers not recognised.

    A header may be the column name, its Chinese or English label, or an alias
    from statistics.yaml, in any case and with or without spaces.
    """
    index = _header_index()
    mapped: list[str | None] = []
    unknown: list[str] = []
    for h in headers:
        name = index.get(schema.fold_header(h)) if h is not None else None
        if name is None and h not in (None, ""):
            unknown.append(str(h))
        mapped.append(name)
    return mapped, unknown


# ---------------------------------------------------------------- periods

def parse_period(value: str) -> tuple[int, int]:
    m = PERIOD.match(value or "")
    if not m:
        raise ValueError(f"{value!r} is not a month written as YYYY-MM")
    return int(m.group(1)), int(m.group(2))


def current_period(today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    return f"{today.year:04d}-{today.month:02d}"


def shift_period(period: str, months: int) -> str:
    year, month = parse_period(period)
    index = year * 12 + (month - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def bucket(period: str, period_type: str) -> str:
    """The month, quarter (2026-Q1) or year (2026) a month belongs to."""
    year, month = parse_period(period)
    if period_type == "month":
        return period
    if period_type == "quarter":
        return f"{year:04d}-Q{(month - 1) // 3 + 1}"
    if period_type == "year":
        return f"{year:04d}"
    raise ValueError(f"period type must be one of {', '.join(PERIOD_TYPES)}")


def previous_bucket(key: str, period_type: str, steps: int = 1) -> str:
    """The bucket ``steps`` before ``key`` (a bucket as ``bucket`` writes it)."""
    if period_type == "month":
        return shift_period(key, -steps)
    if period_type == "quarter":
        year, quarter = int(key[:4]), int(key[-1])
        index = year * 4 + quarter - 1 - steps
        return f"{index // 4:04d}-Q{index % 4 + 1}"
    return f"{int(key) - steps:04d}"


BUCKETS_PER_YEAR = {"month": 12, "quarter": 4, "year": 1}


# ---------------------------------------------------------------- KPI arithmetic

def kpi_names(source: str | None = None) -> list[str]:
    return [k["name"] for k in kpi_definitions(source)]


def published_definition(kpi: Mapping[str, Any]) -> dict[str, Any]:
    """A KPI's definition as the API publishes it next to its figures."""
    return {
        "name": kpi["name"],
        "label": {lang: label(kpi, lang) for lang in LANGUAGES},
        "definition": {lang: _text(kpi, "definition", lang) for lang in LANGUAGES},
        "numerator": kpi["numerator"],
        "denominator": kpi.get("denominator"),
        "unit": kpi["unit"],
        "better": kpi["better"],
        "source": kpi["source"],
    }


def kpi_value(kpi: Mapping[str, Any], sums: Mapping[str, Any]) -> dict[str, Any]:
    """One KPI from the sums: value, numerator, denominator.

    ``value`` is None ("no data") when the numerator was never reported or the
    denominator is zero or was never reported — never 0 and never an error.
    """
    numerator = sums.get(kpi["numerator"])
    denominator_name = kpi.get("denominator")
    if denominator_name is None:
        return {"value": numerator, "numerator": numerator, "denominator": None}
    denominator = sums.get(denominator_name)
    value = None
    if numerator is not None and denominator:
        value = round(float(numerator) / float(denominator), 6)
    return {"value": value, "numerator": numerator, "denominator": denominator}


def kpi_values(sums: Mapping[str, Any], names: Iterable[str]) -> dict[str, dict[str, Any]]:
    by_name = {k["name"]: k for k in kpi_definitions()}
    return {name: kpi_value(by_name[name], sums) for name in names}


def change(now: Any, before: Any) -> float | None:
    """now − before, or None when either is "no data"."""
    if now is None or before is None:
        return None
    return round(float(now) - float(before), 6)


def add_changes(results: list[dict[str, Any]], period_type: str,
                group_keys: list[str]) -> None:
    """Give each KPI of each result its change on the previous period and on a year before.

    ``results`` carry ``period`` and the group keys; the earlier periods are
    looked up among the results themselves (callers fetch a year more than
    they show). Ratios change in points (0.93 → 0.95 is +0.02); counts in
    units.
    """
    def key(r: Mapping[str, Any], period: str) -> tuple:
        return (period, *(r.get(k) for k in group_keys))

    index = {key(r, r["period"]): r for r in results}
    for r in results:
        previous = index.get(key(r, previous_bucket(r["period"], period_type)))
        year_ago = index.get(key(r, previous_bucket(
            r["period"], period_type, BUCKETS_PER_YEAR[period_type])))
        for name, figure in r["kpis"].items():
            figure["change_previous"] = change(
                figure["value"], previous["kpis"][name]["value"] if previous else None)
            figure["change_year"] = change(
                figure["value"], year_ago["kpis"][name]["value"] if year_ago else None)


def add_ranks(results: list[dict[str, Any]], within: str = "period") -> None:
    """Rank each result's KPIs among the results sharing its ``within`` value.

    Rank 1 is the best (highest, for KPIs where higher is better); a result
    with no data for a KPI gets no rank; ties share a rank. ``of`` is how many
    were ranked.
    """
    better = {k["name"]: k["better"] for k in kpi_definitions()}
    groups: dict[Any, list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault(r.get(within), []).append(r)
    for members in groups.values():
        for name in members[0]["kpis"]:
            if better.get(name) not in ("higher", "lower"):
                continue
            ranked = [m for m in members if m["kpis"][name]["value"] is not None]
            sign = -1 if better[name] == "higher" else 1
            ranked.sort(key=lambda m: sign * m["kpis"][name]["value"])
            previous_value, previous_rank = None, 0
            for position, m in enumerate(ranked, start=1):
                value = m["kpis"][name]["value"]
                rank = previous_rank if value == previous_value else position
                m["kpis"][name]["rank"] = rank
                m["kpis"][name]["of"] = len(ranked)
                previous_value, previous_rank = value, rank
