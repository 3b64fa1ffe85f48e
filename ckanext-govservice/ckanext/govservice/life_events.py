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


def _network_entries(service: Mapping[str, Any]) -> dict[int, Mapping[str, Any]]:
    """The service's documents as the network matched them to the catalogue, by index."""
    network = service.get("network") or {}
    return {int(entry["index"]): entry for entry in network.get("documents") or []
            if isinstance(entry, Mapping) and entry.get("index") is not None}


def _held(value: Any) -> bool:
    return value not in (None, "", "no")


def combine(services: Iterable[Mapping[str, Any]],
            catalogue: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """What a life event asks of the applicant, across its services.

    ``catalogue``: the document catalogue's entries by code (``{"title",
    "title_en", "government_holds"}``), for the codes the services name.

    Returns::

        {"documents": [{"code", "name", "name_en", "mandatory", "issued_by",
                        "government_holds", "must_bring", "services": [ref…]}…],
         "documents_to_bring": int,      # mandatory ones the government does not hold
         "documents_not_brought": int,   # mandatory ones it holds (免提交)
         "total_visits": int,            # in-person visits, each service done separately
         "total_committed_days": float,  # calendar days, the services one after another
         "longest_committed_days": float | None,
         "longest_service": ref | None,  # the service that takes longest
         "services_counted": int,
         "left_out": [ref…]}             # suspended or withdrawn, not counted

    where a ref is {"name", "title", "title_en"} of a service (one step of the
    life event). Documents are combined by their catalogue code (the one the
    service gives, or the one the network matched by name or alias), so 身份证
    and 居民身份证 of the same code are one row; a document of no known code
    falls back to its (Chinese) name. First seen first; a document is mandatory
    for the life event when any service needs it mandatorily, and one the
    government holds (免提交) is listed but not counted as one to bring.
    """
    catalogue = catalogue or {}
    documents: dict[tuple[str, str], dict[str, Any]] = {}
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
        matched = _network_entries(service)
        for index, doc in enumerate(service.get("documents") or []):
            name = (doc.get("name") or "").strip()
            entry = matched.get(index, {})
            code = (doc.get("code") or entry.get("code") or "").strip()
            if not name and not code:
                continue
            known = catalogue.get(code, {}) if code else {}
            key = ("code", code) if code else ("name", name)
            combined = documents.setdefault(key, {
                "code": code or None,
                "name": known.get("title") or name,
                "name_en": known.get("title_en") or doc.get("name_en") or "",
                "mandatory": False, "issued_by": doc.get("issued_by"),
                "government_holds": known.get("government_holds") or entry.get("government_holds"),
                "services": []})
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
    for combined in documents.values():
        combined["must_bring"] = combined["mandatory"] and not _held(combined["government_holds"])
    return {
        "documents": list(documents.values()),
        "documents_to_bring": sum(1 for d in documents.values() if d["must_bring"]),
        "documents_not_brought": sum(1 for d in documents.values()
                                     if d["mandatory"] and _held(d["government_holds"])),
        "total_visits": total_visits,
        "total_committed_days": round(total_days, 4),
        "longest_committed_days": longest_days,
        "longest_service": longest_service,
        "services_counted": counted,
        "left_out": left_out,
    }


def document_codes(services: Iterable[Mapping[str, Any]]) -> list[str]:
    """The catalogue codes the services' documents give or were matched to, first seen first."""
    codes: dict[str, None] = {}
    for service in services:
        matched = _network_entries(service)
        for index, doc in enumerate(service.get("documents") or []):
            code = (doc.get("code") or matched.get(index, {}).get("code") or "").strip()
            if code:
                codes[code] = None
    return list(codes)


def _is_true(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "")
    return bool(value)
