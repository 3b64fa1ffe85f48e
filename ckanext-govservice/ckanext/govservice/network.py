"""One network across levels (issue 16), on the CKAN side: a service as an
implementation of a basic item (基本目录), its documents against the document
catalogue (材料目录).

* lookups by code for validation: straight to the database, through the
  expression indexes of migration a16b1c2d3e4f (``basic_item``,
  ``document_codes_known``, ``implementation_code_owner``…);
* the catalogues for showing and indexing a service: loaded whole, once, and
  kept in this process until a basic item or document changes here, or
  ``CACHE_TTL`` seconds have passed (another process may have changed them);
* ``of(service)``: the ``network`` key package_show adds to a service;
  ``index_fields(service)``: what its Solr document carries of it;
* the implementations of a basic item whose status changed are reindexed
  after the commit, on the job queue.

The matching itself is pure, in ``core/documents.py``.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy import event

import ckan.model as model
import ckan.plugins.toolkit as tk

from .core import compare as core_compare
from .core import documents as core_documents
from .core import rules

log = logging.getLogger(__name__)

CACHE_TTL = 30.0            # seconds another process's change may take to be seen here
INLINE_REINDEX_LIMIT = 1000  # without a job queue, reindex this many implementations at most, inline
WITHDRAWN = "withdrawn"
LIVE = "active"             # CKAN's state of a dataset that is not deleted or a draft

# The Solr tag and the reason of each flag a service may carry.
FLAG_BASIC_ITEM_WITHDRAWN = "basic_item_withdrawn"
FLAG_BASIC_ITEM_MISSING = "basic_item_missing"
FLAG_DOCUMENTS_UNMATCHED = "documents_unmatched"

BASIC_ITEM_KEYS = ("basic_code", "name", "title", "title_en", "status", "service_type",
                   "statutory_limit", "statutory_limit_unit", "standard_limit", "standard_limit_unit",
                   "standard_visits", "standard_documents")
_NUMBERS = ("statutory_limit", "standard_limit", "standard_visits")

_lock = threading.Lock()
_cache: dict[str, Any] = {"at": None, "basic_items": {}, "documents": None, "departments": {}, "missed": set()}


# ---------------------------------------------------------------- lookups for validation


def _live(dataset_type: str):
    return (model.Session.query(model.Package)
            .filter(model.Package.type == dataset_type, model.Package.state == LIVE))


def _whole_number(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _json_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if not value:
        return []
    try:
        found = json.loads(value)
    except ValueError:
        return []
    return found if isinstance(found, list) else []


def _basic_item_summary(name: str, title: str, extras: dict[str, Any]) -> dict[str, Any]:
    """The basic item as the network key shows it (contract of issue 16)."""
    out = {k: extras.get(k) or None for k in BASIC_ITEM_KEYS}
    out.update(name=name, title=title)
    for k in _NUMBERS:
        out[k] = _whole_number(extras.get(k))
    for limit in ("statutory_limit", "standard_limit"):   # a unit means nothing without its limit
        out[f"{limit}_unit"] = (out[f"{limit}_unit"] or "working_days") if out[limit] is not None else None
    out["status"] = out["status"] or "active"
    out["standard_documents"] = [
        {"code": d.get("code"), "name": d.get("name"),
         "mandatory": core_documents.is_mandatory(d)}
        for d in _json_list(extras.get("standard_documents")) if isinstance(d, dict)]
    return out


def basic_item(code: str) -> dict[str, Any] | None:
    """The live basic item with this code, fresh from the database (for validation)."""
    pkg = _live("basic_item").filter(model.Package.extras["basic_code"].astext == code).first()
    return _basic_item_summary(pkg.name, pkg.title, pkg.extras or {}) if pkg else None


def catalogue_basic_item(code: str | None) -> dict[str, Any] | None:
    """The live basic item with this code as the network key shows it, from the
    cached catalogue (for pages: a facet's labels, a list of services); None
    when there is none. Validation reads the database instead (``basic_item``)."""
    return _catalogues()["basic_items"].get(code) if code else None


def document_codes_known(codes: Iterable[str]) -> set[str]:
    """Those of ``codes`` that a live document of the catalogue has."""
    codes = sorted({c for c in codes if c})
    if not codes:
        return set()
    column = model.Package.extras["document_code"].astext
    return {row[0] for row in model.Session.query(column)
            .filter(model.Package.type == "document", model.Package.state == LIVE,
                    column.in_(codes))}


def lock_implementation_code(code: str) -> None:
    """Hold, until this transaction ends, the right to land this implementation
    code: two harvest workers saving the same code take turns, and the second
    sees the first's row."""
    model.Session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                          {"key": f"implementation_code:{code}"})


