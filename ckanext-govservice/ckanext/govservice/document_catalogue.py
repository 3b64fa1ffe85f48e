"""The document catalogue (材料目录) on the CKAN side: documents as entities.

* a document by its code (``/document/<code>``, ``govservice_document_show``),
  case as published first, then any case, then CKAN's name or id (so CKAN's
  own links to ``/document/<name>`` land on the same page);
* the services that demand a document (the index's ``document_codes_ss``,
  filled by network.py), and how many departments;
* the reuse index: the documents demanded by the most live services, counted
  by the search index (a JSON facet on ``document_codes_ss``), never by
  loading services into Python;
* the documents a citizen must still bring, per department and platform (sums
  of each service's ``documents_to_bring_i`` and ``documents_demanded_i`` in
  the index), the reduction rate 材料减免率 (core/reuse.py), and its trend
  from the daily snapshot table ``document_burden_day`` (``snapshot``, run by
  ``ckan govservice document-snapshot``).

The arithmetic is in core/reuse.py; the actions in logic/documents.py; the
pages in views/documents.py.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable, Iterable

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk

from .core import reuse, schema

DOCUMENT = "document"
LIVE_SERVICE = ["+dataset_type:service", "+status:active"]
MAX_BUCKETS = 1000      # departments or codes one facet answers at most


# ---------------------------------------------------------------- the catalogue


def _code_column():
    return model.Package.extras["document_code"].astext


def _live_documents():
    return model.Session.query(model.Package).filter(
        model.Package.type == DOCUMENT, model.Package.state == "active")


def find(code: str) -> model.Package | None:
    """The live document of this code (as published, else in any case), or the
    document whose CKAN name or id it is; None when there is none."""
    text = str(code or "").strip()
    if not text or len(text) > 100 or any(ord(c) < 32 for c in text):
        return None
    found = _live_documents().filter(_code_column() == text).first()
    if found is None:
        found = _live_documents().filter(sa.func.lower(_code_column()) == text.lower()).first()
    if found is None:
        pkg = model.Package.get(text)
        if pkg is not None and pkg.type == DOCUMENT and pkg.state == "active":
            found = pkg
    return found


def entries(codes: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The live documents of these codes: code → {"code", "name", "title",
    "title_en", "government_holds", "no_need_to_bring"}."""
    codes = sorted({c for c in codes if c})
    if not codes:
        return {}
    out = {}
    for pkg in _live_documents().filter(_code_column().in_(codes)):
        extras = pkg.extras or {}
        holds = extras.get("government_holds") or "no"
        out[extras["document_code"]] = {
            "code": extras["document_code"], "name": pkg.name, "title": pkg.title,
            "title_en": extras.get("title_en") or None, "government_holds": holds,
            "no_need_to_bring": holds != "no"}
    return out


def aliases(document: dict[str, Any]) -> list[str]:
    value = document.get("aliases")
    if isinstance(value, list):
        return value
    try:
        found = json.loads(value) if value else []
    except ValueError:
        return [value]
    return found if isinstance(found, list) else []


def search_params(q: str | None, held_only: bool, rows: int, start: int) -> dict[str, Any]:
    """package_search's parameters for the catalogue page: documents whose name
    or description holds the words, or one of whose aliases is the text."""
    fq = f"+dataset_type:{DOCUMENT} -status:withdrawn"
    if held_only:
        fq += " -government_holds:no"
    params: dict[str, Any] = {"fq": fq, "rows": rows, "start": start,
                              "sort": "title_string asc" if not q else "score desc, title_string asc"}
    text = (q or "").strip()[:100]
    if text:
        quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        # CKAN's catch-all text holds the name and description; aliases are a
        # list of strings, matched whole.
        params["q"] = f"text:{quoted} OR title:{quoted} OR aliases:{quoted} OR document_code:{quoted}"
        params["defType"] = "lucene"
    return params


# ---------------------------------------------------------------- the search index


