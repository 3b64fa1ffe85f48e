"""The service centres' pages (issue 17): ``/centre/`` (the centres, filtered
"open now" and "24 hours", server-side) and ``/centre/<code>`` (a centre: its
hours and whether it is open now, counters and their services, appointment
link, accessibility, a map when tiles are configured, and the live queue).

scheming makes ``service_centre`` a CKAN dataset type, whose own pages stay
under /service_centre/ (the edit form among them); these pages are the
citizen's. Everything is read without JavaScript; the map is plain tile images
from ``ckanext.govservice.map_tiles_url`` and the page is whole without them.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, request
from markupsafe import Markup

import ckan.plugins.toolkit as tk

from .. import helpers
from ..core import centres as core_centres
from ..core import schema
from .paging import page_asked

blueprint = Blueprint("govservice_centres", __name__, url_prefix="/centre")

PER_PAGE = 50
FIELDS = ("centre_code", "address", "opening_hours", "phone", "appointment_url", "accessibility",
          "counters", "owner_org", "status", "open_all_day")


def _context() -> dict[str, Any]:
    return {"user": tk.current_user.name if tk.current_user.is_authenticated else ""}


def _labels() -> dict[str, str]:
    """The centre schema's labels in the page's language."""
    lang = helpers.govservice_lang()
    fields = {f["field_name"]: f for f in schema.load("service_centre")["dataset_fields"]}
    out = {name: schema.label(fields[name], lang) for name in FIELDS}
    for sub in fields["counters"]["repeating_subfields"]:
        out[sub["field_name"]] = schema.label(sub, lang)
    return out


def _choice_labels(field_name: str) -> dict[str, str]:
    lang = helpers.govservice_lang()
    field = next(f for f in schema.load("service_centre")["dataset_fields"] if f["field_name"] == field_name)
    return {c["value"]: schema.label(c, lang) for c in schema.choices(field)}


def _safe_json(data: dict[str, Any]) -> Markup:
    text = json.dumps(data, ensure_ascii=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def centre_list():
    """The service centres: by name, "open now", "24 hours"."""
    q = (request.args.get("q") or "").strip()[:100]
    only_open, only_all_day = request.args.get("open_now") == "1", request.args.get("all_day") == "1"
    page = page_asked()
    found = tk.get_action("govservice_centres")(_context(), {
        "q": q, "open_now": only_open, "open_all_day": only_all_day,
        "limit": PER_PAGE, "offset": (page - 1) * PER_PAGE})
    return tk.render("govservice/centre/list.html", {
        "q": q, "only_open": only_open, "only_all_day": only_all_day, "page": page, "per_page": PER_PAGE,
        "found": found, "labels": _labels()})


def centre(code: str):
    """One centre."""
    try:
        found = tk.get_action("govservice_centre_show")(_context(), {"code": code})
    except (tk.ObjectNotFound, tk.ValidationError):
        return tk.abort(404, helpers.govservice_word("No service centre has the code {code}.", code=code[:100]))
    url = tk.url_for("govservice_centres.centre", code=found["centre_code"], _external=True)
    tiles = tk.config.get("ckanext.govservice.map_tiles_url") or ""
    return tk.render("govservice/centre/centre.html", {
        "centre": found, "labels": _labels(), "accessibility": _choice_labels("accessibility"),
        "days": {d: helpers.govservice_word(d, "weekday") for d in core_centres.DAYS},
        "jsonld": _safe_json(core_centres.schema_org(found, url)),
        "map": core_centres.map_tiles(found.get("latitude"), found.get("longitude")) if tiles else None,
        "tiles_url": tiles,
        "can_edit": tk.h.check_access("package_update", {"id": found["id"]})})


blueprint.add_url_rule("/", "centres", centre_list, strict_slashes=False)
blueprint.add_url_rule("/<code>", "centre", centre)