def implementation_code_owner(code: str, own_id: str | None) -> dict[str, str] | None:
    """The other live service (any department) holding this implementation code:
    ``{"name", "title", "department"}``, or None."""
    query = (model.Session.query(model.Package.name, model.Package.title, model.Group.title)
             .outerjoin(model.Group, model.Group.id == model.Package.owner_org)
             .filter(model.Package.extras["implementation_code"].astext == code,
                     model.Package.type == "service", model.Package.state != "deleted"))
    if own_id:
        query = query.filter(model.Package.id != own_id)
    row = query.first()
    return {"name": row[0], "title": row[1], "department": row[2] or ""} if row else None


def implementations(basic_code: str) -> list[str]:
    """The ids of the live services implementing a basic item."""
    return [row[0] for row in model.Session.query(model.Package.id)
            .filter(model.Package.extras["basic_code"].astext == basic_code,
                    model.Package.type == "service", model.Package.state == LIVE)]


# ---------------------------------------------------------------- the cached catalogues


def _load() -> dict[str, Any]:
    basic_items: dict[str, dict[str, Any]] = {}
    entries = []
    rows = (model.Session.query(model.Package.type, model.Package.name, model.Package.title,
                                model.Package.extras)
            .filter(model.Package.type.in_(("basic_item", "document")),
                    model.Package.state == LIVE))
    for dataset_type, name, title, extras in rows:
        extras = extras or {}
        if dataset_type == "basic_item" and extras.get("basic_code"):
            basic_items[extras["basic_code"]] = _basic_item_summary(name, title, extras)
        elif dataset_type == "document":
            entries.append({"document_code": extras.get("document_code"), "name": name,
                            "title": title, "aliases": extras.get("aliases"),
                            "government_holds": extras.get("government_holds") or "no",
                            "status": extras.get("status") or "active"})
    departments = {}
    for org_id, name, extras in (model.Session.query(model.Group.id, model.Group.name, model.Group.extras)
                                 .filter(model.Group.is_organization.is_(True),
                                         model.Group.state == LIVE)):
        extras = extras or {}
        departments[org_id] = departments[name] = {
            k: extras.get(k) or None for k in DEPARTMENT_KEYS}
    return {"at": time.monotonic(), "basic_items": basic_items,
            "documents": core_documents.catalogue_index(entries), "departments": departments,
            "missed": set()}


def _catalogues() -> dict[str, Any]:
    with _lock:
        at = _cache["at"]
        if at is None or time.monotonic() - at > CACHE_TTL:
            _cache.update(_load())
        return dict(_cache)


def invalidate() -> None:
    """Forget the catalogues: the next service shown or indexed here reads them again."""
    with _lock:
        _cache["at"] = None


def _department(owner_org: str | None) -> dict[str, Any]:
    if not owner_org:
        return {}
    catalogues = _catalogues()
    found = catalogues["departments"].get(owner_org)
    if found is None and owner_org not in catalogues["missed"]:
        invalidate()            # a department made since the catalogues were read
        catalogues = _catalogues()
        found = catalogues["departments"].get(owner_org)
        if found is None:       # none such: not read again for each of its services
            catalogues["missed"].add(owner_org)
    return found or {}


# ---------------------------------------------------------------- the network key


