""""What is due for me" (``/due``): the citizen types events and dates, the page's
script (assets/due.js) computes from the open reminder rules (``/due/rules.json``)
in the browser, and nothing personal reaches the server. Without JavaScript the
page explains this, links the open dataset, and offers a form sent by POST (a
POST's body is not in access logs) to ``govservice_due_services``, which keeps
nothing.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, jsonify

import ckan.plugins.toolkit as tk

from .. import due as reminders
from ..core import due, schema

blueprint = Blueprint("govservice_due", __name__, url_prefix="/due")
MAX_EVENTS = 10


def _outputs(rules: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The outputs a citizen may hold that some rule renews: (code, name), once each."""
    seen: dict[str, dict[str, str]] = {}
    for r in rules:
        if r["trigger"] == due.EXPIRY:
            code = r.get("renews") or r["service"]
            seen.setdefault(code, {"value": f"output:{code}",
                                   "label": r.get("output_name") or r.get("service_title") or code})
    return sorted(seen.values(), key=lambda o: o["label"])


def _events_of_the_form() -> list[dict[str, str]]:
    """The POSTed rows (kind, date) as the action's events: output:<code> is an output held."""
    form = tk.request.form
    events = []
    for kind, date in list(zip(form.getlist("kind"), form.getlist("date")))[:MAX_EVENTS]:
        if not kind and not date:
            continue
        if kind.startswith("output:"):
            events.append({"output": kind[len("output:"):], "issued": date})
        else:
            events.append({"event": kind, "date": date})
    return events


def _published() -> bool:
    """Whether the open dataset of reminder rules exists yet (the scheduler writes it nightly)."""
    try:
        tk.get_action("package_show")({"ignore_auth": True}, {"id": reminders.DATASET})
        return True
    except tk.ObjectNotFound:
        return False


def page():
    rules = reminders.rules()
    trigger = schema.subfield("reminders", "trigger")
    extra: dict[str, Any] = {"found": None, "errors": None}
    if tk.request.method == "POST":
        try:
            extra["found"] = tk.get_action(reminders.ACTION)(
                {"ignore_auth": True}, {"events": _events_of_the_form()})["due"]
        except tk.ValidationError as error:
            extra["errors"] = error.error_dict
    return tk.render("govservice/due/page.html", {
        "rules_count": len(rules), "outputs": _outputs(rules),
        "life_events": [c for c in schema.choices(trigger) if c["value"] != due.EXPIRY],
        "dataset": reminders.DATASET if _published() else None, **extra})


def rules_json():
    response = jsonify(reminders.rules_document())
    response.cache_control.public, response.cache_control.max_age = True, 300   # the same for everyone
    return response


IMPOSSIBLE_EVENT = re.compile(r"^events\[\d+\]\.(event|date|issued)$")


def bad_events_are_a_bad_request(response):
    """An event that cannot be (2026-02-30, an output issued after today, an unknown
    event) is a bad request: 400, with CKAN's body (the error keyed by the field)
    unchanged. Other validation errors (no events, an unreadable ``today``) keep
    CKAN's 409, as every action's description says."""
    if response.status_code == 409 and tk.request.path.rstrip("/").endswith("/action/" + reminders.ACTION):
        error = (response.get_json(silent=True) or {}).get("error") or {}
        if any(IMPOSSIBLE_EVENT.match(key) for key in error):
            response.status_code = 400
    return response


blueprint.after_app_request(bad_events_are_a_bad_request)
blueprint.add_url_rule("", "page", page, methods=["GET", "POST"])
blueprint.add_url_rule("/rules.json", "rules", rules_json)
