"""The API's description, served: ``/api/govservice/openapi.json`` and
``/api/govservice/docs`` (made by ``ckanext.govservice.openapi``)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

import ckan.plugins.toolkit as tk

from ..openapi import govservice_actions, html_page, openapi_document

blueprint = Blueprint("govservice_openapi", __name__, url_prefix="/api/govservice")


def _document() -> dict[str, Any]:
    return openapi_document(govservice_actions(), tk.config.get("ckan.site_url") or "/")


def openapi_json():
    response = jsonify(_document())
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def docs():
    return Response(html_page(_document()), mimetype="text/html")


blueprint.add_url_rule("/openapi.json", view_func=openapi_json, endpoint="openapi_json")
blueprint.add_url_rule("/docs", view_func=docs, endpoint="docs")