def of(service: dict[str, Any]) -> dict[str, Any]:
    """The ``network`` key of a service (see the contract in issue 16):
    its basic item, its flags, its documents against the catalogue and their counts."""
    catalogues = _catalogues()
    code = service.get("basic_code")
    item = catalogues["basic_items"].get(code) if code else None
    flags = []
    if code and item is None:
        flags.append({"flag": FLAG_BASIC_ITEM_MISSING, "field": "basic_code",
                      "reason": f"the basic item {code} is no longer in the basic item catalogue "
                                "(基本目录); this implementation is flagged for review"})
    elif item is not None and item["status"] == WITHDRAWN:
        flags.append({"flag": FLAG_BASIC_ITEM_WITHDRAWN, "field": "basic_code",
                      "reason": f"the basic item {code} was withdrawn; "
                                "this implementation is flagged for review"})
    documents = service.get("documents")
    found = core_documents.document_network(documents if isinstance(documents, list) else [],
                                            catalogues["documents"])
    unmatched = [documents[d["index"]].get("name") for d in found["documents"]
                 if d["matched_by"] is None]
    if unmatched:
        flags.append({"flag": FLAG_DOCUMENTS_UNMATCHED, "field": "documents",
                      "reason": f"{len(unmatched)} of its documents match no entry of the document "
                                f"catalogue (材料目录): {'、'.join(map(str, unmatched))}"})
    return {"basic_item": item, "flags": flags, **found}


def index_fields(service: dict[str, Any]) -> dict[str, Any]:
    """The Solr fields of a service's place in the network (its department's
    level and area, its documents' codes and counts, its flags); basic_code_ss
    and implementation_code_ss come from the schema's facets (search.py)."""
    network = service.get("network") or of(service)
    department = _department(service.get("owner_org"))
    out: dict[str, Any] = {
        "documents_demanded_i": network["documents_demanded"],
        "documents_to_bring_i": network["documents_to_bring"],
        "document_codes_ss": sorted({d["code"] for d in network["documents"] if d["code"]}),
        "network_flags_ss": [f["flag"] for f in network["flags"]],
    }
    for key in DEPARTMENT_KEYS:
        if department.get(key):
            out[f"{key}_ss"] = [department[key]]
    matched = keeps_to_standard(service, network)
    if matched is not None:
        out[STANDARD_FIELD] = matched
    return out


# The Solr field holding whether an implementation keeps to its basic item's
# standard; the standardisation score counts it with one facet (item_compare).
STANDARD_FIELD = "matches_standard_b"


def keeps_to_standard(service: dict[str, Any], network: dict[str, Any] | None = None) -> bool | None:
    """Whether a service keeps to its live basic item's standard on documents,
    limit and visits (core.compare.matches_standard); None when it implements
    no basic item of the catalogue (the score leaves it out)."""
    network = network or service.get("network") or of(service)
    item = network.get("basic_item")
    if item is None:
        return None
    listed = service.get("documents") or []
    shape = {"name": service.get("name"),
             "documents": [{"code": d.get("code"),
                            "mandatory": core_documents.is_mandatory(
                                listed[d["index"]] if d["index"] < len(listed) else {})}
                           for d in network.get("documents") or []],
             "committed_limit": _whole_number(service.get("committed_limit")),
             "committed_limit_unit": service.get("committed_limit_unit") or "working_days",
             "in_person_visits": _whole_number(service.get("in_person_visits"))}
    return core_compare.matches_all(core_compare.matches_standard(shape, item))


# ---------------------------------------------------------------- a catalogue changed


_PENDING = "govservice_network_reindex"
_RECONCILE = "govservice_network_reconcile"


def catalogue_changed(context: dict[str, Any], dataset_type: str | None) -> None:
    """A basic item or a document was saved or deleted in this transaction:
    forget the catalogues now and again after the commit (a request in between
    may have read them without the change)."""
    if dataset_type in ("basic_item", "document"):
        invalidate()
        # services listing a document by name may match it now, or no longer; a
        # basic item's standard may now be kept, or no longer, by its implementations
        model.Session().info[_RECONCILE] = True
        _listen()


DEPARTMENT_KEYS = ("level", "area", "area_code")


