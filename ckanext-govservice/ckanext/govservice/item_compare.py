"""The same item compared (issue 16), on the CKAN side: a basic item and its
implementations fetched through CKAN's own actions, their departments (level
and area) and latest-12-months KPIs, handed to ``core.compare``; the basic
item catalogue with implementation counts; and each department's
standardisation score.

Implementations are found in Solr by ``basic_code_ss`` (the service schema's
facet); what each one is in the network (its documents' catalogue codes, how
many a citizen must bring) is the ``network`` key of the service
(network.py), as indexed, or worked out again when the index holds none.
The standardisation score reads the database instead (see its section).
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable, Iterable, Iterator

import ckan.model as model
import ckan.plugins.toolkit as tk

from . import network
from . import statistics_store as store
from .statistics_store import queries as store_queries
from .core import compare as core, rules, schema, words
from .core.documents import is_mandatory

log = logging.getLogger(__name__)

# Solr answers at most this many rows a page (CKAN's ckan.search.rows_max default).
SEARCH_PAGE = 1000
LEVELS = [c["value"] for c in schema.choices(schema.vocabulary_fields()["level"])]
KPIS = ("on_time_rate", "satisfaction_rate", "digital_take_up", "volume")


def solr_phrase(value: str) -> str:
    """A value as a Solr phrase: quoted, its backslashes and quotes escaped."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _search_all(fq: str, context: dict[str, Any] | None = None,
                fl: str | None = None) -> Iterator[dict[str, Any]]:
    """Every dataset the filter finds, a Solr page at a time."""
    start = 0
    while True:
        params = {"fq": fq, "rows": SEARCH_PAGE, "start": start, "sort": "name asc",
                  "include_private": False}
        if fl:
            params["fl"] = fl
        found = tk.get_action("package_search")(dict(context or {"ignore_auth": True}), params)
        yield from found["results"]
        start += SEARCH_PAGE
        if start >= found["count"]:
            return


# ---------------------------------------------------------------- departments

