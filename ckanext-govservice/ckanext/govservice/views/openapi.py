"""The developer portal: ``/api/govservice/openapi.json`` (the API's description,
made by ``ckanext.govservice.openapi``), ``/api/govservice/docs`` (the
interactive reference: Swagger UI from our own assets) and
``/api/govservice/getting-started`` (the examples of ``api_examples.yaml``)."""
from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, jsonify

import ckan.plugins.toolkit as tk

from ..openapi import API_VERSION, ckan_actions, govservice_actions, openapi_document

blueprint = Blueprint("govservice_openapi", __name__, url_prefix="/api/govservice")

EXAMPLES_FILE = Path(__file__).resolve().parent.parent / "api_examples.yaml"
EXAMPLES_TTL = 300   # seconds the portal's example service and table are reused
_examples: dict[str, Any] = {"at": 0.0, "value": {}}


def site_examples() -> dict[str, Any]:
    """A public service of the portal and its statistics table, as the description's
    examples (read as an anonymous visitor; reused for EXAMPLES_TTL seconds)."""
    if time.monotonic() - _examples["at"] < EXAMPLES_TTL:
        return _examples["value"]
    from .. import statistics_publish
    context = {"user": "", "ignore_auth": False}
    value: dict[str, Any] = {}
    try:
        found = tk.get_action("package_search")(dict(context), {
            "fq": "dataset_type:service", "sort": "name asc", "rows": 1})
        if found["results"]:
            value["service"] = found["results"][0]
        table = statistics_publish._find_table(dict(context))
        if table:
            value["statistics_resource_id"] = table
    except (tk.ObjectNotFound, tk.NotAuthorized, tk.ValidationError):
        pass   # an empty or locked-down portal: a description without examples
    _examples.update(at=time.monotonic(), value=value)
    return value


def forget_examples() -> None:
    _examples.update(at=0.0, value={})


def document() -> dict[str, Any]:
    return openapi_document(govservice_actions(), tk.config.get("ckan.site_url") or "/",
                            ckan=ckan_actions(), examples=site_examples())


@lru_cache(maxsize=1)
def developer_examples() -> list[dict[str, Any]]:
    """The getting-started examples (``api_examples.yaml``)."""
    return yaml.safe_load(EXAMPLES_FILE.read_text(encoding="utf-8"))["examples"]


def openapi_json():
    response = jsonify(document())
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def docs():
    return tk.render("govservice/api_reference.html", {"api_version": API_VERSION})


def getting_started():
    return tk.render("govservice/getting_started.html", {
        "examples": developer_examples(), "api_version": API_VERSION,
        "portal": (tk.config.get("ckan.site_url") or "").rstrip("/")})


blueprint.add_url_rule("/openapi.json", view_func=openapi_json, endpoint="openapi_json")
blueprint.add_url_rule("/docs", view_func=docs, endpoint="docs")
blueprint.add_url_rule("/getting-started", view_func=getting_started, endpoint="getting_started")