def department_changed(org_id: str, extras: dict[str, Any] | None) -> None:
    """A department was saved: when its level or area differ from what its
    services' index says, reconcile the index after the commit."""
    extras = extras or {}
    now = {k: extras.get(k) or None for k in DEPARTMENT_KEYS}
    if _catalogues()["departments"].get(org_id) == now:
        return
    invalidate()
    model.Session().info[_RECONCILE] = True
    _listen()


def status_changed(basic_code: str) -> None:
    """A basic item's status changes in this transaction (its validator says so):
    its implementations are reindexed once the transaction commits, and not at
    all if it rolls back."""
    model.Session().info.setdefault(_PENDING, set()).add(basic_code)
    _listen()


def _listen() -> None:
    session = model.Session()
    # Plain listeners, kept for the session's life (as catalogue_publish's).
    if not event.contains(session, "after_commit", _after_commit):
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_rollback", _after_rollback)


def _after_commit(session) -> None:
    invalidate()
    for code in sorted(session.info.pop(_PENDING, set())):
        queue_reindex(code)
    if session.info.pop(_RECONCILE, False):
        queue_reconcile()


def _after_rollback(session) -> None:
    invalidate()               # what was read in the transaction never happened
    session.info.pop(_PENDING, None)
    session.info.pop(_RECONCILE, None)


def queue_reindex(basic_code: str) -> None:
    """Reindex the implementations of a basic item on the job queue. Without one
    (Redis down) up to INLINE_REINDEX_LIMIT of them are reindexed now, beside
    this request: this runs after the commit, when the request's own database
    session may not be used again, so a thread with a session of its own does it."""
    try:
        tk.enqueue_job(reindex_implementations, [basic_code],
                       title=f"reindex the implementations of basic item {basic_code}")
    except Exception:
        log.exception("could not queue the reindex of basic item %s's implementations; "
                      "reindexing up to %d of them now", basic_code, INLINE_REINDEX_LIMIT)
        _reindex_beside(basic_code)


def _reindex_beside(basic_code: str) -> threading.Thread:
    import flask
    app = flask.current_app._get_current_object() if flask.has_app_context() else None

    def run() -> None:
        try:
            if app is None:
                reindex_implementations(basic_code, limit=INLINE_REINDEX_LIMIT)
            else:
                with app.app_context():
                    reindex_implementations(basic_code, limit=INLINE_REINDEX_LIMIT)
        finally:
            model.Session.remove()      # this thread's own session
    thread = threading.Thread(target=run, name=f"reindex-{basic_code}", daemon=True)
    thread.start()
    return thread


def reindex_implementations(basic_code: str, limit: int | None = None) -> int:
    """Background job: put the implementations of a basic item into Solr again
    (their flags follow the item's status). Returns how many were reindexed."""
    from . import search
    invalidate()                  # this process may hold the item as it was
    ids = implementations(basic_code)
    if limit is not None and len(ids) > limit:
        log.warning("basic item %s has %d implementations; reindexed %d, run `ckan search-index "
                    "rebuild` for the rest", basic_code, len(ids), limit)
        ids = ids[:limit]
    done = search.reindex(ids, f"implements {basic_code}")
    log.info("reindexed %d implementations of basic item %s", done, basic_code)
    return done


# The fields of a service's Solr document that follow the catalogues, not the service.
RECONCILED_FIELDS = ("document_codes_ss", "documents_demanded_i", "documents_to_bring_i", "network_flags_ss",
                     "level_ss", "area_ss", "area_code_ss", STANDARD_FIELD)


def queue_reconcile() -> None:
    """Queue ``reconcile_index`` once: a burst of document changes (a catalogue
    harvest) waiting in the queue is one job, which reads the catalogue when it runs."""
    from . import publishing
    try:
        publishing.enqueue_once(reconcile_index, [], f"govservice-network-{tk.config.get('ckan.site_id')}",
                                title="reindex the services whose documents the catalogue now matches differently")
    except Exception:   # Redis down: the catalogue is saved; `ckan govservice network-reconcile` catches up
        log.exception("could not queue the network's reconcile; run `ckan govservice network-reconcile`")


