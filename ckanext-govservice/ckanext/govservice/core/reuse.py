"""Documents a citizen must still bring, and the document reduction rate (材料减免率).

Plain arithmetic over plain figures, no CKAN: the counts come from the search
index (each service's ``documents_demanded`` and ``documents_to_bring``, summed
per department by the index) and from the daily snapshot rows; this module
turns them into rates, means and a monthly series.

The document reduction rate is the share of the mandatory documents services
demand that the citizen need not bring, because the government already holds
them (an electronic licence or shared data: 免提交)::

    rate = (documents_demanded - documents_to_bring) / documents_demanded

It is computed from the catalogue, not from the statistics rows, so it is not
one of kpis.yaml's KPIs; its definition is published here in both languages.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping

REDUCTION_RATE = {
    "name": "document_reduction_rate",
    "unit": "ratio",
    "label": {"zh_Hans_CN": "材料减免率", "en": "Document reduction rate"},
    "definition": {
        "zh_Hans_CN": "事项要求的必需材料中，因政府已掌握（电子证照或数据共享）而申请人无需提交的材料所占比例。"
                      "数值越高，群众需要带的材料越少。",
        "en": "The share of the mandatory documents services demand that applicants need not bring, "
              "because the government already holds them (an electronic licence or shared data). "
              "Higher is better: citizens bring fewer documents.",
    },
}


def reduction_rate(documents_demanded: Any, documents_to_bring: Any) -> float | None:
    """The share of demanded mandatory documents that need not be brought,
    rounded to 4 places; None when nothing is demanded (no rate to speak of)."""
    demanded = int(documents_demanded or 0)
    if demanded <= 0:
        return None
    to_bring = min(max(int(documents_to_bring or 0), 0), demanded)
    return round((demanded - to_bring) / demanded, 4)


def burden(services: Any, documents_demanded: Any, documents_to_bring: Any) -> dict[str, Any]:
    """One department's (or the platform's) figures from its sums.

    Returns ``{"services", "documents_demanded", "documents_to_bring",
    "documents_not_brought", "mean_to_bring", "reduction_rate"}``; the mean
    (documents a citizen still brings per service) is None without services.
    """
    services = int(services or 0)
    demanded = int(documents_demanded or 0)
    to_bring = int(documents_to_bring or 0)
    return {
        "services": services,
        "documents_demanded": demanded,
        "documents_to_bring": to_bring,
        "documents_not_brought": max(demanded - to_bring, 0),
        "mean_to_bring": round(to_bring / services, 2) if services else None,
        "reduction_rate": reduction_rate(demanded, to_bring),
    }


def _day(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def monthly_series(snapshots: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The monthly trend from daily snapshot rows.

    ``snapshots``: rows ``{"department", "day", "services", "documents_demanded",
    "documents_to_bring"}``, of one department or of several. A month's figure
    is its last snapshot day's (for several departments, their rows of that day
    summed), so a month snapshotted every day counts once. Returns, oldest
    first, ``[{"month": "YYYY-MM", "day": "YYYY-MM-DD", **burden(...),
    "change": rate minus the previous month's rate, or None}]``.
    """
    by_day: dict[dt.date, list[int]] = {}
    for row in snapshots:
        sums = by_day.setdefault(_day(row["day"]), [0, 0, 0])
        sums[0] += int(row.get("services") or 0)
        sums[1] += int(row.get("documents_demanded") or 0)
        sums[2] += int(row.get("documents_to_bring") or 0)
    last_day: dict[str, dt.date] = {}
    for day in sorted(by_day):
        last_day[day.strftime("%Y-%m")] = day
    series = []
    previous = None
    for month in sorted(last_day):
        day = last_day[month]
        figures = burden(*by_day[day])
        rate = figures["reduction_rate"]
        change = (round(rate - previous, 4)
                  if rate is not None and previous is not None else None)
        series.append({"month": month, "day": day.isoformat(), **figures, "change": change})
        previous = rate
    return series


def trend(series: list[Mapping[str, Any]]) -> float | None:
    """The reduction rate's change from the series' first month to its last
    (None with fewer than two months that have a rate)."""
    rates = [p["reduction_rate"] for p in series if p.get("reduction_rate") is not None]
    if len(rates) < 2:
        return None
    return round(rates[-1] - rates[0], 4)
