"""The document catalogue's pages: ``/document/`` (search, "the government
holds it" filter, the reuse index on top) and ``/document/<code>`` (the
document and the services that demand it).

scheming makes ``document`` a CKAN dataset type, so CKAN registers its own
dataset pages under /document/ too. Plugin blueprints are registered before
CKAN's (first registered wins), so these two rules answer /document/ and
/document/<anything>; the more specific ones stay CKAN's: /document/new,
/document/edit/<name>, /document/activity/<name>, /document/<name>/resource/…
A document is found by its code as published (then in any case), then by its
CKAN name or id, so CKAN's own links (after an edit, say) land here too.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, request

import ckan.plugins.toolkit as tk

from .. import helpers
from ..core import schema
from .paging import page_asked

blueprint = Blueprint("govservice_documents", __name__, url_prefix="/document")

PER_PAGE = 20
REUSE_ON_TOP = 10
# The reuse index narrows to the services of departments at one level.
LEVELS = [c["value"] for c in schema.choices(
    next(f for f in schema.department_fields() if f["field_name"] == "level"))]


def _context() -> dict[str, Any]:
    return {"user": tk.current_user.name if tk.current_user.is_authenticated else ""}


def catalogue():
    """The document catalogue: search by name or alias, filter "the government
    holds it", and the reuse index (the documents most services demand)."""
    from .. import document_catalogue
    q = (request.args.get("q") or "").strip()[:100]
    held_only = request.args.get("held") == "1"
    page = page_asked()
    found = tk.get_action("package_search")(_context(), document_catalogue.search_params(
        q, held_only, PER_PAGE, (page - 1) * PER_PAGE))
    reuse = None
    level = request.args.get("level") or None
    if level not in LEVELS:
        level = None
    if not q and not held_only and page == 1:
        reuse = tk.get_action("govservice_document_reuse")(
            _context(), {"limit": REUSE_ON_TOP, **({"level": level} if level else {})})
    return tk.render("govservice/document_catalogue.html", {
        "q": q, "held_only": held_only, "page": page, "per_page": PER_PAGE, "level": level,
        "levels": LEVELS, "count": found["count"], "documents": found["results"], "reuse": reuse})


def document(code: str):
    """One document and the services that demand it (paged)."""
    try:
        doc = tk.get_action("govservice_document_show")(_context(), {"code": code})
    except (tk.ObjectNotFound, tk.ValidationError):
        return tk.abort(404, helpers.govservice_word(
            "No document of the document catalogue has the code {code}.", code=code[:100]))
    page = page_asked()
    services = tk.get_action("govservice_document_services")(_context(), {
        "code": doc["document_code"], "limit": PER_PAGE, "offset": (page - 1) * PER_PAGE})
    return tk.render("govservice/document.html", {
        "doc": doc, "services": services, "page": page, "per_page": PER_PAGE,
        "can_edit": tk.h.check_access("package_update", {"id": doc["id"]})})


blueprint.add_url_rule("/", "catalogue", catalogue, strict_slashes=False)
blueprint.add_url_rule("/<code>", "document", document)