def _indexed_network_fields() -> dict[str, dict[str, Any]]:
    """What Solr holds of every service's network fields, by package id."""
    from ckan.lib.search.query import PackageSearchQuery
    held: dict[str, dict[str, Any]] = {}
    query, start, page = PackageSearchQuery(), 0, 1000
    while True:
        found = query.run({"q": "*:*", "fq": "+dataset_type:service", "fl": "id " + " ".join(RECONCILED_FIELDS),
                           "rows": page, "start": start, "sort": "id asc"}, permission_labels=None)
        for doc in found["results"]:
            held[doc["id"]] = {k: doc.get(k) for k in RECONCILED_FIELDS}
        start += page
        if start >= found["count"]:
            return held


def _comparable(fields: dict[str, Any]) -> tuple:
    return tuple(sorted(v) if isinstance(v, list) else v if k.endswith("_b")
                 else (v or ([] if k.endswith("_ss") else 0))
                 for k, v in ((k, fields.get(k)) for k in RECONCILED_FIELDS))


def reconcile_index() -> dict[str, int]:
    """Background job (and ``ckan govservice network-reconcile``): reindex every
    live service whose documents the catalogue now matches differently from
    what its Solr document says (a document added, an alias added or taken
    away, a document the government now holds), or whose department's level
    or area changed. Reads every service's documents once; reindexes only
    those that changed.

    :returns: ``{"services": checked, "reindexed": n}``
    """
    from ckan.lib.search import rebuild
    invalidate()
    held = _indexed_network_fields()
    stale = []
    extras = ("basic_code", "documents", "committed_limit", "committed_limit_unit", "in_person_visits")
    rows = (model.Session.query(model.Package.id, model.Package.owner_org,
                                *(model.Package.extras[k].astext for k in extras))
            .filter(model.Package.type == "service", model.Package.state == LIVE))
    checked = 0
    for package_id, owner_org, *values in rows.yield_per(1000):
        checked += 1
        service = {"owner_org": owner_org, **dict(zip(extras, values))}
        service["documents"] = _json_list(service["documents"])
        now = index_fields(service)
        if _comparable(now) != _comparable(held.get(package_id, {})):
            stale.append(package_id)
    done = 0
    for package_id in stale:
        try:
            rebuild(package_id)
            done += 1
        except Exception:
            log.exception("could not reindex service %s", package_id)
    log.info("network reconcile: %d services checked, %d reindexed", checked, done)
    return {"services": checked, "reindexed": done}


def refuse_delete_of_implemented_item(package_id_or_name: str | None) -> None:
    """A basic item with live implementations is withdrawn, never deleted:
    raises ValidationError naming the item and how many implement it."""
    if not package_id_or_name:
        return
    pkg = model.Package.get(package_id_or_name)
    if pkg is None or pkg.type != "basic_item" or pkg.state == "deleted":
        return
    code = (pkg.extras or {}).get("basic_code")
    count = len(implementations(code)) if code else 0
    if count:
        raise tk.ValidationError({"basic_code": [
            f"basic item {code} ({pkg.title}) cannot be deleted: {count} live "
            f"service{'s' if count != 1 else ''} implement{'' if count != 1 else 's'} it; "
            "withdraw it instead (status: withdrawn)"]})


# ---------------------------------------------------------------- reports


def unmatched_documents(department: str | None = None) -> list[dict[str, Any]]:
    """The document names live services list that match no catalogue entry, most
    listed first (see ``core.documents.unmatched``); each service as
    ``{"name", "title", "department"}``. ``department``: an organisation's id or name."""
    query = (model.Session.query(model.Package.name, model.Package.title, model.Group.name,
                                 model.Package.extras["documents"].astext)
             .join(model.Group, model.Group.id == model.Package.owner_org)
             .filter(model.Package.type == "service", model.Package.state == LIVE))
    if department:
        query = query.filter(sa.or_(model.Group.id == department, model.Group.name == department))
    services = ({"name": name, "title": title, "department": org, "documents": _json_list(docs)}
                for name, title, org, docs in query.yield_per(1000))
    return core_documents.unmatched(services, _catalogues()["documents"])


