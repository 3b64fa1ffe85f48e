"""Actions of the documents family (issue 16): the document catalogue (材料目录),
the services demanding a document, the reuse index, the unmatched names, and
the documents a citizen must still bring (材料减免率). See logic/__init__.py
for how they are registered; the lookups are in document_catalogue.py, the
arithmetic in core/reuse.py."""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from .. import document_catalogue as catalogue
from ..core import reuse, schema
from .action import _department, _text_only, _whole_number

# The read actions anyone may call.
ANYONE_MAY: tuple[str, ...] = (
    "govservice_document_show", "govservice_document_services", "govservice_document_reuse",
    "govservice_documents_unmatched", "govservice_document_burden")


def _document(context: Context, data_dict: DataDict) -> dict[str, Any]:
    _text_only(data_dict, "code")
    code = (data_dict.get("code") or "").strip()
    if not code:
        raise tk.ValidationError({"code": ["give the document's code in the document catalogue (材料编码)"]})
    pkg = catalogue.find(code)
    if pkg is None:
        raise tk.ObjectNotFound(f"document {code}: no document of the document catalogue (材料目录) "
                                "has this code")
    return tk.get_action("package_show")({**context, "for_view": False}, {"id": pkg.id})


def _demanding(code: str) -> tuple[int, int]:
    """(live services demanding the document, departments they belong to)."""
    found = catalogue.reuse_index(catalogue.service_filters() + [f'+document_codes_ss:"{catalogue._escape(code)}"'],
                                  limit=1, offset=0)["results"]
    return (found[0]["services"], found[0]["departments"]) if found else (0, 0)


@tk.side_effect_free
def govservice_document_show(context: Context, data_dict: DataDict) -> DataDict:
    """A document of the document catalogue (材料目录), by its code.

    Anyone may ask.

    :param code: the document's code (材料编码), as published; a code in
        another case is found too
    :type code: string
    :returns: the document as package_show gives it (``document_code``,
        ``title``, ``title_en``, ``aliases`` (a list), ``issuing_authority``,
        ``government_holds``: no / electronic_licence / shared_data …), with
        ``no_need_to_bring`` (true when the government holds it: 免提交),
        ``services_demanding`` (live services demanding it) and
        ``departments_demanding`` (the departments they belong to)
    :rtype: dictionary
    :raises ObjectNotFound: no document has the code (the message names it)
    :raises ValidationError: no code given
    """
    tk.check_access("govservice_document_show", context, data_dict)
    document = _document(context, data_dict)
    services, departments = _demanding(document["document_code"])
    return {**document, "no_need_to_bring": (document.get("government_holds") or "no") != "no",
            "services_demanding": services, "departments_demanding": departments}


def _mandatory(service: dict[str, Any], code: str) -> bool | None:
    """Whether the service demands the document mandatorily (None: not found in its list)."""
    documents = service.get("documents") or []
    indexes = [d.get("index") for d in (service.get("network") or {}).get("documents") or []
               if d.get("code") == code]
    indexes += [i for i, d in enumerate(documents) if d.get("code") == code]
    found = [documents[i] for i in indexes if isinstance(i, int) and 0 <= i < len(documents)]
    if not found:
        return None
    return any(str(d.get("mandatory", True)).lower() not in ("false", "0", "no") for d in found)


