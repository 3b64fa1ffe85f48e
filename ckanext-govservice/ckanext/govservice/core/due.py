"""When a service becomes due: the reminder rules of service.yaml's ``reminders`` and
their date arithmetic. Pure: no CKAN, no I/O.

A rule row (``rule_rows``) is self-contained, so the open dataset of reminder rules,
the ``govservice_due_services`` action and the citizen page's JavaScript all compute
from the same rows: the rule's trigger and offset, and, for an expiry reminder, the
validity of the output it renews (this service's own, or the service of
``renews_basic_code``'s).

Dates move by calendar: a month or a year later keeps the day of the month, or
takes the month's last day when it has no such day (31 January + 1 month is
28 or 29 February; 29 February + 1 year is 28 February). An output issued on day
D and valid N years expires on D + N years.
"""
from __future__ import annotations

import calendar
import datetime as dt
from typing import Any, Iterable, Mapping

from . import schema

EXPIRY = "output_expiry"
UNITS = ("days", "months", "years")


def _choices(sub: str) -> list[str]:
    field = schema.field("reminders")
    row = next(s for s in field["repeating_subfields"] if s["field_name"] == sub)
    return [c["value"] for c in schema.choices(row)]


def triggers() -> list[str]:
    """The trigger codes service.yaml declares (output_expiry and the life-event kinds)."""
    return _choices("trigger")


def life_event_triggers() -> list[str]:
    return [t for t in triggers() if t != EXPIRY]


# ---------------------------------------------------------------- arithmetic

def shift(day: dt.date, amount: int, unit: str) -> dt.date:
    """``day`` moved by ``amount`` (negative: back) days, months or years, by the calendar."""
    if unit == "days":
        return day + dt.timedelta(days=amount)
    if unit not in ("months", "years"):
        raise ValueError(f"unknown unit {unit!r}")
    months = amount * (12 if unit == "years" else 1)
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expiry(issued: dt.date, validity: int, unit: str) -> dt.date:
    """The day an output issued on ``issued`` and valid ``validity`` ``unit`` expires."""
    return shift(issued, validity, unit)


def due_date(trigger_day: dt.date, offset: int, unit: str, direction: str) -> dt.date:
    """The day a rule falls due: ``offset`` ``unit`` before or after its trigger's day."""
    return shift(trigger_day, -offset if direction == "before" else offset, unit)


def parse_date(text: Any) -> dt.date:
    """A calendar date written YYYY-MM-DD; ValueError with the reason (e.g. 2026-02-30)."""
    if isinstance(text, dt.date):
        return text
    value = str(text or "").strip()
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        raise ValueError(f"must be a date written YYYY-MM-DD, not {value!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value} is not a day of the calendar") from None


def when(reminder: Mapping[str, Any], lang: str) -> str:
    """A reminder's timing in words: 证照到期前90日 / 90 days before an output expires."""
    field = schema.field("reminders")
    subs = {s["field_name"]: s for s in field["repeating_subfields"]}
    trigger = schema.choice_label(subs["trigger"], reminder.get("trigger"), lang) or reminder.get("trigger")
    unit = schema.choice_label(subs["offset_unit"], reminder.get("offset_unit") or "days", lang)
    offset = _number(reminder.get("offset")) or 0
    before = (reminder.get("direction") or "before") == "before"
    if lang.startswith("zh"):
        return f"{trigger}当天" if not offset else f"{trigger}{'前' if before else '后'}{offset}{unit}"
    if not offset:
        return f"on the day: {trigger.lower()}"
    direction = schema.choice_label(subs["direction"], "before" if before else "after", lang)
    unit = unit[:-1] if offset == 1 and unit.endswith("s") else unit
    return f"{offset} {unit} {direction} {trigger[0].lower() + trigger[1:]}"


# ---------------------------------------------------------------- validation of a service

