"""Actions of the live queues (issue 17): a centre's queue feed stored, and
a centre's queues read; see logic/__init__.py for how they are registered.
What they store and read is in ``queues`` and ``core.queues``."""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ..core import schema

# The read actions anyone may call.
ANYONE_MAY: tuple[str, ...] = ("govservice_centre_queue",)

MAX_ROWS = 10_000


def _centre(context: Context, centre_code: Any) -> dict[str, Any]:
    from .. import queues
    if not isinstance(centre_code, str) or not centre_code.strip():
        raise tk.ValidationError({"centre_code": ["Missing value: give the service centre's code (大厅编码)"]})
    code = centre_code.strip()
    if len(code) > 100 or any(ord(ch) < 32 for ch in code):   # no centre's code: never sent to PostgreSQL
        raise tk.ObjectNotFound("no service centre with that code on the platform")
    try:
        centre = tk.get_action("package_show")(
            {"user": context.get("user"), "ignore_auth": False}, {"id": queues.centre_dataset_name(code)})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        raise tk.ObjectNotFound(f"no service centre {code} on the platform") from None
    if centre.get("type") != queues.CENTRE_TYPE or centre.get("centre_code") != code:
        raise tk.ObjectNotFound(f"no service centre {code} on the platform")
    return centre


def _service_names(context: Context, codes: list[str]) -> dict[str, dict[str, Any]]:
    """{implementation_code: {"name", "title", "title_en"}} of the public services with those codes."""
    if not codes:
        return {}
    field = schema.facet_fields()["implementation_code"]
    quoted = " OR ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in codes)
    found = tk.get_action("package_search")(dict(context), {
        "fq": f"+dataset_type:service +{field}:({quoted})", "rows": len(codes) * 2})
    return {d["implementation_code"]: {"name": d["name"], "title": d.get("title"),
                                       "title_en": d.get("title_en")}
            for d in found["results"] if d.get("implementation_code")}


@tk.side_effect_free
def govservice_centre_queue(context: Context, data_dict: DataDict) -> DataDict:
    """A service centre's live queues: the latest figures of each service it
    reported today, and the day so far.

    Public and read-only. "Today" is the platform's day (ckan.display_timezone).
    The figures come from the centre's queue feed, harvested every minute into
    the open DataStore table ``service-queues`` (the whole time series is there
    for ``datastore_search_sql``).

    :param centre_code: the service centre's code (大厅编码)
    :type centre_code: string

    :returns: ``{"centre_code", "date" (YYYY-MM-DD), "observed_at" (the latest
        observation, ISO 8601, or null when none today), "services":
        [{"implementation_code", "service": {"name", "title", "title_en"} or
        null when no public service has the code, "observed_at",
        "tickets_waiting", "estimated_wait_minutes", "appointments_left_today"
        (null when the service takes no appointments)}], "day": [{"from"
        (HH:MM, the quarter hour), "tickets_waiting" (across the centre's
        services, at the quarter's last observation), "longest_wait_minutes"}]}``
        — empty lists when the centre reported nothing today
    :rtype: dict
    :raises ValidationError: no centre_code
    :raises ObjectNotFound: no service centre has that code
    """
    from .. import queues
    centre = _centre(context, data_dict.get("centre_code"))
    result = queues.centre_queue(centre["centre_code"])
    names = _service_names(context, [s["implementation_code"] for s in result["services"]])
    result["services"] = [{"implementation_code": s["implementation_code"],
                           "service": names.get(s["implementation_code"]),
                           **{k: v for k, v in s.items() if k != "implementation_code"}}
                          for s in result["services"]]
    return result


def govservice_queue_load(context: Context, data_dict: DataDict) -> DataDict:
    """Store the rows of a department's queue feed in the live queues' time series.

    Each row is checked on its own: a bad row is reported with its field and
    reason while the rest land. A row for a centre, service and moment already
    stored replaces it (the feed read twice stores nothing twice).

    Sysadmins, and editors and admins of the department.

    :param department: the department's name or id
    :type department: string
    :param rows: the feed's rows, each ``{"centre_code", "implementation_code",
        "observed_at" (ISO 8601 with its offset), "tickets_waiting",
        "estimated_wait_minutes", "appointments_left_today" (optional)}``; at most
        10,000
    :type rows: list of dicts

    :returns: ``{"department", "rows", "stored", "unchanged", "rejected",
        "rejections": [{"row" (the row's position in ``rows``, from 1),
        "record" (centre/service/time), "field", "value", "reason"}]}`` — at most
        1,000 rejections are listed, ``rejected`` counts them all
    :rtype: dict
    :raises ValidationError: no department, or rows not a list of objects
    :raises NotAuthorized: the user may not publish for the department
    """
    from .. import queues
    from .action import _department
    if not data_dict.get("department"):
        raise tk.ValidationError({"department": ["Missing value"]})
    org = _department(context, data_dict["department"])
    # the same right as loading the department's statistics: publishing its figures
    tk.check_access("govservice_statistics_load", context, {**data_dict, "owner_org": org["id"]})
    rows = data_dict.get("rows")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise tk.ValidationError({"rows": ["must be a list of JSON objects, one per queue row"]})
    if len(rows) > MAX_ROWS:
        raise tk.ValidationError({"rows": [f"{len(rows)} rows: send at most {MAX_ROWS:,} at a time"]})
    return queues.store_rows(org, rows)
