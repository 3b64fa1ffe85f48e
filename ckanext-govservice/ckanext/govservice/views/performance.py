"""The performance dashboards: the platform's (``/performance/``) and a
department's (``/performance/<name>``); what they show is ``performance_pages``."""
from __future__ import annotations

from flask import Blueprint

import ckan.model as model
import ckan.plugins.toolkit as tk

from .. import helpers, performance_pages
from .paging import page_asked

blueprint = Blueprint("govservice_performance", __name__, url_prefix="/performance")


def performance_platform():
    return tk.render("govservice/performance_platform.html",
                     performance_pages.platform(helpers.govservice_lang()))


def performance_department(department: str):
    group = model.Group.get(department)
    if group is None or not group.is_organization or group.state != "active" \
            or group.name != department:
        return tk.abort(404, tk._("Department not found"))
    org = {"id": group.id, "name": group.name}
    return tk.render("govservice/performance_department.html", {
        "org": org, "dept": helpers.govservice_department(group.id),
        **performance_pages.department(org, helpers.govservice_lang(), page_asked())})


def feed_health(department: str | None = None):
    """The data office's feed health and coverage: every department ranked
    (sysadmins), or one department's (its members too)."""
    try:
        report = tk.get_action("govservice_feed_health")(
            {"user": tk.current_user.name if tk.current_user.is_authenticated else ""},
            {"department": department} if department else {})
    except tk.NotAuthorized:
        return tk.abort(403, tk._("Not authorized to see this page"))
    except tk.ValidationError:
        return tk.abort(404, tk._("Department not found"))
    return tk.render("govservice/feed_health.html", {"report": report, "department": department})


def department_alerts(department: str):
    """The department's open alerts as an Atom feed: what, since when, and the page showing it."""
    from flask import Response
    from .. import alerts
    group = model.Group.get(department)
    if group is None or not group.is_organization or group.state != "active" or group.name != department:
        return tk.abort(404, tk._("Department not found"))
    return Response(alerts.atom(group.name, group.title or group.name, helpers.govservice_lang()),
                    mimetype="application/atom+xml")


def search_analytics_page():
    """/performance/search, for sysadmins (the data office): the last 30 days'
    top queries, those that found nothing and those whose results nobody
    opened, each with a form to add it as a synonym of an official name."""
    from .. import search_analytics
    if not (tk.current_user.is_authenticated and tk.current_user.sysadmin):
        return tk.abort(403, tk._("Not authorized to see this page"))
    if tk.request.method == "POST":
        term, official = tk.request.form.get("term", ""), tk.request.form.get("synonym", "")
        try:
            tk.get_action("govservice_synonym_create")({"user": tk.current_user.name},
                                                      {"term": term, "synonyms": [official]})
            tk.h.flash_success(helpers.govservice_word("Added: {term} now also finds {official}.",
                                                       term=term, official=official))
        except tk.ValidationError as e:
            tk.h.flash_error("; ".join(f"{k}: {' '.join(v)}" for k, v in e.error_dict.items()))
        return tk.redirect_to("govservice_performance.search")
    return tk.render("govservice/search_analytics.html", {
        "report": search_analytics.report(), "enabled": search_analytics.enabled()})


def synonyms_page():
    """/performance/synonyms: the synonyms added at runtime, to read, add and
    remove. Sysadmins (the data office) see and manage every entry; a
    department's admins see their departments' entries and manage those. The
    actions decide who may do what (govservice_synonym_*); the page only
    offers what they would allow."""
    if not tk.current_user.is_authenticated:
        return tk.abort(403, tk._("Not authorized to see this page"))
    user = tk.current_user.name
    administers = [] if tk.current_user.sysadmin else [
        {"name": o["name"], "title": o.get("title") or o["name"]}
        for o in tk.get_action("organization_list_for_user")({"user": user}, {"permission": "admin"})]
    if not (tk.current_user.sysadmin or administers):
        return tk.abort(403, tk._("Not authorized to see this page"))
    if tk.request.method == "POST":
        _change_synonyms(user, tk.request.form)
        return tk.redirect_to("govservice_performance.synonyms")
    listed = tk.get_action("govservice_synonym_list")({"user": user}, {})
    mine = {d["name"] for d in administers}
    entries = [dict(e, removable=tk.current_user.sysadmin or e.get("owner_org") in mine)
               for e in listed["entries"] if tk.current_user.sysadmin or e.get("owner_org") in mine]
    departments = administers if administers else [
        {"name": o["name"], "title": o.get("title") or o["name"]}
        for o in tk.get_action("organization_list")({"user": user}, {"all_fields": True, "limit": 1000})]
    return tk.render("govservice/synonyms.html", {
        "entries": sorted(entries, key=lambda e: e["term"]), "shipped_terms": listed["shipped_terms"],
        "departments": departments, "platform_may_own": tk.current_user.sysadmin})


def _change_synonyms(user: str, form) -> None:
    """Add or remove one entry as the signed-in user; the outcome is flashed."""
    term = form.get("term", "")
    try:
        if form.get("remove"):
            tk.get_action("govservice_synonym_delete")({"user": user}, {"term": term})
            tk.h.flash_success(helpers.govservice_word("Removed: {term}.", term=term))
            return
        wanted = {"term": term, "synonyms": form.get("synonyms", "")}
        if form.get("owner_org"):      # none: the platform owns it
            wanted["owner_org"] = form["owner_org"]
        entry = tk.get_action("govservice_synonym_create")({"user": user}, wanted)
        tk.h.flash_success(helpers.govservice_word("Added: {term} now also finds {official}.",
                                                   term=entry["term"], official="、".join(entry["synonyms"])))
    except tk.ValidationError as e:
        tk.h.flash_error("; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in e.error_dict.items()))
    except tk.NotAuthorized as e:
        tk.h.flash_error(str(e) or tk._("Not authorized"))
    except tk.ObjectNotFound as e:
        tk.h.flash_error(str(e))


blueprint.add_url_rule("/search", "search", search_analytics_page, methods=["GET", "POST"])
blueprint.add_url_rule("/synonyms", "synonyms", synonyms_page, methods=["GET", "POST"])
blueprint.add_url_rule("/", "platform", performance_platform)
blueprint.add_url_rule("/<department>/alerts.atom", "department_alerts", department_alerts)
blueprint.add_url_rule("/feeds", "feeds", feed_health)
blueprint.add_url_rule("/feeds/<department>", "department_feeds", feed_health)
blueprint.add_url_rule("/<department>", "department", performance_department)
