"""One life event (一件事) as the applicant meets it: the services it takes, combined.

Plain functions over plain service dicts (as package_show or package_search
return them): no CKAN here, so the arithmetic is tested without a server.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from .core import rules

# A suspended or withdrawn service cannot be applied for today, so it adds no
# documents, visits or days to the life event; the page still lists it.
APPLICABLE_STATUSES = {"active", None, ""}


def committed_days(service: Mapping[str, Any]) -> float | None:
    """The committed limit in calendar days: the derived field, or worked out
    from the limit and its unit when a record predates the derived field."""
    days = service.get("committed_days")
    if days not in (None, ""):
        return float(days)
    limit = service.get("committed_limit")
    if limit in (None, ""):
        return None
    return rules.calendar_days(int(limit), service.get("committed_limit_unit") or "working_days")


def _service_ref(service: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": service.get("name"), "title": service.get("title"),
            "title_en": service.get("title_en")}


def combine(services: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """What a life event asks of the applicant, across its services.

    Returns::

        {"documents": [{"name", "name_en", "mandatory", "issued_by", "services": [ref…]}…],
         "total_visits": int,            # in-person visits, each service done separately
         "total_committed_days": float,  # calendar days, the services one after another
         "longest_committed_days": float | None,
         "longest_service": ref | None,  # the service that takes longest
         "services_counted": int,
         "left_out": [ref…]}             # suspended or withdrawn, not counted

    where a ref is {"name", "title", "title_en"} of a service. Documents are
    deduplicated by their (Chinese) name, first seen first; a document is
    mandatory for the life event when any service needs it mandatorily.
    """
    documents: dict[str, dict[str, Any]] = {}
    total_visits = 0
    total_days = 0.0
    longest_days: float | None = None
    longest_service = None
    counted = 0
    left_out = []
    for service in services:
        ref = _service_ref(service)
        if service.get("status") not in APPLICABLE_STATUSES:
            left_out.append(ref)
            continue
        counted += 1
        for doc in service.get("documents") or []:
            name = (doc.get("name") or "").strip()
            if not name:
                continue
            combined = documents.setdefault(name, {
                "name": name, "name_en": doc.get("name_en") or "", "mandatory": False,
                "issued_by": doc.get("issued_by"), "services": []})
            combined["name_en"] = combined["name_en"] or doc.get("name_en") or ""
            combined["mandatory"] = combined["mandatory"] or _is_true(doc.get("mandatory", True))
            if ref["name"] not in [s["name"] for s in combined["services"]]:
                combined["services"].append(ref)
        total_visits += int(service.get("in_person_visits") or 0)
        days = committed_days(service)
        if days is not None:
            total_days += days
            if longest_days is None or days > longest_days:
                longest_days, longest_service = days, ref
    return {
        "documents": list(documents.values()),
        "total_visits": total_visits,
        "total_committed_days": round(total_days, 4),
        "longest_committed_days": longest_days,
        "longest_service": longest_service,
        "services_counted": counted,
        "left_out": left_out,
    }


def _is_true(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "")
    return bool(value)
