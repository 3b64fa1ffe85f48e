"""Open311 GeoReport v2: the service list, for apps built on Open311.

Only the read side that makes sense for a service catalogue:

* ``GET /open311/v2/services.json`` and ``.xml`` — the service list
* ``GET /open311/v2/services/<service_code>.json`` and ``.xml`` — a service definition

The mapping is ``core.open311``'s (with the reader of such lists). Only active
services are listed (suspended and withdrawn ones cannot be applied for).
``locale`` (``zh_Hans_CN``, the default, or ``en``) is our extension. Errors
use Open311's format: ``[{"code": 404, "description": "..."}]``.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

import ckan.plugins.toolkit as tk

from ..core import schema
from ..core.open311 import service_definition, service_entry, to_xml

blueprint = Blueprint("govservice_open311", __name__, url_prefix="/open311/v2")

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
PAGE = 1000


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


blueprint.add_url_rule("/services.<fmt>", view_func=services_list, endpoint="services")
blueprint.add_url_rule("/services/<service_code>.<fmt>", view_func=service_definition_view,
                     endpoint="service_definition")