@tk.side_effect_free
def govservice_document_services(context: Context, data_dict: DataDict) -> DataDict:
    """The live services that demand a document, by title, paged.

    Anyone may ask.

    :param code: the document's code (材料编码)
    :type code: string
    :param department: only this department's services (name or id), optional
    :type department: string, optional
    :param limit: services per page, 1 to 100 (default 20), optional
    :type limit: integer, optional
    :param offset: services to skip, 0 to 100000 (default 0), optional
    :type offset: integer, optional
    :returns: ``code``, ``count`` (services in all), ``departments`` (how
        many departments they belong to) and ``results``: ``[{"name",
        "title", "title_en", "department": {"name", "title", "title_en",
        "level", "area"}, "mandatory": true/false/null}]``
    :rtype: dictionary
    :raises ObjectNotFound: no document has the code, or no such department
    :raises ValidationError: limit or offset out of range
    """
    tk.check_access("govservice_document_services", context, data_dict)
    document = _document(context, data_dict)
    code = document["document_code"]
    limit = _whole_number(data_dict, "limit", 20, 1, 100)
    offset = _whole_number(data_dict, "offset", 0, 0, 100000)
    _text_only(data_dict, "department")
    department = _department(context, data_dict["department"])["name"] if data_dict.get("department") else None
    fq = " ".join(catalogue.service_filters(department) + [f'+document_codes_ss:"{catalogue._escape(code)}"'])
    found = tk.get_action("package_search")({**context, "ignore_auth": False}, {
        "fq": fq, "rows": limit, "start": offset, "sort": "title_string asc",
        "facet.field": ["organization"], "facet.limit": -1})
    orgs = {o.name: o for o in model.Session.query(model.Group).filter(
        model.Group.name.in_([(s.get("organization") or {}).get("name") for s in found["results"]]))}
    results = []
    for service in found["results"]:
        org = orgs.get((service.get("organization") or {}).get("name"))
        extras = (org.extras or {}) if org is not None else {}
        results.append({
            "name": service["name"], "title": service.get("title"), "title_en": service.get("title_en"),
            "department": {"name": org.name, "title": org.title, "title_en": extras.get("title_en"),
                           "level": extras.get("level"), "area": extras.get("area")}
            if org is not None else None,
            "mandatory": _mandatory(service, code)})
    return {"code": code, "count": found["count"],
            "departments": len(found["search_facets"].get("organization", {}).get("items", [])),
            "results": results}


def _network_filters(context: Context, data_dict: DataDict) -> list[str]:
    _text_only(data_dict, "department", "level", "area")
    department = _department(context, data_dict["department"])["name"] if data_dict.get("department") else None
    level = data_dict.get("level") or None
    if level:
        levels = [c["value"] for c in schema.choices(
            next(f for f in schema.department_fields() if f["field_name"] == "level"))]
        if level not in levels:
            raise tk.ValidationError({"level": [f"must be one of {', '.join(levels)} (got {level!r})"]})
    return catalogue.service_filters(department, level, data_dict.get("area") or None)


@tk.side_effect_free
def govservice_document_reuse(context: Context, data_dict: DataDict) -> DataDict:
    """The reuse index: the documents demanded by the most live services.

    Anyone may ask. Counted by the search index over every live service (or
    those of a department, level or area); ties are ordered by code.

    :param department: only this department's services (name or id), optional
    :type department: string, optional
    :param level: only services of departments at this level (province, city,
        district, township), optional
    :type level: string, optional
    :param area: only services of departments in this area, optional
    :type area: string, optional
    :param limit: documents per page, 1 to 100 (default 20), optional
    :type limit: integer, optional
    :param offset: documents to skip, 0 to 10000 (default 0), optional
    :type offset: integer, optional
    :returns: ``count`` (distinct documents demanded) and ``results``:
        ``[{"code", "name", "title", "title_en", "government_holds",
        "no_need_to_bring", "services", "departments"}]``, most services
        first (title null for a code no live document has any more)
    :rtype: dictionary
    :raises ObjectNotFound: no such department
    :raises ValidationError: a level not in the list, limit or offset out of range
    """
    tk.check_access("govservice_document_reuse", context, data_dict)
    limit = _whole_number(data_dict, "limit", 20, 1, 100)
    offset = _whole_number(data_dict, "offset", 0, 0, 10000)
    index = catalogue.reuse_index(_network_filters(context, data_dict), limit, offset)
    known = catalogue.entries(r["code"] for r in index["results"])
    empty = {"name": None, "title": None, "title_en": None, "government_holds": None, "no_need_to_bring": False}
    return {"count": index["count"],
            "results": [{**empty, **known.get(r["code"], {}), **r} for r in index["results"]]}


