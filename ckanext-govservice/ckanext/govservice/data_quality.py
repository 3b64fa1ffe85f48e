"""Data quality per department: the guide fields that matter (``core.quality``) and
a background link checker over the channel and legal-basis addresses.

The link checker asks each address through the harvesters' guarded client
(``govharvest.extract.link_status``: the address policy a harvest source is held
to, every redirect checked, HEAD then GET, no body read), at most
``ckanext.govservice.links.per_second`` addresses a second, and records each
answer in the KPI engine's ``link_check`` table: broken when it answers 400 or
more, or cannot be reached or is refused by the policy (the reason kept).
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable

import ckan.plugins.toolkit as tk

from . import catalogue_publish, publishing, statistics_store as store
from .core import quality
from .statistics_store import performance as pm

log = logging.getLogger(__name__)


def _services(department: str) -> list[dict[str, Any]]:
    org = tk.get_action("organization_show")({"ignore_auth": True}, {"id": department, "include_datasets": False})
    return [s for s in catalogue_publish.public_services(publishing.site_context(), org["id"])
            if s.get("status", "active") == "active"]


def scores(department: str | None = None) -> dict[str, dict[str, Any]]:
    """Every department's (or one's) data-quality score, from one pass over the catalogue."""
    context = publishing.site_context()
    owner = None
    if department:
        owner = tk.get_action("organization_show")(dict(context), {"id": department, "include_datasets": False})["id"]
    by_department: dict[str, list[dict[str, Any]]] = {}
    for s in catalogue_publish.public_services(context, owner):
        if s.get("status", "active") == "active":
            by_department.setdefault((s.get("organization") or {}).get("name"), []).append(s)
    return {name: quality.department_score(services) for name, services in by_department.items()}


def score(department: str) -> dict[str, Any]:
    """The department's data-quality score, with its broken links as last checked."""
    out = quality.department_score(_services(department))
    with store.engine().connect() as conn:
        out["broken_links"] = [{**b, "checked_at": b["checked_at"].isoformat(timespec="seconds")}
                               for b in pm.broken_links(conn, department)]
    return {"department": department, **out}


def _status(url: str) -> tuple[bool, str | None]:
    """(broken, reason) of one address, asked through the harvesters' guarded client."""
    from govharvest import extract
    from govharvest.errors import ExtractError
    try:
        status = extract.link_status(url, timeout=tk.config.get("ckanext.govservice.links.timeout"))
    except ExtractError as e:
        return True, str(e)
    return (status >= 400, f"HTTP {status}" if status >= 400 else None)


def check_links(department: str, *, status: Callable[[str], tuple[bool, str | None]] = _status,
                sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Background job: check every channel and legal-basis address of the
    department's active services, at most ``links.per_second`` a second."""
    gap = 1.0 / max(tk.config.get("ckanext.govservice.links.per_second"), 0.001)
    with store.engine().connect() as conn:
        started = pm.database_now(conn)   # the clock checked_at is written with
    checked = broken = 0
    answers: dict[str, tuple[bool, str | None]] = {}
    last = 0.0
    for service in _services(department):
        for field, url in quality.links(service):
            if url not in answers:
                wait = last + gap - time.monotonic()
                if wait > 0:
                    sleep(wait)
                last = time.monotonic()
                answers[url] = status(url)
            is_broken, reason = answers[url]
            with store.engine().begin() as conn:
                pm.note_link(conn, department, service["service_code"], url, field, is_broken, reason)
            checked += 1
            broken += is_broken
    with store.engine().begin() as conn:
        forgotten = pm.forget_links_not_seen(conn, department, started)
    return {"department": department, "checked": checked, "addresses": len(answers), "broken": broken,
            "forgotten": forgotten}


def enqueue_link_checks() -> int:
    """Queue one link-checking job per department (on the job worker)."""
    names = [n for n in tk.get_action("organization_list")({"ignore_auth": True}, {"limit": 1000})
             if n != publishing.PLATFORM_ORG]
    for name in names:
        tk.enqueue_job(check_links, [name], title=f"check the links of {name}'s services")
    return len(names)