def reminder_problems(reminders: list[Mapping[str, Any]], output_validity: Any,
                      basic_code: Any = None) -> list[tuple[int, str, str]]:
    """(index, field, reason) for each reminder that cannot fall due as given."""
    problems = []
    for i, row in enumerate(reminders):
        renews = row.get("renews_basic_code")
        if row.get("trigger") == EXPIRY:
            if not renews and output_validity in (None, ""):
                problems.append((i, "trigger", (
                    "an output_expiry reminder renews an output that expires: give this "
                    "service's output a validity (output_validity), or the basic code of the "
                    "service whose output it renews (renews_basic_code)")))
        elif renews:
            problems.append((i, "renews_basic_code", (
                f"only an output_expiry reminder renews an output; a {row.get('trigger')} "
                "reminder has no basic code to renew")))
    return problems


# ---------------------------------------------------------------- the rule rows

RULE_COLUMNS = (
    # (column, zh, en): the data dictionary of the open dataset of reminder rules
    ("service", "事项网址标识", "The service's URL name on the platform"),
    ("service_title", "事项名称", "The service's name (Chinese)"),
    ("service_title_en", "事项名称（英文）", "The service's name (English)"),
    ("department", "实施主体", "The department that provides the service"),
    ("basic_code", "基本编码", "The basic item the service implements"),
    ("implementation_code", "实施编码", "The implementation's code, unique on the platform"),
    ("rule", "规则序号", "The rule's place among the service's reminders, from 1"),
    ("trigger", "触发事件", "output_expiry or a life-event kind (birth, marriage, …)"),
    ("offset", "相隔时间", "How long before or after the trigger the service is due (a number)"),
    ("offset_unit", "相隔时间单位", "days, months or years"),
    ("direction", "之前或之后", "before or after the trigger"),
    ("renews", "换发的证照所属基本编码", "For output_expiry: the basic code of the service whose output is renewed"),
    ("output_name", "证照名称", "For output_expiry: the output that expires"),
    ("output_validity", "证照有效期", "For output_expiry: how long the output stays valid (a number)"),
    ("output_validity_unit", "证照有效期单位", "days, months or years"),
    ("prepare", "需要准备", "What to prepare (Chinese)"),
    ("prepare_en", "需要准备（英文）", "What to prepare (English)"),
)