def statutory_contradiction(service_limit: int | None, service_unit: str,
                            item: dict[str, Any]) -> bool:
    """True when the service states a statutory limit the basic item's differs from
    (compared in calendar days: 5 working days is 7 calendar days)."""
    if service_limit is None or item.get("statutory_limit") is None:
        return False
    return rules.calendar_days(service_limit, service_unit) != rules.calendar_days(
        item["statutory_limit"], item.get("statutory_limit_unit") or "working_days")


# ---------------------------------------------------------------- migrating existing services


def migrate(dry_run: bool = False, echo=lambda line: None) -> dict[str, Any]:
    """Bring services published before the network into it (``ckan govservice
    network-migrate``): an old ``local_code`` becomes the ``implementation_code``
    (when that is empty), and a service without a basic code is linked to the
    one live basic item whose title is exactly the service's title. Nothing else
    of a service is changed; a second run finds nothing to do. ``dry_run``:
    say what would be done, change nothing. Each service changed goes through
    package_patch, so the network's rules apply: a change they refuse is
    reported with its reasons and the service stays as it was.

    :returns: ``{"services", "implementation_codes_moved", "linked", "ambiguous",
        "unlinked", "already_linked", "refused": [{"service", "errors"}], "dry_run"}``
    """
    from .publishing import site_context
    by_title: dict[str, list[str]] = {}
    for title, extras in (model.Session.query(model.Package.title, model.Package.extras)
                          .filter(model.Package.type == "basic_item", model.Package.state == LIVE)):
        if (extras or {}).get("basic_code"):
            by_title.setdefault(title, []).append(extras["basic_code"])
    report: dict[str, Any] = {"services": 0, "implementation_codes_moved": 0, "linked": 0,
                              "ambiguous": 0, "unlinked": 0, "already_linked": 0, "refused": [],
                              "dry_run": dry_run}
    services = (model.Session.query(model.Package.id, model.Package.name, model.Package.title,
                                    model.Package.extras)
                .filter(model.Package.type == "service", model.Package.state == LIVE)
                .order_by(model.Package.name).all())
    for package_id, name, title, extras in services:
        extras = dict(extras or {})
        report["services"] += 1
        changes: dict[str, str] = {}
        old_code = extras.get("local_code")
        if old_code and not extras.get("implementation_code"):
            changes["implementation_code"] = old_code
        if extras.get("basic_code"):
            report["already_linked"] += 1
        else:
            codes = sorted(set(by_title.get(title, [])))
            if len(codes) == 1:
                changes["basic_code"] = codes[0]
            else:
                report["ambiguous" if codes else "unlinked"] += 1
                if codes:
                    echo(f"{name}: not linked, {len(codes)} basic items are titled {title!r}: "
                         f"{', '.join(codes)}")
        if not changes:
            if old_code and extras.get("implementation_code") == old_code and not dry_run:
                _drop_local_code(package_id)          # moved by an earlier run
            continue
        described = ", ".join(f"{k} = {v}" for k, v in sorted(changes.items()))
        if dry_run:
            echo(f"{name}: would set {described}")
        else:
            try:
                tk.get_action("package_patch")(site_context(), {"id": package_id, **changes})
            except tk.ValidationError as e:
                model.Session.rollback()
                report["refused"].append({"service": name, "errors": e.error_dict})
                echo(f"{name}: refused ({described}): {e.error_dict}")
                continue
            if "implementation_code" in changes:
                _drop_local_code(package_id)
            echo(f"{name}: set {described}")
        report["implementation_codes_moved"] += "implementation_code" in changes
        report["linked"] += "basic_code" in changes
    return report


def _drop_local_code(package_id: str) -> None:
    """The old code, once it is the implementation code, leaves the service's extras."""
    pkg = model.Package.get(package_id)
    if pkg is not None and "local_code" in (pkg.extras or {}):
        pkg.extras = {k: v for k, v in pkg.extras.items() if k != "local_code"}
        model.repo.commit()
