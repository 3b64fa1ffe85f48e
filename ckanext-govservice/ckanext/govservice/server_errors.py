"""Server errors that an operator can act on, and a page a citizen can read.

CKAN answers an unhandled error with its error page but logs only the
exception, so the log of a failing page does not say which page or which
service. Here the error is logged with the request's method and path and the
service (or dataset) it was about, and answered with the platform's own error
page (templates/error_document_template.html) in the page's language.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request

import ckan.plugins.toolkit as tk

log = logging.getLogger(__name__)

# Endpoints whose URL names a service or dataset, beyond CKAN's dataset
# blueprints (named after the dataset type: "service.read", "dataset.read").
SERVICE_ENDPOINTS = {"govservice_service_rdf.read_service": "_id"}


def _about() -> str:
    """" (service <name>)" when the request was about one, else ""."""
    args = request.view_args or {}
    if request.endpoint in SERVICE_ENDPOINTS:
        name = args.get(SERVICE_ENDPOINTS[request.endpoint])
        kind = "service"
    else:
        name = args.get("id")
        kind = "service" if request.blueprint == "service" else request.blueprint or "page"
    return f" ({kind} {name})" if name else ""


def answer_server_error(exception: Exception) -> tuple[str, int]:
    path = request.full_path.rstrip("?")
    log.error("server error on %s %s%s: %s", request.method, path, _about(),
              exception.__class__.__name__, exc_info=exception)
    return tk.render("error_document_template.html",
                     {"code": [500], "content": "Internal server error"}), 500


def install(app: Flask) -> None:
    """Take over CKAN's handler for unhandled errors. CKAN registers one only
    outside tests and debug mode (elsewhere errors propagate), and so do we."""
    handlers: dict[Any, Any] = app.error_handler_spec.get(None, {}).get(None, {})
    if Exception in handlers:
        app.register_error_handler(Exception, answer_server_error)
