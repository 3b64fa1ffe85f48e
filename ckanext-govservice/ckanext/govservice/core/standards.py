"""Service standards: a target for a KPI, and how a figure is judged against it.

A standard says "on-time rate at least 95%" for the whole platform, for one
department or for one service, from a month on (``period_from``), in Chinese
and English. The data office sets them; a department may set its own and its
services' (in its statistics feed, or through the same action). For any figure
the **most specific** standard applies: the service's, else its department's,
else the platform's — and only one whose ``period_from`` is not after the
figure's month.

A figure is judged:

* ``met``: the value reaches the target (at least it, for a KPI where higher is
  better; at most it, where lower is better); None without a value;
* ``status`` (red / amber / green), with these thresholds:

  - green: the target is met;
  - amber: missed by no more than the KPI's amber margin — 5 percentage points
    for a ratio (target 95%: 90% to just under 95%), 0.25 for a 1-to-5 score;
  - red: missed by more than that;
  - None: no data (nothing reported, or a zero denominator), never red;

* ``missed_in_a_row``: how many months in a row, up to and including the
  latest month with a value, the target was missed; ``MISSED_IN_A_ROW`` (3) or
  more is flagged on every page ("missed 3 months in a row").

Pure functions over plain data; the store keeps the standards, the actions
check and publish them. No CKAN here (see ``core/__init__.py``).
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

from . import kpis as stats
from .schema import LANGUAGES, kpi_definitions, label

SCOPES = ("service", "department", "platform")   # most specific first
UNIT_RANGES: dict[str, tuple[float, float | None]] = {"ratio": (0.0, 1.0), "score": (1.0, 5.0)}
AMBER_MARGIN: dict[str, float] = {"ratio": 0.05, "score": 0.25}
MISSED_IN_A_ROW = 3
STATUSES = ("green", "amber", "red")
MAX_WORDING = 500
FIELDS = ("kpi", "department", "service", "target", "period_from", "wording")


def _definitions() -> dict[str, dict[str, Any]]:
    return {k["name"]: k for k in kpi_definitions()}


def scope(department: str | None, service: str | None) -> str:
    if service:
        return "service"
    return "department" if department else "platform"


def record_name(standard: Mapping[str, Any]) -> str:
    """How a standard is named in errors and reports: platform/on_time_rate,
    market-regulation/on_time_rate, market-regulation/330100-SJJ-XK005-01/on_time_rate."""
    parts = [standard.get("department") or "platform"]
    if standard.get("service"):
        parts.append(str(standard["service"]))
    parts.append(str(standard.get("kpi") or "?"))
    return "/".join(parts)


def format_target(target: float, unit: str) -> str:
    if unit == "ratio":
        return f"{target * 100:g}%"
    return f"{target:g}"


def default_wording(kpi: Mapping[str, Any], target: float) -> dict[str, str]:
    """"按时办结率不低于 95%" / "On-time rate at least 95%" when a standard comes without words."""
    shown = format_target(target, kpi["unit"])
    higher = kpi["better"] == "higher"
    return {"zh_Hans_CN": f"{label(kpi, 'zh_Hans_CN')}{'不低于' if higher else '不高于'} {shown}",
            "en": f"{label(kpi, 'en')} {'at least' if higher else 'at most'} {shown}"}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().rstrip("%")) / (100 if value.strip().endswith("%") else 1)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def check(records: Sequence[Any], departments: Iterable[str],
          services: Iterable[tuple[str, str]]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Check standards as sent; return the clean ones and the errors.

    ``departments`` are the departments' names, ``services`` the (department,
    service code) pairs that exist. Each error names the ``record`` (as
    ``record_name`` writes it, or ``#n`` when it is not even an object), the
    ``field`` and the ``reason``. A target may be a number or a percentage
    written "95%".
    """
    definitions = _definitions()
    departments, services = set(departments), set(services)
    clean, errors = [], []
    seen: set[tuple] = set()
    for n, raw in enumerate(records, start=1):
        if not isinstance(raw, Mapping):
            errors.append({"record": f"#{n}", "field": "standards", "reason": "must be a JSON object"})
            continue
        record = record_name(raw)
        mine: list[dict[str, str]] = []

        def refuse(field: str, reason: str) -> None:
            mine.append({"record": record, "field": field, "reason": reason})

        unknown = sorted(set(raw) - set(FIELDS))
        if unknown:
            refuse(unknown[0], f"not a field of a standard; the fields are {', '.join(FIELDS)}")
        kpi = definitions.get(raw.get("kpi")) if isinstance(raw.get("kpi"), str) else None
        department = raw.get("department") or None
        service = raw.get("service") or None
        if kpi is None:
            refuse("kpi", f"{str(raw.get('kpi'))[:50]!r} is not a KPI; the KPIs are {', '.join(definitions)}")
        elif kpi["better"] not in ("higher", "lower"):
            refuse("kpi", f"{kpi['name']} is a count with no better direction: it cannot have a target")
        elif kpi["source"] == "catalogue" and service:
            refuse("service", f"{kpi['name']} is measured over a department's services, not for one service")
        if department is not None and (not isinstance(department, str) or department not in departments):
            refuse("department", f"no department called {str(department)[:100]!r}")
        if service is not None:
            if not isinstance(service, str):
                refuse("service", "must be a service code")
            elif department is None:
                refuse("department", "say which department the service belongs to")
            elif department in departments and (department, service) not in services:
                refuse("service", f"{department} has no service with code {service[:64]!r}")
        target = _number(raw.get("target"))
        if raw.get("target") in (None, ""):
            refuse("target", "missing value")
        elif target is None:
            refuse("target", f"{str(raw.get('target'))[:50]!r} is not a number")
        elif kpi is not None and kpi["unit"] in UNIT_RANGES:
            low, high = UNIT_RANGES[kpi["unit"]]
            if target < low or (high is not None and target > high):
                shown = (f"between {format_target(low, kpi['unit'])} and {format_target(high, kpi['unit'])}"
                         if high is not None else f"at least {low:g}")
                refuse("target", f"{raw.get('target')} is outside the range of {kpi['name']}: "
                                 f"a target must be {shown}" + (" (0 to 1, or a percentage)"
                                                               if kpi["unit"] == "ratio" else ""))
        period_from = raw.get("period_from") or None
        if period_from is not None:
            try:
                stats.parse_period(str(period_from))
            except ValueError as e:
                refuse("period_from", str(e))
        wording = raw.get("wording")
        if wording is not None and (not isinstance(wording, Mapping) or set(wording) - set(LANGUAGES) or any(
                not isinstance(v, str) or len(v) > MAX_WORDING for v in wording.values())):
            refuse("wording", f"must be {{\"zh_Hans_CN\": text, \"en\": text}}, each at most {MAX_WORDING} characters")
        key = (raw.get("kpi"), department, service)
        if not mine and key in seen:
            refuse("kpi", "the same standard is sent twice")
        seen.add(key)
        if mine:
            errors.extend(mine)
            continue
        words = default_wording(kpi, target)
        words.update({k: v.strip() for k, v in (wording or {}).items() if v and v.strip()})
        clean.append({"kpi": kpi["name"], "department": department, "service": service,
                      "scope": scope(department, service), "target": target,
                      "period_from": period_from, "wording": words})
    return clean, errors


