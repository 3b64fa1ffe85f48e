"""Service centres (办事大厅, issue 17) on the CKAN side: which centres handle a
service, "open now" in the platform's timezone, and the index kept in step.

* A service's centres are derived from the centres' counters (each lists the
  implementation codes, 实施编码, it handles), never typed on the service:
  ``of(service)`` is the ``service_centres`` key package_show adds to a service,
  ``index_fields(service)`` its ``service_centres_ss`` Solr field (a facet of
  service search).
* Read fresh from the database each time, never cached: a city has tens of
  centres, a province hundreds, and a centre saved by one web process must show
  on a service served by another at once.
* A centre saved or deleted: the services it handles, before and after, are
  reindexed after the commit, on the job queue (network.py's pattern).

The hours themselves are read by ``core/centres.py``.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


import ckan.model as model
import ckan.plugins.toolkit as tk

from . import publishing
from .core import centres as core_centres
from .network import _json_list   # a JSON list kept in the extras, as text or a list

log = logging.getLogger(__name__)

DATASET_TYPE = "service_centre"
SOLR_FIELD = "service_centres_ss"
LIVE = "active"
WITHDRAWN = "withdrawn"
# What a service's ``service_centres`` key tells of each centre (the contract of issue 17).
SUMMARY_KEYS = ("centre_code", "name", "title", "title_en", "address", "opening_hours", "phone",
                "appointment_url", "status")



# ---------------------------------------------------------------- time

def timezone() -> dt.tzinfo:
    """The platform's timezone (CKAN's ``ckan.display_timezone``; UTC when unset or unknown)."""
    name = tk.config.get("ckan.display_timezone") or "UTC"
    if name == "server":
        return dt.datetime.now().astimezone().tzinfo or dt.timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.timezone.utc


def local_time(at: dt.datetime | None = None) -> dt.datetime:
    """``at`` (now when None; a naive time is taken as UTC) on the platform's wall clock."""
    at = at or dt.datetime.now(dt.timezone.utc)
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.timezone.utc)
    return at.astimezone(timezone())


def parse_moment(value: Any, field: str = "at") -> dt.datetime | None:
    """An ISO 8601 time given by a caller (None when not given).

    :raises ValidationError: naming ``field`` when it is not a time
    """
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise tk.ValidationError({field: [f"must be a time written in ISO 8601, such as "
                                          f"2026-11-23T10:30:00+08:00 (got {value!r})"]})
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise tk.ValidationError({field: [f"must be a time written in ISO 8601, such as "
                                          f"2026-11-23T10:30:00+08:00 (got {value[:40]!r})"]}) from None
    if moment.tzinfo is None:       # a wall-clock time: the platform's
        moment = moment.replace(tzinfo=timezone())
    return moment


def open_now(centre: dict[str, Any], at: dt.datetime | None = None) -> bool | None:
    """Whether the centre is open at ``at`` (now), on the platform's clock;
    None when it publishes no hours, False when it is withdrawn."""
    if (centre.get("status") or LIVE) == WITHDRAWN:
        return False
    return core_centres.open_at(centre.get("opening_hours"), local_time(at)) \
        if centre.get("opening_hours") else None


# ---------------------------------------------------------------- the centres, from the database

def _summary(name: str, title: str, extras: dict[str, Any]) -> dict[str, Any]:
    out = {k: extras.get(k) or None for k in SUMMARY_KEYS}
    out.update(name=name, title=title, status=out["status"] or LIVE)
    return out


def live_centres() -> list[dict[str, Any]]:
    """Every live centre not withdrawn, by centre code: its summary with
    ``owner_org`` and ``open_all_day``."""
    found = _load()
    return [{**found["centres"][code], **found["more"][code]} for code in sorted(found["centres"])
            if found["centres"][code]["status"] != WITHDRAWN]


def _load(implementation_code: str | None = None) -> dict[str, Any]:
    """The live centres (only those whose counters name ``implementation_code``, when given)."""
    centres: dict[str, dict[str, Any]] = {}
    more: dict[str, dict[str, Any]] = {}
    by_service: dict[str, list[str]] = {}
    rows = (model.Session.query(model.Package.name, model.Package.title, model.Package.extras,
                                model.Package.owner_org)
            .filter(model.Package.type == DATASET_TYPE, model.Package.state == LIVE))
    if implementation_code:     # a first sieve in SQL; the counters are read below
        escaped = implementation_code.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        rows = rows.filter(model.Package.extras["counters"].astext.like(f"%{escaped}%"))
    for name, title, extras, owner_org in rows:
        extras = extras or {}
        code = extras.get("centre_code")
        if not code:
            continue
        centres[code] = _summary(name, title, extras)
        more[code] = {"owner_org": owner_org,
                      "open_all_day": core_centres.open_all_day(extras.get("opening_hours"))}
        for service in core_centres.counter_codes(_json_list(extras.get("counters"))):
            by_service.setdefault(service, []).append(code)
    return {"centres": centres, "more": more, "by_service": by_service}


