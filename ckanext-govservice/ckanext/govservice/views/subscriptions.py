"""Atom feeds of changes (subscriptions.py): a service's
(``/service/<name>/changes.atom``), a department's
(``/organization/<name>/changes.atom``), a theme's and a life event's
(``/service/theme/<code>/changes.atom``, ``/service/life-event/<code>/changes.atom``),
beside the pages they follow, which link them. Public: what they tell is what
the public pages show. And ``/api/govservice/webhooks``: a developer's own
webhooks and their delivery logs."""
from __future__ import annotations

from flask import Blueprint, Response

import ckan.plugins.toolkit as tk

from .. import subscriptions
from ..core import schema

blueprint = Blueprint("govservice_subscriptions", __name__)


def _lang() -> str:
    lang = tk.h.lang()
    return lang if lang in schema.LANGUAGES else "zh_Hans_CN"


def _atom(follows: str, value: str, title: str, page: str) -> Response:
    response = Response(subscriptions.feed(follows, value, title, page, _lang()),
                        mimetype="application/atom+xml")
    response.headers["Cache-Control"] = f"public, max-age={subscriptions.FEED_CACHE_SECONDS}"
    return response


def _feed_title(what: str, lang: str) -> str:
    from ..core import words
    return words.word("Changes: {what}", lang, context="change", what=what)


def service_changes(name: str):
    try:
        service = tk.get_action("package_show")({"user": ""}, {"id": name})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, tk._("Service not found"))
    if service.get("type") != "service" or service.get("name") != name:
        return tk.abort(404, tk._("Service not found"))
    lang = _lang()
    title = (service.get("title_en") if lang == "en" else None) or service.get("title") or name
    return _atom("service", name, _feed_title(title, lang), f"/service/{name}")


def department_changes(name: str):
    from ckan import model
    group = model.Group.get(name)
    if group is None or not group.is_organization or group.state != "active" or group.name != name:
        return tk.abort(404, tk._("Department not found"))
    lang = _lang()
    title = (group.extras.get("title_en") if lang == "en" else None) or group.title or name
    return _atom("department", name, _feed_title(title, lang), f"/organization/{name}")


def _vocabulary_changes(follows: str, field: str, path: str, value: str):
    lang = _lang()
    for choice in schema.choices(schema.field(field)):
        if choice["value"] == value:
            return _atom(follows, value, _feed_title(schema.label(choice, lang), lang), f"/service/{path}/{value}")
    return tk.abort(404, tk._("Not found"))


def theme_changes(value: str):
    return _vocabulary_changes("theme", "themes", "theme", value)


def life_event_changes(value: str):
    return _vocabulary_changes("life_event", "life_events", "life-event", value)


DELIVERIES_SHOWN = 20


def webhooks():
    """/api/govservice/webhooks: the signed-in user's webhooks (a sysadmin's:
    everyone's) with their latest deliveries, and how to register one."""
    signed_in = tk.current_user.is_authenticated
    hooks = []
    if signed_in:
        context = {"user": tk.current_user.name}
        hooks = tk.get_action("govservice_webhook_list")(dict(context), {})
        for hook in hooks:
            hook["deliveries"] = tk.get_action("govservice_webhook_deliveries")(
                dict(context), {"id": hook["id"], "limit": DELIVERIES_SHOWN})["deliveries"]
    return tk.render("govservice/subscriptions/webhooks.html", {"signed_in": signed_in, "hooks": hooks})


blueprint.add_url_rule("/service/<name>/changes.atom", "service", service_changes)
blueprint.add_url_rule("/organization/<name>/changes.atom", "department", department_changes)
blueprint.add_url_rule("/service/theme/<value>/changes.atom", "theme", theme_changes)
blueprint.add_url_rule("/service/life-event/<value>/changes.atom", "life_event", life_event_changes)
blueprint.add_url_rule("/api/govservice/webhooks", "webhooks", webhooks)
