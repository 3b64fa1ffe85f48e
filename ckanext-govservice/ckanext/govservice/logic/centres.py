"""Actions of the service centres family (issue 17): a centre (办事大厅) by its
code, with its hours, "open now" and the services its counters handle; the
centres, filtered by "open now" and "24 hours". See logic/__init__.py for how
they are registered; the lookups are in centres.py, the hours in core/centres.py.

The centres are few (a city has tens, a province hundreds), so the list is
filtered from the cached centres in this process: "open now" depends on the
minute asked, which no index holds.
"""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from .. import centres
from ..core import centres as core_centres
from ..core import schema
from .action import _department, _text_only, _whole_number

# The read actions anyone may call.
ANYONE_MAY: tuple[str, ...] = ("govservice_centre_show", "govservice_centres")


def _known_only(data_dict: DataDict, action: str, *names: str) -> None:
    """A parameter the action does not take is refused by name (a misspelt filter
    must not silently answer every centre)."""
    unknown = sorted(k for k in data_dict if k not in names and not k.startswith("__"))
    if unknown:
        raise tk.ValidationError({k[:100]: [f"is not a parameter of {action}; its parameters are "
                                            f"{', '.join(names)}"] for k in unknown[:10]})


def _flag(data_dict: DataDict, name: str) -> bool:
    if name not in data_dict:
        return False
    value = data_dict[name]
    try:
        return schema.parse_boolean(value)
    except ValueError:
        raise tk.ValidationError({name: [f"must be true or false (got {value!r:.40})"]}) from None


def _find(code: str) -> model.Package | None:
    """The centre with this code as published, else in another case, else by name or id
    (None for text no code can be, such as control characters PostgreSQL refuses)."""
    if len(code) > 100 or any(ord(c) < 32 for c in code):
        return None
    live = (model.Session.query(model.Package)
            .filter(model.Package.type == centres.DATASET_TYPE, model.Package.state == centres.LIVE))
    column = model.Package.extras["centre_code"].astext
    found = live.filter(column == code).first() or \
        live.filter(model.Package.extras["centre_code"].astext.ilike(code.replace("%", r"\%").replace("_", r"\_"))).first()
    if found is None:
        found = live.filter((model.Package.name == code) | (model.Package.id == code)).first()
    return found