def _solr(fq: list[str], **params: Any) -> Any:
    """A raw query over the public, live datasets of this site (JSON facets
    and sums, which package_search does not pass on)."""
    from ckan.lib.search.common import make_connection
    site = tk.config.get("ckan.site_id")
    fq = [f'+site_id:"{site}"', "+state:active", "+capacity:public", *fq]
    return make_connection().search(q="*:*", fq=fq, rows=0, **params)


def service_filters(department: str | None = None, level: str | None = None,
                    area: str | None = None) -> list[str]:
    """The index filters of the live services of a department (its name), a level or an area."""
    fq = list(LIVE_SERVICE)
    for field, value in (("organization", department), ("level_ss", level), ("area_ss", area)):
        if value:
            fq.append(f'+{field}:"{_escape(value)}"')
    return fq


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"')


def reuse_index(fq: list[str], limit: int, offset: int) -> dict[str, Any]:
    """The documents demanded by the most services matching ``fq``: count of
    distinct codes and ``[{"code", "services", "departments"}]``, most services
    first, then by code."""
    facet = {"codes": {"type": "terms", "field": "document_codes_ss", "limit": limit,
                       "offset": offset, "sort": {"count": "desc"}, "numBuckets": True,
                       "facet": {"departments": "unique(organization)"}}}
    found = _solr(fq, **{"json.facet": json.dumps(facet)}).raw_response.get("facets", {})
    codes = found.get("codes") or {}
    buckets = sorted(codes.get("buckets", []), key=lambda b: (-b["count"], b["val"]))
    return {"count": codes.get("numBuckets", 0),
            "results": [{"code": b["val"], "services": b["count"],
                         "departments": b.get("departments", 0)} for b in buckets]}


def burden_sums(fq: list[str]) -> dict[str, Any]:
    """Live services, documents demanded and to bring: in all, and per
    department (its name): ``{"all": (services, demanded, to_bring),
    "departments": {name: (services, demanded, to_bring)}}``."""
    sums = {"demanded": "sum(documents_demanded_i)", "to_bring": "sum(documents_to_bring_i)"}
    facet = {**sums, "departments": {"type": "terms", "field": "organization",
                                     "limit": MAX_BUCKETS, "facet": sums}}
    response = _solr(fq, **{"json.facet": json.dumps(facet)}).raw_response
    found = response.get("facets", {})

    def figures(bucket: dict[str, Any]) -> tuple[int, int, int]:
        return (int(bucket.get("count", 0)), int(bucket.get("demanded", 0) or 0),
                int(bucket.get("to_bring", 0) or 0))
    return {"all": figures(found),
            "departments": {b["val"]: figures(b)
                            for b in (found.get("departments") or {}).get("buckets", [])}}


# ---------------------------------------------------------------- snapshots and their series


def snapshot(day: dt.date | None = None) -> dict[str, Any]:
    """Write today's (or ``day``'s) figures of every department with live
    services into ``document_burden_day``: one row per department and day,
    replaced when run again the same day. Returns ``{"day", "departments",
    "services", "documents_demanded", "documents_to_bring"}``."""
    from .statistics_store import tables
    day = day or dt.date.today()
    sums = burden_sums(service_filters())
    rows = [{"department": name, "day": day, "services": s, "documents_demanded": d,
             "documents_to_bring": b} for name, (s, d, b) in sorted(sums["departments"].items())]
    with tables.engine().begin() as conn:
        # A department whose last service went since the morning's run keeps no stale row.
        conn.execute(sa.text(f"DELETE FROM {tables.SCHEMA}.document_burden_day WHERE day = :day"),
                     {"day": day})
        if rows:
            conn.execute(sa.text(f"""
                INSERT INTO {tables.SCHEMA}.document_burden_day
                    (department, day, services, documents_demanded, documents_to_bring)
                VALUES (:department, :day, :services, :documents_demanded, :documents_to_bring)
                ON CONFLICT (department, day) DO UPDATE SET
                    services = EXCLUDED.services,
                    documents_demanded = EXCLUDED.documents_demanded,
                    documents_to_bring = EXCLUDED.documents_to_bring"""), rows)
    total = sums["all"]
    return {"day": day.isoformat(), "departments": len(rows), "services": total[0],
            "documents_demanded": total[1], "documents_to_bring": total[2]}


