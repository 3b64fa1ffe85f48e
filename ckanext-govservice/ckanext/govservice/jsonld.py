"""schema.org GovernmentService JSON-LD for a service page: ``core.schemaorg``'s
mapping, with the department looked up in CKAN (the page's ``package_show``
dict carries only a summary of its organisation)."""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk

from .core import schemaorg


def _department_of(pkg: dict[str, Any]) -> dict[str, Any]:
    """The owner's full record when CKAN is at hand: package_show's organisation
    summary lacks the department's English name and area (areaServed)."""
    org = pkg.get("organization") or {}
    if not org.get("id") or "area" in org:
        return org
    try:
        return tk.get_action("organization_show")(
            {"ignore_auth": True}, {"id": org["id"], "include_datasets": False, "include_users": False})
    except (tk.ObjectNotFound, RuntimeError):   # gone, or no CKAN app (the pure mapping's tests)
        return org


def service_jsonld(pkg: dict[str, Any], department: dict[str, Any] | None = None,
                   url: str | None = None, uri: str | None = None) -> dict[str, Any]:
    """``core.schemaorg.service_jsonld``, the department looked up in CKAN when not given."""
    return schemaorg.service_jsonld(pkg, department or _department_of(pkg), url=url, uri=uri)