def _counters(centre: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Each counter with its services (``implementation_code``, ``name``, ``title``,
    ``found``), and the codes no live service has."""
    counters = centre.get("counters") if isinstance(centre.get("counters"), list) else []
    codes = core_centres.counter_codes(counters)
    services = {s["implementation_code"]: s for s in centres.services_of(centre["centre_code"])} if codes else {}
    out = []
    for counter in counters:
        handled = [{"implementation_code": c, "name": (services.get(c) or {}).get("name"),
                    "title": (services.get(c) or {}).get("title"), "found": c in services}
                   for c in core_centres.counter_services(counter)]
        out.append({"counter_number": counter.get("counter_number"), "counter_name": counter.get("counter_name"),
                    "services": handled})
    return out, [c for c in codes if c not in services]


@tk.side_effect_free
def govservice_centre_show(context: Context, data_dict: DataDict) -> DataDict:
    """A service centre (办事大厅) by its code, with its opening hours, whether it
    is open now and the services its counters handle.

    Anyone may ask.

    :param code: the centre's code (大厅编码), as published; a code in another
        case, or the centre's URL name, is found too
    :type code: string
    :param at: optional: the time to answer "open now" for, ISO 8601
        (``2026-11-23T10:30:00+08:00``; without an offset it is the platform's
        wall clock); now when not given
    :type at: string, optional
    :returns: the centre as package_show gives it (``centre_code``, ``title``,
        ``title_en``, ``address``, ``latitude``, ``longitude``,
        ``opening_hours``, ``open_all_day``, ``phone``, ``appointment_url``,
        ``accessibility`` (a list), ``counters``, ``status`` …), with
        ``open_now`` (true / false; null when it publishes no hours),
        ``hours`` (``[{"day": "Mo", "ranges": ["08:30-12:00", …]}]``, Monday to
        Sunday), ``counter_services`` (each counter with its services:
        ``implementation_code``, ``name``, ``title``, ``found``) and
        ``unknown_implementation_codes`` (codes its counters list that no live
        service has: flagged, not refused, since a centre may be published
        before the services it handles)
    :rtype: dictionary
    :raises ObjectNotFound: no centre has the code (the message names it)
    :raises ValidationError: no code given, ``at`` is not a time, or a
        parameter the action does not take (each named)
    """
    tk.check_access("govservice_centre_show", context, data_dict)
    _known_only(data_dict, "govservice_centre_show", "code", "at")
    _text_only(data_dict, "code", "at")
    code = (data_dict.get("code") or "").strip()
    if not code:
        raise tk.ValidationError({"code": ["give the service centre's code (大厅编码)"]})
    at = centres.parse_moment(data_dict.get("at"))
    pkg = _find(code)
    if pkg is None:
        raise tk.ObjectNotFound(f"service centre {code[:100]}: no service centre has this code")
    centre = tk.get_action("package_show")({**context, "for_view": False}, {"id": pkg.id})
    counters, unknown = _counters(centre)
    return {**centre, "open_now": centres.open_now(centre, at),
            "hours": core_centres.hours_table(centre.get("opening_hours")),
            "counter_services": counters, "unknown_implementation_codes": unknown}


@tk.side_effect_free
def govservice_centres(context: Context, data_dict: DataDict) -> DataDict:
    """The service centres (办事大厅), optionally only those open now or open 24
    hours, by name.

    Anyone may ask.

    :param q: optional: words of the centre's name, address or code
    :type q: string, optional
    :param open_now: optional: true for the centres open at ``at`` (now)
    :type open_now: boolean, optional
    :param open_all_day: optional: true for the centres open 24 hours, every day
    :type open_all_day: boolean, optional
    :param at: optional: the time "open now" is asked for, ISO 8601; without an
        offset the platform's wall clock; now when not given
    :type at: string, optional
    :param department: optional: the name or id of the department publishing them
    :type department: string, optional
    :param limit: optional: at most this many centres (1 to 1000, default 100)
    :type limit: integer, optional
    :param offset: optional: skip this many first (default 0)
    :type offset: integer, optional
    :returns: ``{"count": n, "at": the time asked (ISO 8601, the platform's
        clock), "results": [{"centre_code", "name", "title", "title_en",
        "address", "opening_hours", "phone", "appointment_url", "status",
        "open_all_day", "open_now"}]}`` sorted by centre code; withdrawn
        centres are left out
    :rtype: dictionary
    :raises ValidationError: a parameter of the wrong kind, or one the action
        does not take, naming it
    :raises ObjectNotFound: no such department
    """
    tk.check_access("govservice_centres", context, data_dict)
    _known_only(data_dict, "govservice_centres", "q", "open_now", "open_all_day", "at", "department",
                "limit", "offset")
    _text_only(data_dict, "q", "at", "department")
    only_open, only_all_day = _flag(data_dict, "open_now"), _flag(data_dict, "open_all_day")
    limit = _whole_number(data_dict, "limit", 100, 1, 1000)
    offset = _whole_number(data_dict, "offset", 0, 0, 100000)
    at = centres.local_time(centres.parse_moment(data_dict.get("at")))
    owner = _department(context, data_dict["department"])["id"] if data_dict.get("department") else None
    words = (data_dict.get("q") or "").strip().lower().split()
    found = []
    for centre in centres.live_centres():
        if owner and centre["owner_org"] != owner:
            continue
        text = " ".join(str(centre.get(k) or "") for k in ("centre_code", "title", "title_en", "address")).lower()
        if any(w not in text for w in words):
            continue
        row = {**{k: centre.get(k) for k in (*centres.SUMMARY_KEYS, "open_all_day")},
               "open_now": centres.open_now(centre, at)}
        if (only_open and not row["open_now"]) or (only_all_day and not row["open_all_day"]):
            continue
        found.append(row)
    return {"count": len(found), "at": at.isoformat(timespec="minutes"), "results": found[offset:offset + limit]}
