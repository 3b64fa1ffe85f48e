"""When services become due, the CKAN side: the live services' reminder rules
(``core.due.rule_rows``, one row per service × reminder), published as the open
dataset ``reminder-rules`` (CSV and JSON, with their data dictionary), served to
the citizen page as JSON, and answered by ``govservice_due_services``.

What a citizen types (events, dates) is personal: it is never stored and never
logged. The page computes in the browser; the action keeps nothing; and
``install_log_guard`` stops CKAN's Action API from writing the request data of
``govservice_due_services`` to the log (CKAN logs every request's data at debug
level and a validation error's message at info).
"""
from __future__ import annotations

import csv
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import ckan.plugins.toolkit as tk

from . import publishing
from .catalogue_publish import public_services
from .core import due, schema

log = logging.getLogger(__name__)

DATASET = "reminder-rules"
ACTION = "govservice_due_services"
LIVE = f"-{schema.facet_fields()['status']}:withdrawn"


# ---------------------------------------------------------------- the rules

def services_with_reminders(context: dict[str, Any]) -> list[dict[str, Any]]:
    """The public services that are not withdrawn and have reminders, and the services
    whose outputs their expiry reminders renew (for those outputs' validity)."""
    triggers = schema.facet_fields()["reminders"]
    services = public_services(context, also=f"{LIVE} +{triggers}:[* TO *]")
    renewed = sorted({r["renews_basic_code"] for s in services for r in s.get("reminders") or []
                      if r.get("renews_basic_code")})
    if renewed:
        codes = " OR ".join(json.dumps(c) for c in renewed)
        seen = {s["id"] for s in services}
        basic = schema.facet_fields()["basic_code"]
        services += [s for s in public_services(context, also=f"{LIVE} +{basic}:({codes})")
                     if s["id"] not in seen]
    return services


def rules(context: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every reminder rule of the platform's live services (core.due.rule_rows)."""
    context = context or {"ignore_auth": True}
    return due.rule_rows(services_with_reminders(context))


def dictionary() -> list[dict[str, str]]:
    """The rules' data dictionary: each column with its meaning in both languages."""
    return [{"column": c, "zh": zh, "en": en} for c, zh, en in due.RULE_COLUMNS]


def rules_document(context: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON the open dataset and the citizen page share: the dictionary, the rules, and
    each of their services' channels, centres and documents (core.due.service_details)."""
    services = services_with_reminders(context or {"ignore_auth": True})
    found = due.rule_rows(services)
    named = {r["service"] for r in found}
    return {"fields": dictionary(), "rules": found,
            "services": {s["name"]: due.service_details(s) for s in services if s["name"] in named}}


# ---------------------------------------------------------------- the open dataset

NOTES = ("什么情况下需要办理哪些事项：每个事项的每条提醒规则一行（证照到期前换证，出生、结婚等事件后办理），"
         "写明提前或之后多久、需要准备什么。平台的“我有哪些事要办”页面在浏览器中用这些规则计算，"
         "不向服务器发送任何个人信息。\n\n"
         "When services become due: one row per service and reminder rule (renew an output before it "
         "expires; apply after a birth, a marriage…), with how long before or after, and what to "
         "prepare. The platform's \"what is due for me\" page computes from these rules in the "
         "browser and sends nothing personal to the server.\n\n"
         "| column | 说明 | meaning |\n| --- | --- | --- |\n")


def publish() -> dict[str, Any]:
    """Background job (and ``ckan govservice reminders-publish``): the reminder rules as
    CSV and JSON in the open dataset ``reminder-rules``, owned by the platform."""
    context = publishing.site_context()
    org = publishing.platform_org(context)
    notes = NOTES + "\n".join(f"| `{c}` | {zh} | {en} |" for c, zh, en in due.RULE_COLUMNS)
    dataset = publishing.ensure_dataset(context, DATASET, org, title="办理提醒规则 / Reminder rules",
                                        notes=notes, scope="reminders")
    document = rules_document(context)
    with tempfile.TemporaryDirectory(prefix="govservice-reminders-") as tmp:
        paths = {"csv": Path(tmp) / "rules.csv", "json": Path(tmp) / "rules.json"}
        with open(paths["csv"], "w", encoding="utf-8-sig", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=[c for c, _, _ in due.RULE_COLUMNS])
            writer.writeheader()
            writer.writerows(document["rules"])
        paths["json"].write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
        resources = publishing.store_files(context, dataset, paths, "办理提醒规则 / Reminder rules")
    return {"dataset": dataset["name"], "rows": len(document["rules"]), "resources": resources}


# ---------------------------------------------------------------- nothing personal in the log

class _NoDueParameters(logging.Filter):
    """Drops what CKAN's Action API would log of a govservice_due_services request."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            from flask import has_request_context, request
            if has_request_context() and request.path.rstrip("/").endswith("/" + ACTION):
                record.msg, record.args = f"{ACTION}: its parameters are never logged", ()
        except Exception:   # never let the guard break logging
            pass
        return True


def install_log_guard() -> None:
    guarded = logging.getLogger("ckan.views.api")
    if not any(isinstance(f, _NoDueParameters) for f in guarded.filters):
        guarded.addFilter(_NoDueParameters())


# ---------------------------------------------------------------- template helpers

def govservice_due_when(reminder: dict[str, Any], lang: str) -> str:
    """A reminder's timing in ``lang`` (h.govservice_lang()): 证照到期前90日 / 90 days before an output expires."""
    return due.when(reminder, lang)


TEMPLATE_HELPERS = {"govservice_due_when": govservice_due_when}