def handling(implementation_code: str | None) -> list[dict[str, Any]]:
    """The live centres whose counters handle this implementation code, withdrawn ones left out."""
    if not implementation_code:
        return []
    found = _load(implementation_code)
    return [found["centres"][c] for c in sorted(set(found["by_service"].get(implementation_code, [])))
            if found["centres"][c]["status"] != WITHDRAWN]


def of(service: dict[str, Any], at: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The ``service_centres`` key of a service: the centres that handle it, each
    with ``open_now`` at ``at`` (now)."""
    return [{**c, "open_now": open_now(c, at)} for c in handling(service.get("implementation_code"))]


def index_fields(service: dict[str, Any]) -> dict[str, Any]:
    """The Solr field of a service's centres: ``service_centres_ss`` (centre codes)."""
    return {SOLR_FIELD: [c["centre_code"] for c in handling(service.get("implementation_code"))]}


def index_into(pkg_dict: dict[str, Any], service: dict[str, Any]) -> None:
    """A service's Solr document: its centres' codes, and not the shown-only key."""
    pkg_dict.pop("service_centres", None)
    pkg_dict.update(index_fields(service))


def known_implementation_codes(codes: list[str]) -> set[str]:
    """Those of ``codes`` that a live service has."""
    if not codes:
        return set()
    column = model.Package.extras["implementation_code"].astext
    return {row[0] for row in model.Session.query(column)
            .filter(model.Package.type == "service", model.Package.state == LIVE, column.in_(codes))}


# ---------------------------------------------------------------- a centre changed

_PENDING = "govservice_centres_reindex"


def changed(centre_code: str | None) -> None:
    """A centre is saved or deleted in this transaction: the services it handled
    and handles are reindexed once it commits (not at all if it rolls back)."""
    if not centre_code:
        return
    publishing.after_commit(_PENDING, centre_code, _queue_reindex)


def deleted(package_id: str | None) -> None:
    """A dataset is deleted: when it is a centre, its services are reindexed after the commit."""
    pkg = model.Package.get(package_id) if package_id else None
    if pkg is not None and pkg.type == DATASET_TYPE:
        changed((pkg.extras or {}).get("centre_code"))


def _queue_reindex(codes: list[str]) -> None:
    for code in codes:
        try:
            tk.enqueue_job(reindex_services, [code], title=f"reindex the services of service centre {code}")
        except Exception:   # Redis down: the centre is saved; `ckan search-index rebuild` catches up
            log.exception("could not queue the reindex of service centre %s's services", code)



def _indexed_with(centre_code: str) -> set[str]:
    """The ids of the services whose Solr document names the centre."""
    from ckan.lib.search.query import PackageSearchQuery
    escaped = centre_code.replace("\\", "\\\\").replace('"', '\\"')
    found = PackageSearchQuery().run({"q": "*:*", "fq": f'+dataset_type:service +{SOLR_FIELD}:"{escaped}"',
                                      "fl": "id", "rows": 10000}, permission_labels=None)
    return {d["id"] if isinstance(d, dict) else d for d in found["results"]}   # fl=id alone: bare ids


def services_of(centre_code: str) -> list[dict[str, Any]]:
    """The live services a centre's counters list: ``[{"id", "name", "title",
    "implementation_code", "owner_org"}]``, by implementation code."""
    codes = [code for code, centres in _load()["by_service"].items() if centre_code in centres]
    if not codes:
        return []
    column = model.Package.extras["implementation_code"].astext
    rows = (model.Session.query(model.Package.id, model.Package.name, model.Package.title, column,
                                model.Package.owner_org)
            .filter(model.Package.type == "service", model.Package.state == LIVE, column.in_(codes)))
    return [{"id": i, "name": n, "title": t, "implementation_code": c, "owner_org": o} for i, n, t, c, o in rows]


def reindex_services(centre_code: str) -> int:
    """Background job: put into Solr again the services a centre handles now or
    was indexed as handling. Returns how many were reindexed."""
    from . import search
    ids = {s["id"] for s in services_of(centre_code)} | _indexed_with(centre_code)
    done = search.reindex(sorted(ids), f"handled by centre {centre_code}")
    log.info("reindexed %d services of service centre %s", done, centre_code)
    return done


def facet_labeler(lang: str):
    """How service search names the values of ``service_centres_ss``: the centre's
    name in ``lang`` (read once for the whole facet)."""
    found = _load()["centres"]

    def label(item: dict[str, Any]) -> str:
        centre = found.get(item["name"]) or {}
        return (lang == "en" and centre.get("title_en")) or centre.get("title") or item["name"]
    return label
