"""The performance dashboards: the platform's (``/performance/``) and a
department's (``/performance/<name>``); what they show is ``performance_pages``."""
from __future__ import annotations

from flask import Blueprint

import ckan.model as model
import ckan.plugins.toolkit as tk

from .. import helpers, performance_pages

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
        **performance_pages.department(org, helpers.govservice_lang())})


blueprint.add_url_rule("/", "platform", performance_platform)
blueprint.add_url_rule("/<department>", "department", performance_department)