def applicable(standards: Iterable[Mapping[str, Any]], kpi: str, department: str | None = None,
               service: str | None = None, period: str | None = None) -> Mapping[str, Any] | None:
    """The standard that applies to a figure: the service's, else its department's,
    else the platform's, among those in force in ``period`` (a month, or the
    last month of a window; None: any)."""
    best, best_rank = None, len(SCOPES)
    for s in standards:
        if s["kpi"] != kpi or (period and s.get("period_from") and s["period_from"] > period):
            continue
        if s.get("service"):
            fits, rank = service is not None and (s["department"], s["service"]) == (department, service), 0
        elif s.get("department"):
            fits, rank = department is not None and s["department"] == department, 1
        else:
            fits, rank = True, 2
        if fits and rank < best_rank:
            best, best_rank = s, rank
    return best


def met(value: Any, target: float, better: str) -> bool | None:
    if value is None:
        return None
    return float(value) >= target if better == "higher" else float(value) <= target


def status(value: Any, target: float, better: str, unit: str) -> str | None:
    """red, amber or green (see the module's thresholds); None without a value."""
    if value is None:
        return None
    shortfall = (target - float(value)) if better == "higher" else (float(value) - target)
    if shortfall <= 1e-12:
        return "green"
    return "amber" if shortfall <= AMBER_MARGIN.get(unit, 0.0) + 1e-12 else "red"


def missed_in_a_row(monthly: Iterable[tuple[str, Any]], target: float, better: str) -> int:
    """Months in a row the target was missed, ending at the latest month with a
    value; ``monthly`` is (month, value) in any order. A month in between with
    no value ends the run: nothing is said about a month nobody reported."""
    values = dict(monthly)
    reported = sorted(p for p, v in values.items() if v is not None)
    if not reported:
        return 0
    count, period = 0, reported[-1]
    while values.get(period) is not None and met(values[period], target, better) is False:
        count += 1
        period = stats.shift_period(period, -1)
    return count


def judge(value: Any, standard: Mapping[str, Any] | None,
          monthly: Iterable[tuple[str, Any]] | None = None) -> dict[str, Any] | None:
    """What the pages and the API print next to a figure: its standard's target,
    scope and wording, ``met``, ``status`` and, given the monthly values
    behind it, ``missed_in_a_row`` and ``flagged`` (missed 3 months or more in
    a row). None when no standard applies."""
    if standard is None:
        return None
    kpi = _definitions()[standard["kpi"]]
    out = {"target": standard["target"], "scope": standard["scope"], "wording": dict(standard["wording"]),
           "period_from": standard.get("period_from"),
           "met": met(value, standard["target"], kpi["better"]),
           "status": status(value, standard["target"], kpi["better"], kpi["unit"])}
    if monthly is not None:
        run = missed_in_a_row(monthly, standard["target"], kpi["better"])
        out["missed_in_a_row"] = run
        out["flagged"] = run >= MISSED_IN_A_ROW
    return out
