"""Actions of the due family (issue 17): which services fall due after a citizen's
events. See logic/__init__.py for how they are registered; the arithmetic is in
core/due.py, the rules in due.py. Nothing a caller sends is stored or logged."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from .. import due as reminders
from ..core import due

# The read actions anyone may call.
ANYONE_MAY: tuple[str, ...] = ("govservice_due_services",)


def _events(data_dict: DataDict) -> Any:
    events = data_dict.get("events")
    if isinstance(events, str):   # a GET's query string, or a form field
        try:
            events = json.loads(events)
        except ValueError:
            raise tk.ValidationError({"events": ["must be a JSON list of events"]}) from None
    return events


@tk.side_effect_free
def govservice_due_services(context: Context, data_dict: DataDict) -> DataDict:
    """The services that fall due after a citizen's events: when, where and what to bring.

    Anyone may ask. What you send is never stored and never logged; send it with
    POST (a GET's query string is written to web servers' access logs). The page
    /due computes the same in the browser from the open dataset ``reminder-rules``.

    :param events: a list of events, each either a life event
        ``{"event": "birth", "date": "2026-11-01"}`` (event one of birth, marriage,
        moving_home, retirement_age, business_start, business_close,
        annual_report_date) or an output held ``{"output": "<basic code or the
        service's URL name>", "issued": "2021-03-02"}``; dates written YYYY-MM-DD
    :type events: list of dictionaries (or that list as JSON text)
    :param today: the day to count from, YYYY-MM-DD (optional; default: today)
    :type today: string
    :returns: ``{"today", "due": [...]}``, soonest first; each due entry has the
        rule (``service``, ``service_title``, ``department``, ``basic_code``,
        ``trigger``, ``offset``, ``offset_unit``, ``direction``, ``renews``,
        ``output_name``, ``output_validity``, ``prepare``…), ``when_zh`` and
        ``when_en`` (the timing in words), ``trigger_date``, ``due_date``,
        ``days_left`` (negative: overdue), and where and what to bring:
        ``channels``, ``centres`` (the centres handling the service) and
        ``documents`` (``name``, ``mandatory``, ``no_need_to_bring``: 免提交)
    :rtype: dictionary
    :raises ValidationError: the error names the field. An event that cannot be
        (a date such as 2026-02-30, an output issued after today, an unknown event:
        ``events[0].date``, ``events[0].issued``, ``events[0].event``) is answered
        400; no events, an event of neither kind or an unreadable ``today``, 409
    """
    tk.check_access("govservice_due_services", context, data_dict)
    try:
        today = due.parse_date(data_dict["today"]) if data_dict.get("today") else dt.date.today()
    except ValueError as error:
        raise tk.ValidationError({"today": [str(error)]}) from None
    try:
        events = due.read_events(_events(data_dict), today)
    except due.EventError as error:
        raise tk.ValidationError({error.field: [error.reason]}) from None
    services = reminders.services_with_reminders({"ignore_auth": True, "user": context.get("user")})
    details = {s["name"]: due.service_details(s) for s in services}
    found = due.due(due.rule_rows(services), events, today)
    return {"today": today.isoformat(),
            "due": [{**row, "when_zh": due.when(row, "zh_Hans_CN"), "when_en": due.when(row, "en"),
                     **{k: v for k, v in details.get(row["service"], {}).items()
                        if k in ("channels", "centres", "documents")}}
                    for row in found]}


# CKAN's Action API logs a request's data (debug) and a validation error (info): not this one's.
reminders.install_log_guard()
