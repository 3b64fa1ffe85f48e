"""Open311 GeoReport v2: the service list, for apps built on Open311.

Only the read side that makes sense for a service catalogue:

* ``GET /open311/v2/services.json`` and ``.xml`` — the service list
* ``GET /open311/v2/services/<service_code>.json`` and ``.xml`` — a service definition

Mapping (https://wiki.open311.org/GeoReport_v2/):

==============  ================================================================
Open311         GovService
==============  ================================================================
jurisdiction_id a department's URL name (CKAN organisation name); leave it out
                for every department. Unknown → 404.
service_code    the service code (基本编码)
service_name    the title (``title_en`` with ``locale=en``, falling back to Chinese)
description     the description (``notes`` / ``notes_en``)
metadata        always ``false``: a service request needs no extra attributes here
type            ``realtime`` when the committed time limit is 0 (即办, decided on
                the spot); ``batch`` otherwise (the request is processed within
                the committed limit). Never ``blackbox``.
keywords        the theme labels, comma-separated
group           the department's name
==============  ================================================================

Only active services are listed (suspended and withdrawn ones cannot be applied
for). ``locale`` (``zh_Hans_CN``, the default, or ``en``) is our extension.
Errors use Open311's format: ``[{"code": 404, "description": "..."}]``.
"""
from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, jsonify, request

import ckan.plugins.toolkit as tk

from . import schema

open311 = Blueprint("govservice_open311", __name__, url_prefix="/open311/v2")

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
PAGE = 1000


# ---------------------------------------------------------------- pure mapping

def service_type(service: dict[str, Any]) -> str:
    """Open311 ``type``: realtime for services decided on the spot, batch for the rest."""
    return "realtime" if service.get("committed_limit") in (0, "0") else "batch"


def _locale_text(service: dict[str, Any], key: str, en_key: str, locale: str) -> str:
    if locale == "en" and service.get(en_key):
        return service[en_key]
    return service.get(key) or ""


def service_entry(service: dict[str, Any], department: dict[str, Any] | None = None,
                  locale: str = "zh_Hans_CN") -> dict[str, Any]:
    """One element of the Open311 service list, from a ``package_show`` dict."""
    department = department or service.get("organization") or {}
    themes = schema.field("themes")
    return {
        "service_code": service["service_code"],
        "service_name": _locale_text(service, "title", "title_en", locale),
        "description": _locale_text(service, "notes", "notes_en", locale),
        "metadata": False,
        "type": service_type(service),
        "keywords": ",".join(schema.choice_label(themes, t, locale) for t in service.get("themes") or []),
        "group": _locale_text(department, "title", "title_en", locale) or department.get("name", ""),
    }


def service_definition(service: dict[str, Any]) -> dict[str, Any]:
    """The Open311 service definition: no attributes, since ``metadata`` is false."""
    return {"service_code": service["service_code"], "attributes": []}


def to_xml(root: str, item: str, rows: list[dict[str, Any]]) -> bytes:
    top = ET.Element(root)
    for row in rows:
        el = ET.SubElement(top, item) if item else top
        for key, value in row.items():
            if isinstance(value, list):
                child = ET.SubElement(el, key)
                for sub in value:
                    ET.SubElement(child, key.rstrip("s")).text = str(sub)
                continue
            ET.SubElement(el, key).text = (
                "true" if value is True else "false" if value is False else str(value))
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")


# ---------------------------------------------------------------- views

def error(code: int, description: str, fmt: str = "json") -> Response:
    body = [{"code": code, "description": description}]
    if fmt == "xml":
        return Response(to_xml("errors", "error", body), status=code, mimetype="text/xml")
    response = jsonify(body)
    response.status_code = code
    return response


def _locale() -> str:
    return "en" if request.args.get("locale") == "en" else "zh_Hans_CN"


def _department(jurisdiction: str | None) -> dict[str, Any] | None:
    if not jurisdiction:
        return None
    try:
        org = tk.get_action("organization_show")(
            {}, {"id": jurisdiction, "include_datasets": False, "include_users": False})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        raise LookupError(f"unknown jurisdiction_id {jurisdiction!r}: no department has that name")
    return org


def _active_services(department: dict[str, Any] | None) -> list[dict[str, Any]]:
    status_field = schema.facet_fields()["status"]
    fq = f'dataset_type:service AND {status_field}:"active"'
    if department:
        fq += f' AND owner_org:"{department["id"]}"'
    services, start = [], 0
    while True:
        page = tk.get_action("package_search")(
            {}, {"fq": fq, "rows": PAGE, "start": start, "sort": "name asc"})
        services.extend(page["results"])
        start += PAGE
        if start >= page["count"]:
            return services


def _output(fmt: str, body: Any, root: str, item: str | None) -> Response:
    if fmt == "xml":
        rows = body if isinstance(body, list) else [body]
        return Response(to_xml(root, item or "", rows), mimetype="text/xml")
    return jsonify(body)


def services_list(fmt: str):
    if fmt not in FORMATS:
        return error(404, f"unknown format {fmt!r}: use services.json or services.xml")
    try:
        department = _department(request.args.get("jurisdiction_id"))
    except LookupError as e:
        return error(404, str(e), fmt)
    locale = _locale()
    departments: dict[str, dict[str, Any]] = {}
    if department:
        departments[department["id"]] = department
    rows = []
    for service in _active_services(department):
        org_id = service.get("owner_org")
        if org_id and org_id not in departments:
            try:
                departments[org_id] = _department(org_id)
            except LookupError:
                departments[org_id] = service.get("organization") or {}
        rows.append(service_entry(service, departments.get(org_id), locale))
    return _output(fmt, rows, "services", "service")


def service_definition_view(service_code: str, fmt: str):
    if fmt not in FORMATS:
        return error(404, f"unknown format {fmt!r}: use .json or .xml")
    jurisdiction = request.args.get("jurisdiction_id")
    try:
        department = _department(jurisdiction)
    except LookupError as e:
        return error(404, str(e), fmt)
    data = {"service_code": service_code}
    if department:
        data["department"] = department["id"]
    try:
        service = tk.get_action("govservice_service_show")({}, data)
    except tk.ObjectNotFound:
        return error(404, f"no service with service_code {service_code!r}", fmt)
    except tk.NotAuthorized:
        return error(404, f"no service with service_code {service_code!r}", fmt)
    except tk.ValidationError as e:
        message = "; ".join(str(m) for msgs in e.error_dict.values() for m in (msgs if isinstance(msgs, list) else [msgs]))
        return error(400, f"{message} (Open311: pass jurisdiction_id)", fmt)
    return _output(fmt, service_definition(service), "service_definition", None)


open311.add_url_rule("/services.<fmt>", view_func=services_list, endpoint="services")
open311.add_url_rule("/services/<service_code>.<fmt>", view_func=service_definition_view,
                     endpoint="service_definition")