def _number(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def rule_rows(services: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per service × reminder, with RULE_COLUMNS as keys. An expiry reminder
    carries the validity of the output it renews; one whose output has no validity
    on the platform (the renewed service unknown or without one) is left out."""
    services = list(services)
    by_basic_code: dict[str, Mapping[str, Any]] = {}
    for s in services:
        if s.get("basic_code") and s.get("output_validity") not in (None, ""):
            by_basic_code.setdefault(s["basic_code"], s)
    rows = []
    for s in services:
        for n, r in enumerate(s.get("reminders") or [], 1):
            row: dict[str, Any] = {
                "service": s.get("name"), "service_title": s.get("title"),
                "service_title_en": s.get("title_en"),
                "department": (s.get("organization") or {}).get("title") or s.get("owner_org"),
                "basic_code": s.get("basic_code"), "implementation_code": s.get("implementation_code"),
                "rule": n, "trigger": r.get("trigger"), "offset": _number(r.get("offset")) or 0,
                "offset_unit": r.get("offset_unit") or "days", "direction": r.get("direction") or "before",
                "renews": None, "output_name": None, "output_validity": None, "output_validity_unit": None,
                "prepare": r.get("prepare"), "prepare_en": r.get("prepare_en")}
            if r.get("trigger") == EXPIRY:
                renewed = by_basic_code.get(r["renews_basic_code"]) if r.get("renews_basic_code") else s
                if not renewed or renewed.get("output_validity") in (None, ""):
                    continue
                row.update(renews=renewed.get("basic_code"), output_name=renewed.get("output_name"),
                           output_validity=_number(renewed["output_validity"]),
                           output_validity_unit=renewed.get("output_validity_unit") or "years")
            rows.append(row)
    return rows


def _held(value: Any) -> bool:
    return value not in (None, "", "no")


def service_details(service: Mapping[str, Any]) -> dict[str, Any]:
    """Where to do a service and what to bring: its channels, the centres that handle it
    (the derived ``service_centres`` key, when there is one), and its documents, each
    marked 免提交 (``no_need_to_bring``) when the network says the government holds it."""
    held = {row.get("index"): _held(row.get("government_holds"))
            for row in (service.get("network") or {}).get("documents") or []}
    documents = [{"name": d.get("name"), "name_en": d.get("name_en"),
                  "mandatory": str(d.get("mandatory", True)).lower() not in ("false", "0", "no"),
                  "no_need_to_bring": held.get(i, False)}
                 for i, d in enumerate(service.get("documents") or [])]
    channels = [{k: c.get(k) for k in ("channel_type", "name", "url", "address", "opening_hours", "phone")
                 if c.get(k)} for c in service.get("channels") or []]
    centres = [{k: c.get(k) for k in ("centre_code", "name", "title", "title_en", "address", "open_now")
                if c.get(k) is not None} for c in service.get("service_centres") or []]
    return {"title": service.get("title"), "title_en": service.get("title_en"),
            "status": service.get("status"), "channels": channels, "centres": centres,
            "documents": documents}


# ---------------------------------------------------------------- what is due

class EventError(ValueError):
    """A citizen's event that cannot be used: ``field`` names it (events[0].date)."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def read_events(events: Any, today: dt.date) -> list[dict[str, Any]]:
    """The events a citizen gives, checked: ``{"event": <trigger>, "date": D}`` or
    ``{"output": <basic code or service name>, "issued": D}``. EventError names the field."""
    if not isinstance(events, list) or not events:
        raise EventError("events", "give at least one event, as a list")
    known = life_event_triggers()
    out = []
    for i, e in enumerate(events):
        where = f"events[{i}]"
        if not isinstance(e, Mapping):
            raise EventError(where, "must be an object with event and date, or output and issued")
        if e.get("output") not in (None, ""):
            try:
                issued = parse_date(e.get("issued"))
            except ValueError as error:
                raise EventError(f"{where}.issued", str(error)) from None
            if issued > today:
                raise EventError(f"{where}.issued", f"{issued} is after today ({today}): "
                                 "an output cannot have been issued in the future")
            out.append({"output": str(e["output"]).strip(), "issued": issued})
        elif e.get("event") not in (None, ""):
            if e["event"] not in known:
                raise EventError(f"{where}.event", f"unknown event {e['event']!r}; "
                                 f"one of {', '.join(known)}")
            try:
                day = parse_date(e.get("date"))
            except ValueError as error:
                raise EventError(f"{where}.date", str(error)) from None
            out.append({"event": e["event"], "date": day})
        else:
            raise EventError(where, "give an event with its date, or an output with its issue date")
    return out


def due(rules: Iterable[Mapping[str, Any]], events: list[dict[str, Any]],
        today: dt.date) -> list[dict[str, Any]]:
    """Each rule that an event triggers, with its due date and the days left (negative:
    overdue), soonest first. ``events`` as ``read_events`` returns them."""
    found = []
    for rule in rules:
        for event in events:
            if "output" in event:
                if rule["trigger"] != EXPIRY or event["output"] not in (rule.get("renews"), rule.get("service")):
                    continue
                trigger_day = expiry(event["issued"], rule["output_validity"], rule["output_validity_unit"])
            elif rule["trigger"] == event["event"]:
                trigger_day = event["date"]
            else:
                continue
            day = due_date(trigger_day, rule["offset"], rule["offset_unit"], rule["direction"])
            found.append({**rule, "trigger_date": trigger_day.isoformat(), "due_date": day.isoformat(),
                          "days_left": (day - today).days})
    return sorted(found, key=lambda r: (r["due_date"], r.get("service") or ""))
