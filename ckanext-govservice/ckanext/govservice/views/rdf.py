"""RDF at the platform's own addresses, over ``core.cpsv``:

* ``/service/<name>.<format>``: a service in RDF, as ckanext-dcat serves
  ``/dataset/<id>.<format>`` (through the profiles in ``rdf.py``);
* the platform's terms at ``/ns/govservice`` and its vocabularies at
  ``/vocabulary/…`` (a concept's URI answers with its scheme);
* the ``/id/service/<department>/<code>`` resolver: 303 to the page or the RDF;
  and ``/id/item/<basic code>``, ``/id/document/<code>`` for the network's
  catalogues (303 to ``/item/<code>``, ``/document/<code>`` or the RDF).
"""
from __future__ import annotations

from flask import Blueprint, Response, redirect, request
from rdflib import Graph
from rdflib.namespace import RDF, SKOS

import ckan.plugins.toolkit as tk
from ckanext.dcat.utils import catalog_uri, read_dataset_page

from ..core.cpsv import (DOCUMENT_ID_PATH, ITEM_ID_PATH, SERVICE_ID_PATH, TERMS_PATH, concept_uri,
                         terms_graph, vocabulary_graph)

blueprint = Blueprint("govservice_service_rdf", __name__)


def read_service(_id: str, _format: str):
    """A service in RDF at its own address, as ckanext-dcat serves /dataset/<id>.<format>."""
    return read_dataset_page(_id, _format)


# ckanext-dcat serves /dataset/<id>.<format> for every dataset type; this
# gives services the same under the address their pages have.
blueprint.add_url_rule("/service/<_id>.<_format>", view_func=read_service,
                       endpoint="read_service")


RDF_FORMATS = {"ttl": ("turtle", "text/turtle"), "rdf": ("xml", "application/rdf+xml"),
               "xml": ("xml", "application/rdf+xml"), "jsonld": ("json-ld", "application/ld+json")}


def _wanted_format(_format: str | None) -> str | None:
    """The RDF format asked for by extension, else by Accept (None: a person's browser)."""
    if _format:
        return _format if _format in RDF_FORMATS else None
    best = request.accept_mimetypes.best_match(
        ["text/html", "text/turtle", "application/rdf+xml", "application/ld+json"], "text/html")
    return {"text/turtle": "ttl", "application/rdf+xml": "rdf", "application/ld+json": "jsonld"}.get(best)


def _rdf_response(g: Graph, _format: str):
    rdflib_format, mimetype = RDF_FORMATS[_format]
    return Response(g.serialize(format=rdflib_format), mimetype=mimetype)


def _base() -> str:
    return catalog_uri()


def read_terms(_format: str | None = None):
    """The platform's terms (gs:) as RDFS: Turtle unless another RDF format is asked for."""
    fmt = _wanted_format(_format) or ("ttl" if not _format else None)
    if fmt is None:
        return tk.abort(404, f"unknown format {_format!r}: use .ttl, .rdf or .jsonld")
    return _rdf_response(terms_graph(_base()), fmt)


def read_vocabulary(vocabulary: str, code: str | None = None, _format: str | None = None):
    """A platform vocabulary as a skos:ConceptScheme; a concept's URI answers with its scheme."""
    g = vocabulary_graph(_base(), vocabulary)
    known = g is not None and (code is None or (concept_uri(_base(), vocabulary, code), RDF.type,
                                                SKOS.Concept) in g)
    fmt = _wanted_format(_format) or ("ttl" if not _format else None)
    if not known or fmt is None:
        return tk.abort(404, f"no vocabulary value {vocabulary}/{code or ''} here")
    return _rdf_response(g, fmt)


def resolve_service(department: str, service_code: str):
    """``/id/service/<department>/<code>``: 303 to the service's page, or to its RDF
    when the client asks for Turtle, RDF/XML or JSON-LD."""
    try:
        service = tk.get_action("govservice_service_show")(
            {}, {"service_code": service_code, "department": department})
    except (tk.ObjectNotFound, tk.NotAuthorized, tk.ValidationError):
        return tk.abort(404, f"no service {service_code!r} in department {department!r}")
    fmt = _wanted_format(None)
    if fmt:
        target = tk.url_for("govservice_service_rdf.read_service", _id=service["name"], _format=fmt)
    else:
        target = tk.url_for("service.read", id=service["name"])
    return redirect(target, code=303)


# dataset type → (its code field, the page its URI answers a browser with)
CATALOGUE_ENTRIES = {"basic_item": ("basic_code", "/item/"), "document": ("document_code", "/document/")}


def _resolve_catalogue_entry(dataset_type: str, code: str):
    """A basic item's or catalogue document's URI: 303 to its page, or to its RDF
    (``/dataset/<name>.<format>``) when the client asks for RDF."""
    from ckan import model
    field, page = CATALOGUE_ENTRIES[dataset_type]
    name = (model.Session.query(model.Package.name)
            .filter(model.Package.type == dataset_type, model.Package.state == "active",
                    model.Package.private.is_(False), model.Package.extras[field].astext == code)
            .scalar())
    if name is None:
        return tk.abort(404, f"no {dataset_type.replace('_', ' ')} {code!r} here")
    fmt = _wanted_format(None)
    target = (tk.url_for("dcat.read_dataset", _id=name, _format=fmt) if fmt
              else tk.h.url_for(page + code))
    return redirect(target, code=303)


def resolve_basic_item(code: str):
    """``/id/item/<basic code>``: the basic item's page or its RDF (a skos:Concept)."""
    return _resolve_catalogue_entry("basic_item", code)


def resolve_document(code: str):
    """``/id/document/<code>``: the catalogue document's page or its RDF (a cv:EvidenceType)."""
    return _resolve_catalogue_entry("document", code)


blueprint.add_url_rule(TERMS_PATH, view_func=read_terms, endpoint="terms")
blueprint.add_url_rule(f"{TERMS_PATH}.<_format>", view_func=read_terms, endpoint="terms_format")
blueprint.add_url_rule("/vocabulary/<vocabulary>", view_func=read_vocabulary, endpoint="vocabulary")
blueprint.add_url_rule("/vocabulary/<vocabulary>.<_format>", view_func=read_vocabulary,
                       endpoint="vocabulary_format")
blueprint.add_url_rule("/vocabulary/<vocabulary>/<code>", view_func=read_vocabulary, endpoint="concept")
blueprint.add_url_rule(f"{SERVICE_ID_PATH}/<department>/<service_code>", view_func=resolve_service,
                       endpoint="resolve_service")
blueprint.add_url_rule(f"{ITEM_ID_PATH}/<code>", view_func=resolve_basic_item, endpoint="resolve_basic_item")
blueprint.add_url_rule(f"{DOCUMENT_ID_PATH}/<code>", view_func=resolve_document, endpoint="resolve_document")
