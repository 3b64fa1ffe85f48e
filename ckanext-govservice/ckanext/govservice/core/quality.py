"""Data quality of a department's service guides: are the fields that matter filled?

Four checks per service, each passed or not:

* ``documents``: it lists what to bring (at least one document);
* ``channel_addresses``: it can be applied for somewhere — at least one
  channel with an address (an online or mobile one's web address, an
  in-person or self-service one's street address) — and every in-person or
  self-service channel also says when it is open;
* ``fee_basis``: every fee names its basis (the law or price decision setting
  it); a free service passes;
* ``legal_basis``: it names at least one law or rule, each with a title.

A department's ``score`` is the share of all its services' checks passed
(0 to 1); ``checks`` is the share of its services passing each one. Pure
functions over service dicts as ``package_show`` returns them; the links
that a link checker follows are listed by ``links``. No CKAN here.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

CHECKS = ("documents", "channel_addresses", "fee_basis", "legal_basis")
NEEDS = {"online": "url", "mobile": "url", "in_person": "address", "self_service": "address"}


def _filled(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def service_checks(service: Mapping[str, Any]) -> dict[str, bool]:
    channels = service.get("channels") or []
    fees = service.get("fees") or []
    laws = service.get("legal_basis") or []
    return {
        "documents": bool(service.get("documents")),
        "channel_addresses": any(
            _filled(c.get(NEEDS[c.get("channel_type")])) for c in channels if c.get("channel_type") in NEEDS)
        and all(_filled(c.get("opening_hours")) for c in channels
                if NEEDS.get(c.get("channel_type")) == "address"),
        "fee_basis": all(_filled(f.get("basis")) for f in fees),
        "legal_basis": bool(laws) and all(_filled(law.get("title")) for law in laws),
    }


def department_score(services: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """{"services", "score", "checks": {check: share passing}, "failing": [{"name",
    "service_code", "checks": [failed]}]}; score and shares None without services."""
    results = [(s, service_checks(s)) for s in services]
    n = len(results)
    checks = {c: (round(sum(r[c] for _, r in results) / n, 6) if n else None) for c in CHECKS}
    passed = sum(sum(r.values()) for _, r in results)
    return {"services": n, "score": round(passed / (n * len(CHECKS)), 6) if n else None, "checks": checks,
            "failing": [{"name": s.get("name"), "service_code": s.get("service_code"),
                         "checks": [c for c in CHECKS if not r[c]]} for s, r in results if not all(r.values())]}


def links(service: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, address) of every web address a service's guide links to: its
    channels' and its legal bases'; each address once."""
    out: dict[str, str] = {}
    for c in service.get("channels") or []:
        if _filled(c.get("url")):
            out.setdefault(c["url"].strip(), "channels")
    for law in service.get("legal_basis") or []:
        if _filled(law.get("url")):
            out.setdefault(law["url"].strip(), "legal_basis")
    return [(field, url) for url, field in out.items()]
