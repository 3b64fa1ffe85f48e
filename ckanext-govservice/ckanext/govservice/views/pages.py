"""Services by theme and by life event (一件事): ``/service/theme/…`` and
``/service/life-event/…``, with the lookups they make in the search index.

/service/<name> and /service/ are CKAN's dataset pages for the `service` type
(templates/scheming/package/read.html, templates/package/search.html).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint

import ckan.plugins.toolkit as tk

from .. import life_events
from ..core import schema

blueprint = Blueprint("govservice_pages", __name__, url_prefix="/service")

# CKAN's script asks for its translations at /api/i18n/ + the page's language
# with only its first "-" made "_" (client.js): zh-Hans-CN becomes zh_Hans-CN,
# which CKAN answers 400, and then it starts none of its page modules (the sort
# and language selects, autocomplete…) on a Chinese page. This answers that
# address as CKAN answers zh_Hans_CN.
scripts_blueprint = Blueprint("govservice_scripts", __name__)


@scripts_blueprint.route("/api/i18n/zh_Hans-CN")
def chinese_script_translations():
    from ckan.views.api import i18n_js_translations
    return i18n_js_translations("zh_Hans_CN")

# How far one page lists: a theme or life event across every department.
MAX_SERVICES = 1000


def _vocabulary(field_name: str) -> dict[str, dict[str, Any]]:
    return {c["value"]: c for c in schema.choices(schema.field(field_name))}


def _services(solr_field: str, value: str) -> list[dict[str, Any]]:
    # value is a vocabulary code checked by the caller, so it is safe in fq.
    result = tk.get_action("package_search")({}, {
        "fq": f'+dataset_type:service +{solr_field}:"{value}"',
        "rows": MAX_SERVICES, "sort": "title_string asc"})
    return result["results"]


def _counts(field_names: list[str]) -> dict[str, dict[str, int]]:
    solr = schema.facet_fields()
    result = tk.get_action("package_search")({}, {
        "fq": "+dataset_type:service", "rows": 0, "facet.limit": -1,
        "facet.field": [solr[f] for f in field_names]})
    return {f: result["facets"].get(solr[f], {}) for f in field_names}


def index():
    counts = _counts(["themes", "life_events"])
    return tk.render("govservice/browse.html", {
        "themes": schema.choices(schema.field("themes")),
        "life_events": schema.choices(schema.field("life_events")),
        "counts": counts,
    })


def theme(value: str):
    choice = _vocabulary("themes").get(value)
    if choice is None:
        return tk.abort(404, tk._("Theme not found"))
    return tk.render("govservice/theme.html", {
        "choice": choice, "value": value,
        "services": _services(schema.facet_fields()["themes"], value),
    })


def life_event(value: str):
    choice = _vocabulary("life_events").get(value)
    if choice is None:
        return tk.abort(404, tk._("Life event not found"))
    services = _services(schema.facet_fields()["life_events"], value)
    return tk.render("govservice/life_event.html", {
        "choice": choice, "value": value, "services": services,
        "combined": life_events.combine(services),
    })


blueprint.add_url_rule("/theme/", "index", index)
blueprint.add_url_rule("/life-event/", "life_event_index", index)
blueprint.add_url_rule("/theme/<value>", "theme", theme)
blueprint.add_url_rule("/life-event/<value>", "life_event", life_event)