@tk.side_effect_free
def govservice_documents_unmatched(context: Context, data_dict: DataDict) -> DataDict:
    """The document names live services list that match no entry of the
    document catalogue (by code, name or alias), most listed first: what the
    catalogue still lacks, or a name to add as an alias.

    Anyone may ask.

    :param department: only this department's services (name or id), optional
    :type department: string, optional
    :param limit: names to list, 1 to 500 (default 50), optional
    :type limit: integer, optional
    :param examples: example services per name, 0 to 20 (default 3), optional
    :type examples: integer, optional
    :returns: ``count`` (distinct unmatched names) and ``results``:
        ``[{"name", "services": count of services listing it,
        "examples": [{"name", "title", "department"}]}]``
    :rtype: dictionary
    :raises ObjectNotFound: no such department
    :raises ValidationError: limit or examples out of range
    """
    from .. import network
    tk.check_access("govservice_documents_unmatched", context, data_dict)
    limit = _whole_number(data_dict, "limit", 50, 1, 500)
    examples = _whole_number(data_dict, "examples", 3, 0, 20)
    _text_only(data_dict, "department")
    department = _department(context, data_dict["department"])["id"] if data_dict.get("department") else None
    found = network.unmatched_documents(department)
    return {"count": len(found),
            "results": [{"name": row["name"], "services": row["count"],
                         "examples": [{k: s.get(k) for k in ("name", "title", "department")}
                                      for s in row["services"][:examples]]}
                        for row in found[:limit]]}


@tk.side_effect_free
def govservice_document_burden(context: Context, data_dict: DataDict) -> DataDict:
    """The documents a citizen must still bring, and the document reduction
    rate 材料减免率 (the share of demanded mandatory documents the citizen need
    not bring because the government holds them), with its monthly trend.

    Anyone may ask. Without parameters: the platform and every department.

    :param service: one service (name or id): its own figures only, optional
    :type service: string, optional
    :param department: one department (name or id): its figures and series, optional
    :type department: string, optional
    :param months: how many months of the series, 1 to 60 (default 12), optional
    :type months: integer, optional
    :returns: ``kpi`` (the rate's name, label and definition in zh_Hans_CN
        and en); for a service ``service``: ``{"name", "documents_demanded",
        "documents_to_bring", "reduction_rate"}``; otherwise ``figures``
        (``{"services", "documents_demanded", "documents_to_bring",
        "documents_not_brought", "mean_to_bring", "reduction_rate"}`` of the
        department or the platform), ``departments`` (the same per
        department, with ``department`` and ``title``, most still to bring
        per service first; without ``department`` only), ``series``
        (``[{"month", "day", …figures, "change"}]`` from the daily
        snapshots, oldest first) and ``trend`` (the rate's change over the
        series, or null)
    :rtype: dictionary
    :raises ObjectNotFound: no such service or department
    :raises ValidationError: months out of range
    """
    tk.check_access("govservice_document_burden", context, data_dict)
    _text_only(data_dict, "service", "department")
    months = _whole_number(data_dict, "months", 12, 1, 60)
    out: dict[str, Any] = {"kpi": reuse.REDUCTION_RATE}
    if data_dict.get("service"):
        service = tk.get_action("package_show")({**context, "for_view": False}, {"id": data_dict["service"]})
        if service.get("type") != "service":
            raise tk.ObjectNotFound(f"service {data_dict['service']}: no such service")
        network = service.get("network") or {}
        demanded, to_bring = network.get("documents_demanded"), network.get("documents_to_bring")
        out["service"] = {"name": service["name"], "documents_demanded": demanded,
                          "documents_to_bring": to_bring,
                          "reduction_rate": reuse.reduction_rate(demanded, to_bring)}
        return out
    if data_dict.get("department"):
        org = _department(context, data_dict["department"])
        sums = catalogue.burden_sums(catalogue.service_filters(org["name"]))
        out["department"] = {"name": org["name"], "title": org.get("title")}
        out["figures"] = reuse.burden(*sums["all"])
        out["series"] = catalogue.series(org["name"], months)
    else:
        sums = catalogue.burden_sums(catalogue.service_filters())
        titles = dict(model.Session.query(model.Group.name, model.Group.title)
                      .filter(model.Group.name.in_(list(sums["departments"]))))
        out["figures"] = reuse.burden(*sums["all"])
        departments = [{"department": name, "title": titles.get(name), **reuse.burden(*figures)}
                       for name, figures in sums["departments"].items()]
        out["departments"] = sorted(departments, key=lambda d: (-(d["mean_to_bring"] or 0), d["department"]))
        out["series"] = catalogue.series(None, months)
    out["trend"] = reuse.trend(out["series"])
    return out
