"""The basic item catalogue (``/item/``) and the same item compared across its
implementers (``/item/<basic_code>``); what they show is ``govservice_item_list``
and ``govservice_item_compare`` (item_compare.py, core/compare.py).

A basic item is also a CKAN dataset type, so CKAN serves its list at
``/basic_item/`` and its read page at ``/basic_item/<name>``: both lead here
(editing stays CKAN's, at ``/basic_item/edit/<name>``).
"""
from __future__ import annotations

from flask import Blueprint

import ckan.model as model
import ckan.plugins.toolkit as tk

from .. import helpers, item_compare

blueprint = Blueprint("govservice_items", __name__, url_prefix="/item")

LIST_ROWS = 50


def _context() -> dict:
    return {"user": tk.current_user.name if tk.current_user.is_authenticated else ""}


def catalogue_page():
    args = tk.request.args
    data = {"q": args.get("q", ""), "service_type": args.get("service_type", ""),
            "status": args.get("status", ""), "page": args.get("page", "1"), "rows": LIST_ROWS}
    try:
        found = tk.get_action("govservice_item_list")(_context(), data)
    except tk.ValidationError:
        return tk.abort(400, helpers.govservice_word("The address or form could not be understood; "
                                                     "please check it and try again."))
    return tk.render("govservice/item_list.html", {"found": found, "query": data})


def compare_page(basic_code: str):
    args = tk.request.args
    filters = {"level": args.get("level", ""), "area": args.get("area", "")}
    try:
        compared = tk.get_action("govservice_item_compare")(_context(), {"basic_code": basic_code, **filters})
    except tk.ObjectNotFound:
        return tk.abort(404, helpers.govservice_word("No basic item has code {code}.", code=basic_code))
    except tk.ValidationError:
        return tk.abort(400, helpers.govservice_word("The address or form could not be understood; "
                                                     "please check it and try again."))
    choices = item_compare.filter_choices(basic_code)
    return tk.render("govservice/item.html", {
        "compared": compared, "item": compared["basic_item"], "implementations": compared["implementations"],
        "filters": filters, "levels": choices["levels"], "areas": choices["areas"],
        "all_implementations": choices["count"],
        "differences_count": sum(len(i["differences"]) for i in compared["implementations"])})


def basic_item_read_leads_to_comparison():
    """CKAN's pages of the basic item type lead here: its list (``basic_item.search``)
    to the catalogue, an item's read page (``basic_item.read``) to its comparison."""
    if tk.request.endpoint == "basic_item.search":
        return tk.redirect_to("govservice_items.index")
    if tk.request.endpoint != "basic_item.read":
        return None
    name = (tk.request.view_args or {}).get("id")
    pkg = model.Package.get(name) if name else None
    code = (pkg.extras or {}).get("basic_code") if pkg is not None and pkg.type == "basic_item" else None
    if not code:
        return None   # CKAN's page answers (404 for a name that is not a basic item)
    return tk.redirect_to("govservice_items.compare", basic_code=code)


blueprint.add_url_rule("/", "index", catalogue_page)
blueprint.add_url_rule("/<basic_code>", "compare", compare_page)
blueprint.before_app_request(basic_item_read_leads_to_comparison)