def departments(org_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """{organisation id: {"name", "title", "title_en", "level", "area"}}."""
    ids = sorted(set(i for i in org_ids if i))
    if not ids:
        return {}
    out = {}
    for group in model.Session.query(model.Group).filter(model.Group.id.in_(ids)):
        extras = group.extras or {}
        out[group.id] = {"name": group.name, "title": group.title or group.name,
                         "title_en": extras.get("title_en") or None,
                         "level": extras.get("level") or None, "area": extras.get("area") or None}
    return out


def who(dept: dict[str, Any] | None) -> dict[str, str]:
    """How a sentence names an implementer: its area in Chinese (临江区), its English title in English."""
    dept = dept or {}
    zh = dept.get("area") or dept.get("title") or dept.get("name") or "?"
    return {"zh_Hans_CN": zh, "en": dept.get("title_en") or dept.get("area") or dept.get("title") or zh}


def _level_order(level: str | None) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


# ---------------------------------------------------------------- an implementation

def _network(pkg: dict[str, Any]) -> dict[str, Any]:
    found = pkg.get("network")
    return found if isinstance(found, dict) and "documents" in found else network.of(pkg)


def implementation(pkg: dict[str, Any], dept: dict[str, Any] | None,
                   performance: dict[str, Any] | None = None) -> dict[str, Any]:
    """A service as core.compare takes it, with what the page and the action show of it;
    ``performance``: its latest-12-months summary (``latest_summaries``)."""
    net = _network(pkg)
    listed = pkg.get("documents") or []
    documents = []
    for d in net.get("documents") or []:
        sent = listed[d["index"]] if d.get("index") is not None and d["index"] < len(listed) else {}
        documents.append({"code": d.get("code"), "name": sent.get("name") or d.get("title"),
                          "title": d.get("title"), "mandatory": is_mandatory(sent),
                          "government_holds": d.get("government_holds"), "must_bring": d.get("must_bring")})
    fees = pkg.get("fees") or []
    dept = dept or {}
    performance = performance or {}
    return {
        "name": pkg["name"], "title": pkg.get("title"), "title_en": pkg.get("title_en"),
        "who": who(dept),
        "department": {k: dept.get(k) for k in ("name", "title", "title_en", "level", "area")},
        "service_code": pkg.get("service_code"),
        "implementation_code": pkg.get("implementation_code"),
        "status": pkg.get("status"),
        "documents": documents,
        "document_codes": [d["code"] for d in documents if d["code"]],
        "documents_demanded": net.get("documents_demanded"),
        "documents_to_bring": net.get("documents_to_bring"),
        "committed_limit": _whole_number(pkg.get("committed_limit")),   # "" when left out
        "committed_limit_unit": pkg.get("committed_limit_unit") or "working_days",
        "in_person_visits": _whole_number(pkg.get("in_person_visits")),
        "fees": fees,
        "is_free": rules.is_free(fees),
        "online_depth": pkg.get("online_depth") or [],
        "channel_types": list(dict.fromkeys(c.get("channel_type") for c in pkg.get("channels") or []
                                            if c.get("channel_type"))),
        "flags": net.get("flags") or [],
        "kpis": {k: performance.get(k) for k in ("period_from", "period_to", *KPIS)
                 if performance.get(k) is not None},
    }


def _summary_key(pkg: dict[str, Any]) -> tuple[str, str]:
    return (pkg.get("organization") or {}).get("name") or "", pkg.get("service_code") or ""


def latest_summaries(packages: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """{(department name, service code): latest-12-months summary} of the services, from
    one query (none when the statistics store is not there)."""
    keys = [_summary_key(p) for p in packages]
    try:
        with store.engine().connect() as conn:
            return store_queries.summaries(conn, keys)
    except Exception:   # the statistics tables not there yet, or the DataStore down
        log.debug("no performance summaries for the comparison", exc_info=True)
        return {}


# ---------------------------------------------------------------- a basic item and its implementations

def basic_item(basic_code: str) -> dict[str, Any] | None:
    """The basic item dataset with this code (package_show), or None."""
    found = network.basic_item(basic_code)
    if found is None:
        return None
    return tk.get_action("package_show")({"ignore_auth": True}, {"id": found["name"]})


def implementation_packages(basic_code: str, level: str | None = None,
                            area: str | None = None) -> list[dict[str, Any]]:
    fq = f"+dataset_type:service +basic_code_ss:{solr_phrase(basic_code)}"
    if level:
        fq += f" +level_ss:{solr_phrase(level)}"
    if area:
        fq += f" +area_ss:{solr_phrase(area)}"
    return list(_search_all(fq))


def filter_choices(basic_code: str) -> dict[str, Any]:
    """The levels and areas of every implementation of the item (whatever is filtered
    now), and how many there are, from one Solr facet: what the page's filters offer."""
    found = tk.get_action("package_search")({"ignore_auth": True}, {
        "fq": f"+dataset_type:service +basic_code_ss:{solr_phrase(basic_code)}", "rows": 0,
        "facet": "true", "facet.field": ["level_ss", "area_ss"], "facet.limit": -1, "facet.mincount": 1})
    facets = found.get("facets", {})
    return {"count": found["count"],
            "levels": sorted(facets.get("level_ss", {}), key=_level_order),
            "areas": sorted(facets.get("area_ss", {}))}


def compare(basic_code: str, level: str | None = None, area: str | None = None) -> dict[str, Any] | None:
    """The comparison govservice_item_compare answers; None when no basic item has the code."""
    item = basic_item(basic_code)
    if item is None:
        return None
    packages = implementation_packages(basic_code, level, area)
    depts = departments(p.get("owner_org") for p in packages)
    figures = latest_summaries(packages)
    impls = [implementation(p, depts.get(p.get("owner_org")), figures.get(_summary_key(p)))
             for p in packages]
    impls.sort(key=lambda i: (_level_order(i["department"]["level"]), i["department"]["area"] or "",
                              i["department"]["title"] or "", i["name"]))
    standard = _standard(item)
    compared = core.compare(standard, impls)
    for impl in compared["implementations"]:   # the contract's documents are codes; the page wants more
        impl["document_details"] = impl["documents"]
        impl["documents"] = impl.pop("document_codes")
    return {"basic_item": _basic_item_out(item, standard), "filters": {"level": level, "area": area},
            "implementations": compared["implementations"], "best": compared["best"]}


def _standard(item: dict[str, Any]) -> dict[str, Any]:
    """The basic item's standard as core.compare takes it."""
    keys = ("basic_code", "statutory_limit", "statutory_limit_unit", "standard_limit",
            "standard_limit_unit", "standard_visits")
    out = {k: item.get(k) for k in keys}
    for k in ("statutory_limit", "standard_limit", "standard_visits"):   # "" when left out
        out[k] = _whole_number(out[k])
    out["standard_documents"] = [{"code": d.get("code"), "name": d.get("name"),
                                  "mandatory": d.get("mandatory")}
                                 for d in item.get("standard_documents") or []]
    return out


def _basic_item_out(item: dict[str, Any], standard: dict[str, Any]) -> dict[str, Any]:
    limit, unit = core.standard_limit(standard)
    return {**{k: item.get(k) for k in ("name", "basic_code", "title", "title_en", "notes", "service_type",
                                        "set_by_level", "legal_basis", "status")},
            **standard, "legal_basis": item.get("legal_basis") or [],
            "standard": {"limit": limit, "limit_unit": unit, "days": core.standard_days(standard),
                         "visits": standard.get("standard_visits"),
                         "documents": standard["standard_documents"]},
            "organization": {k: (item.get("organization") or {}).get(k) for k in ("name", "title")}}


# ---------------------------------------------------------------- the catalogue

def implementation_counts() -> dict[str, int]:
    """{basic code: live public services implementing it}, from one Solr facet."""
    found = tk.get_action("package_search")({"ignore_auth": True}, {
        "fq": "+dataset_type:service", "rows": 0, "facet": "true",
        "facet.field": ["basic_code_ss"], "facet.limit": -1, "facet.mincount": 1})
    return dict(found.get("facets", {}).get("basic_code_ss", {}))


def item_list(q: str | None, service_type: str | None, status: str | None,
              page: int, rows: int) -> dict[str, Any]:
    fq = "+dataset_type:basic_item"
    if service_type:
        fq += f" +service_type:{solr_phrase(service_type)}"
    if status:
        fq += f" +status:{solr_phrase(status)}"
    found = tk.get_action("package_search")({"ignore_auth": True}, {
        "q": q or "", "fq": fq, "rows": rows, "start": (page - 1) * rows, "sort": "name asc"})
    counts = implementation_counts()
    items = [{**{k: p.get(k) for k in ("name", "basic_code", "title", "title_en", "service_type",
                                       "set_by_level", "status", "standard_limit", "standard_limit_unit",
                                       "statutory_limit", "statutory_limit_unit", "standard_visits")},
              "implementations": counts.get(p.get("basic_code"), 0)} for p in found["results"]]
    return {"count": found["count"], "page": page, "rows": rows, "items": items}


# ---------------------------------------------------------------- the standardisation score
# Whether each implementation keeps to its basic item's standard is worked out
# when the service is indexed (network.keeps_to_standard, Solr field
# network.STANDARD_FIELD) and again when a basic item or a document changes
# (network.reconcile_index); the score is two facet counts over the index, a
# few milliseconds however many services there are. ``counted_standardisation``
# counts it from the database instead (seconds at 100,000 services): the
# reference the index is held to.


def _facet_counts(fq: str, field: str) -> dict[str, int]:
    found = tk.get_action("package_search")({"ignore_auth": True}, {
        "fq": fq, "rows": 0, "facet": "true", "facet.field": [field], "facet.limit": -1,
        "facet.mincount": 1, "include_private": False})
    return dict(found.get("facets", {}).get(field, {}))


def _scored(scores: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    groups = {g.name: g for g in model.Session.query(model.Group).filter(model.Group.name.in_(list(scores)))} \
        if scores else {}
    out = []
    for name, score in scores.items():
        group = groups.get(name)
        title = (group.title if group is not None else None) or name
        title_en = (group.extras or {}).get("title_en") if group is not None else None
        out.append({"department": name, "title": {"zh_Hans_CN": title, "en": title_en or title}, **score})
    out.sort(key=lambda d: (-d["score"], d["department"]))
    return out


def standardisation(department: str | None = None) -> list[dict[str, Any]]:
    """Each department's score over its implementations of live basic items
    (``{"department", "title": {zh, en}, "score", "matching", "implementations"}``),
    highest first; departments with no implementation are left out, and so are
    implementations of a basic item no longer in the catalogue (the network flags them)."""
    fq = f"+dataset_type:service +{network.STANDARD_FIELD}:[* TO *]"
    if department:
        fq += f" +organization:{solr_phrase(department)}"
    implementations = _facet_counts(fq, "organization")
    matching = _facet_counts(f"{fq} +{network.STANDARD_FIELD}:true", "organization") if implementations else {}
    return _scored({org: {"score": round(matching.get(org, 0) / n, 3), "matching": matching.get(org, 0),
                          "implementations": n} for org, n in implementations.items()})


def _extra(key: str):
    return model.Package.extras[key].astext


def _json_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    try:
        found = json.loads(value) if value else []
    except ValueError:
        return []
    return found if isinstance(found, list) else []


def _whole_number(value: Any) -> int | None:
    try:
        return int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


def basic_item_standards() -> dict[str, dict[str, Any]]:
    """{basic code: the standard core.compare measures against} of every live basic item."""
    rows = (model.Session.query(_extra("basic_code"), _extra("statutory_limit"), _extra("statutory_limit_unit"),
                                _extra("standard_limit"), _extra("standard_limit_unit"),
                                _extra("standard_visits"), _extra("standard_documents"))
            .filter(model.Package.type == "basic_item", model.Package.state == "active"))
    return {code: {"basic_code": code, "statutory_limit": _whole_number(statutory),
                   "statutory_limit_unit": statutory_unit or "working_days",
                   "standard_limit": _whole_number(limit), "standard_limit_unit": limit_unit or "working_days",
                   "standard_visits": _whole_number(visits),
                   "standard_documents": [d for d in _json_list(documents) if isinstance(d, dict)]}
            for code, statutory, statutory_unit, limit, limit_unit, visits, documents in rows if code}


def _implementations(department: str | None) -> Iterator[tuple[str, dict[str, Any]]]:
    """(department name, the service as the score reads it) of each live public implementation."""
    query = (model.Session.query(model.Group.name, model.Package.name, _extra("basic_code"),
                                 _extra("committed_limit"), _extra("committed_limit_unit"),
                                 _extra("in_person_visits"), _extra("documents"))
             .join(model.Group, model.Group.id == model.Package.owner_org)
             .filter(model.Package.type == "service", model.Package.state == "active",
                     model.Package.private.is_(False), _extra("basic_code") != ""))
    if department:
        query = query.filter(model.Group.name == department)
    for org, name, code, limit, unit, visits, documents in query.yield_per(1000):
        yield org, {"name": name, "basic_code": code, "committed_limit": _whole_number(limit),
                    "committed_limit_unit": unit or "working_days", "in_person_visits": _whole_number(visits),
                    "documents": [d for d in _json_list(documents) if isinstance(d, dict)]}


def counted_standardisation(department: str | None = None) -> list[dict[str, Any]]:
    """``standardisation`` counted from the database, service by service (the
    reference the indexed score is checked against; slow at province scale)."""
    standards = basic_item_standards()
    pairs = [(org, core.matches_standard(implementation_shape(service), standards[service["basic_code"]]))
             for org, service in _implementations(department) if service["basic_code"] in standards]
    return _scored(core.standardisation(pairs))


def implementation_shape(service: dict[str, Any]) -> dict[str, Any]:
    """What the score needs of a service: its documents' catalogue codes (as the
    network matches them) and mandatory flags, its limit and visits."""
    net = _network(service)
    listed = service.get("documents") or []
    return {"name": service["name"],
            "documents": [{"code": d.get("code"),
                           "mandatory": is_mandatory(listed[d["index"]] if d["index"] < len(listed) else {})}
                          for d in net.get("documents") or []],
            "committed_limit": service.get("committed_limit"),
            "committed_limit_unit": service.get("committed_limit_unit") or "working_days",
            "in_person_visits": service.get("in_person_visits")}


def definition(lang: str) -> str:
    return words.word(DEFINITION, lang)


DEFINITION = ("The standardisation score is the share of a department's implementations of basic items "
              "that keep to the item's standard on all three: no mandatory document outside the "
              "standard's, a committed limit no longer than the standard's (or the statutory limit), "
              "and no more in-person visits than the standard's.")


# ---------------------------------------------------------------- template helpers

def _lang() -> str:
    # helpers.govservice_lang's rule; helpers gathers this module's helpers, so not imported from there
    return "en" if (tk.h.lang() or "").startswith("en") else "zh_Hans_CN"


def govservice_standardisation_definition() -> str:
    """How the standardisation score is computed, in the page's language."""
    return definition(_lang())


def govservice_difference_text(difference: dict[str, Any]) -> str:
    """A difference's sentence in the page's language."""
    text = difference.get("text") or {}
    return text.get(_lang()) or text.get("en") or ""


def govservice_level_label(level: Any) -> str:
    """A department level's word (省级, 区县级…) in the page's language; "" when absent."""
    if not level or not isinstance(level, str):
        return ""
    return schema.choice_label(schema.vocabulary_fields()["level"], level, _lang())


def govservice_item_label(field_name: str) -> str:
    """A basic item field's label (basic_item.yaml) in the page's language."""
    for f in schema.load("basic_item")["dataset_fields"]:
        if f["field_name"] == field_name:
            return schema.label(f, _lang())
    raise KeyError(field_name)


def govservice_item_differs(impl: dict[str, Any]) -> set[str]:
    """The fields on which an implementation does worse (the page highlights their cells)."""
    return {d.get("field") for d in impl.get("differences") or []}


def govservice_online_stages(online_depth: Any) -> str:
    """"4 of 6 stages online" / "网上可办 4/6 个环节"."""
    stages = len(set(online_depth or []) & set(rules.ONLINE_STAGES)) if isinstance(online_depth, list) else 0
    return words.word("{n} of {total} stages online", _lang(), n=stages, total=len(rules.ONLINE_STAGES))


# Template helpers this module offers (registered by helpers.get_helpers).
TEMPLATE_HELPERS: dict[str, Callable[..., Any]] = {
    f.__name__: f for f in (govservice_standardisation_definition, govservice_difference_text,
                            govservice_level_label,
                            govservice_item_label, govservice_item_differs,
                            govservice_online_stages)}