def series(department: str | None = None, months: int = 12,
           today: dt.date | None = None) -> list[dict[str, Any]]:
    """The monthly series of a department (its name) or of the platform, the
    last ``months`` months that have a snapshot (see core.reuse.monthly_series)."""
    from .statistics_store import tables
    today = today or dt.date.today()
    first = (today.replace(day=1) - dt.timedelta(days=31 * (months - 1))).replace(day=1)
    where = "day >= :first" + (" AND department = :department" if department else "")
    with tables.read_engine().connect() as conn:
        rows = conn.execute(sa.text(f"""
            SELECT department, day, services, documents_demanded, documents_to_bring
            FROM {tables.SCHEMA}.document_burden_day WHERE {where} ORDER BY day"""),
            {"first": first, "department": department}).mappings().all()
    return reuse.monthly_series(rows)[-months:]


# ---------------------------------------------------------------- template helpers


def _lang() -> str:
    return "en" if (tk.h.lang() or "").startswith("en") else "zh_Hans_CN"


def _document_field(name: str) -> dict[str, Any]:
    return next(f for f in schema.load(DOCUMENT)["dataset_fields"] if f["field_name"] == name)


def govservice_document_label(field_name: str) -> str:
    """A document field's label in the page's language (schemas/document.yaml)."""
    return schema.label(_document_field(field_name), _lang())


def govservice_document_holds(value: Any) -> str:
    """"电子证照免提交" / "Electronic licence — no need to bring"; "" when not stated."""
    if value in (None, ""):
        return ""
    return schema.choice_label(_document_field("government_holds"), str(value), _lang())


def govservice_document_status(value: Any) -> str:
    """A document's status ("已撤销" / "Withdrawn") in the page's language; "" when active or not stated."""
    if value in (None, "", "active"):
        return ""
    return schema.choice_label(_document_field("status"), str(value), _lang())


def govservice_document_aliases(document: dict[str, Any]) -> list[str]:
    return aliases(document)


def govservice_reduction_rate_label() -> str:
    return reuse.REDUCTION_RATE["label"][_lang()]


def govservice_reduction_rate_definition() -> str:
    return reuse.REDUCTION_RATE["definition"][_lang()]


def govservice_document_demand(services: int, departments: int) -> str:
    """"2 项事项，涉及 2 个部门" / "1 service in 1 department"."""
    from .core import words
    lang = _lang()
    return (words.counted_word("{n} service in", "{n} services in", services, lang, n=services) + " "
            + words.counted_word("{n} department", "{n} departments", departments, lang, n=departments))


def govservice_document_level_label(value: Any) -> str:
    """A department's level ("city") in the page's language (schemas/department.yaml)."""
    if value in (None, ""):
        return ""
    level = next(f for f in schema.department_fields() if f["field_name"] == "level")
    return schema.choice_label(level, str(value), _lang())


def govservice_department_documents(department: str, months: int = 12) -> dict[str, Any] | None:
    """A department's documents still to bring, for its dashboard's section
    (snippets/department_documents.html): govservice_document_burden's answer,
    or None when it cannot be had (no department, the index or tables down)."""
    try:
        return tk.get_action("govservice_document_burden")({}, {"department": department, "months": months})
    except Exception:   # a dashboard section must never break the dashboard
        import logging
        logging.getLogger(__name__).warning("document burden of %s failed", department, exc_info=True)
        return None


def govservice_life_event_combined(services: list[dict[str, Any]]) -> dict[str, Any]:
    """A life event's services combined (life_events.combine), their documents
    by catalogue code with the catalogue's names and what the government holds."""
    from . import life_events
    return life_events.combine(services, entries(life_events.document_codes(services)))


# Template helpers this module offers (registered by helpers.get_helpers).
TEMPLATE_HELPERS: dict[str, Callable[..., Any]] = {
    f.__name__: f for f in (
        govservice_document_label, govservice_document_holds, govservice_document_aliases,
        govservice_document_status,
        govservice_document_demand, govservice_document_level_label,
        govservice_reduction_rate_label, govservice_reduction_rate_definition,
        govservice_department_documents, govservice_life_event_combined)}
