"""The CKAN side of the live queues: the open time series, storing a feed's rows, reading them.

The rows are published as the platform dataset ``service-queues`` (owned by
``govservice-platform``) whose resource ``service-queues`` is a DataStore
table — open to ``datastore_search`` and ``datastore_search_sql`` — with the
columns and data dictionary of ``schemas/queues.yaml`` and its unique key
(centre_code, implementation_code, observed_at): a feed read twice stores
nothing twice. That key's index serves "the latest per service of a centre";
one on observed_at serves pruning (``prune``, a scheduled task).

A queue harvest runs every minute, so storing is kept cheap: the resource id
is remembered by the process, the rows go in with one INSERT … ON CONFLICT,
and nothing is re-indexed or rebuilt.
"""
from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from typing import Any, Iterable, Mapping

import ckan.plugins.toolkit as tk
import sqlalchemy as sa

from . import publishing, statistics_store as store
from .core import queues as core
from .core.schema import label

log = logging.getLogger(__name__)

DATASET = RESOURCE_NAME = "service-queues"
RESOURCE_KEY = "govservice_queues"
CENTRE_TYPE = "service_centre"
_table: dict[str, str] = {}   # the resource id, once found or made in this process


def centre_dataset_name(centre_code: str) -> str:
    """The name of a centre's dataset (the shared contract: centre-<code lowercased>)."""
    return f"centre-{centre_code.lower()}"


def timezone() -> dt.tzinfo:
    """The platform's clock for "today" (ckan.display_timezone; UTC when unset or 'server')."""
    name = tk.config.get("ckan.display_timezone") or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.timezone.utc


# ---------------------------------------------------------------- the table

def _find_table(context: dict[str, Any]) -> str | None:
    try:
        dataset = tk.get_action("package_show")(dict(context), {"id": DATASET})
    except tk.ObjectNotFound:
        return None
    if not publishing.is_ours(dataset, publishing.PLATFORM_ORG):
        return None   # someone else's dataset by that name: never read as the platform's queues
    for res in dataset.get("resources", []):
        if res.get(RESOURCE_KEY) == "rows" and res.get("datastore_active"):
            return res["id"]
    return None


def queue_table(context: dict[str, Any] | None = None, create: bool = True) -> str | None:
    """The DataStore table's resource id; dataset, resource and table are made
    when missing (``create``), else None."""
    if "id" in _table:
        with store.engine().connect() as conn:
            if store.table_exists(conn, _table["id"]):
                return _table["id"]
        del _table["id"]   # the site's database was emptied since (tests) or the table dropped
    context = context or publishing.site_context()
    found = _find_table(context)
    if found or not create:
        if found:
            _table["id"] = found
        return found
    schema = core.queue_schema()
    dataset = publishing.ensure_dataset(
        context, DATASET, publishing.platform_org(context),
        title="办事大厅实时排队 / Live queues of the service centres",
        notes=(schema["about"]["zh_Hans_CN"] + "。每行一个大厅、一个事项、一个时刻，每分钟采集。\n\n"
               + schema["about"]["en"] + ". One row per centre, service and moment, harvested every "
               "minute; query it with datastore_search or datastore_search_sql."),
        scope="queues")
    created = tk.get_action("datastore_create")(dict(context), {
        "resource": {"package_id": dataset["id"], "name": RESOURCE_NAME,
                     "description": "办事大厅实时排队 / Live queues of the service centres",
                     "format": "DataStore", RESOURCE_KEY: "rows"},
        "fields": core.datastore_fields(),
        "primary_key": core.primary_key(),
        "force": True,
    })
    table = created["resource_id"]
    with store.engine().begin() as conn:
        _tune(conn, table)
    _table["id"] = table
    return table


def _tune(conn, table: str) -> None:
    """The time series is read by key and time, never by words: the DataStore's
    full-text indexes go (each minute's insert would keep them up), and one on
    observed_at serves the "day so far" and pruning."""
    for name, definition in conn.execute(sa.text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = :t"),
            {"t": table}).all():
        if "to_tsvector" in definition or "_full_text" in definition:
            conn.execute(sa.text(f'DROP INDEX IF EXISTS public."{name}"'))
    conn.execute(sa.text(f'CREATE INDEX IF NOT EXISTS "{table}_observed_at" '
                         f'ON public."{table}" (observed_at)'))
    conn.execute(sa.text(f'CREATE INDEX IF NOT EXISTS "{table}_centre_observed_at" '
                         f'ON public."{table}" (centre_code, observed_at DESC)'))


# ---------------------------------------------------------------- storing a feed's rows

def _department_centres(org: Mapping[str, Any], codes: Iterable[str]) -> set[str]:
    """Of ``codes``, the centres on the platform published by ``org``: read from
    the catalogue's own tables (a package_show, with its validation and output
    shaping, would cost more than storing the rows, every minute)."""
    from ckan import model
    ours = set()
    for code in set(codes):
        centre = model.Package.get(centre_dataset_name(code))
        if (centre is not None and centre.type == CENTRE_TYPE and centre.state == "active"
                and centre.owner_org == org["id"] and centre.extras.get("centre_code") == code):
            ours.add(code)
    return ours


def store_rows(org: Mapping[str, Any], rows: list[Mapping[str, Any]],
               now: dt.datetime | None = None) -> dict[str, Any]:
    """Check each row and store the good ones; a row already stored (same
    centre, service and moment) is replaced. The report names each rejected
    row by its position (``row``, from 1), record, field and reason."""
    now = now or dt.datetime.now(dt.timezone.utc)
    checked: list[tuple[int, dict[str, Any]]] = []
    rejections: list[dict[str, Any]] = []
    for position, row in enumerate(rows, start=1):
        try:
            checked.append((position, core.check_row(row, now)))
        except core.RowProblem as e:
            rejections.append({"row": position, "record": core.record_id(row), "field": e.field,
                               "value": None if e.value is None else str(e.value), "reason": e.reason})
    centres = _department_centres(org, (r["centre_code"] for _, r in checked))
    good: dict[tuple, dict[str, Any]] = {}
    for position, row in checked:
        if row["centre_code"] not in centres:
            rejections.append({"row": position, "record": core.record_id(row), "field": "centre_code",
                               "value": row["centre_code"],
                               "reason": f"is not a service centre of department {org['name']} on the platform"})
            continue
        good[tuple(row[k] for k in core.primary_key())] = row   # a key twice in one feed: the last wins
    stored = 0
    if good:
        table = queue_table()
        names = core.column_names()
        key = core.primary_key()
        updates = ", ".join(f"{n} = EXCLUDED.{n}" for n in names if n not in key)
        changed = " OR ".join(f"t.{n} IS DISTINCT FROM EXCLUDED.{n}" for n in names if n not in key)
        statement = sa.text(
            f'INSERT INTO public."{table}" AS t ({", ".join(names)}) '
            f'VALUES ({", ".join(":" + n for n in names)}) '
            f'ON CONFLICT ({", ".join(key)}) DO UPDATE SET {updates} WHERE {changed}')
        with store.engine().begin() as conn:
            stored = sum(conn.execute(statement, row).rowcount for row in good.values())
    rejections.sort(key=lambda r: r["row"])
    return {"department": org["name"], "rows": len(rows), "stored": stored,
            "unchanged": len(good) - stored,
            "rejected": len(rejections), "rejections": rejections[:1000]}


# ---------------------------------------------------------------- reading

def centre_queue(centre_code: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """The latest observation of each service of a centre today (the platform's
    day), and the day so far: per quarter hour, the tickets waiting across its
    services and the longest estimated wait (the last observation of each
    quarter hour)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    zone = timezone()
    day_start = dt.datetime.combine(now.astimezone(zone).date(), dt.time(), zone)
    out: dict[str, Any] = {"centre_code": centre_code, "date": day_start.date().isoformat(),
                           "observed_at": None, "services": [], "day": []}
    table = queue_table(create=False)
    if not table:
        return out
    with store.read_engine().connect() as conn:
        latest = conn.execute(sa.text(f"""
            SELECT DISTINCT ON (implementation_code) implementation_code, observed_at,
                   tickets_waiting, estimated_wait_minutes, appointments_left_today
            FROM public."{table}"
            WHERE centre_code = :centre AND observed_at >= :day_start AND observed_at <= :now
            ORDER BY implementation_code, observed_at DESC"""),
            {"centre": centre_code, "day_start": day_start, "now": now}).mappings().all()
        day = conn.execute(sa.text(f"""
            WITH moment AS (
                SELECT observed_at, sum(tickets_waiting) AS tickets_waiting,
                       max(estimated_wait_minutes) AS longest_wait_minutes
                FROM public."{table}"
                WHERE centre_code = :centre AND observed_at >= :day_start AND observed_at <= :now
                GROUP BY observed_at)
            SELECT DISTINCT ON (quarter) quarter, tickets_waiting, longest_wait_minutes
            FROM (SELECT date_bin('15 minutes', observed_at, :day_start) AS quarter, * FROM moment) m
            ORDER BY quarter, observed_at DESC"""),
            {"centre": centre_code, "day_start": day_start, "now": now}).mappings().all()
    out["services"] = [{**r, "observed_at": r["observed_at"].astimezone(zone).isoformat()}
                       for r in sorted(latest, key=lambda r: r["implementation_code"])]
    out["day"] = [{"from": r["quarter"].astimezone(zone).strftime("%H:%M"),
                   "tickets_waiting": int(r["tickets_waiting"]),
                   "longest_wait_minutes": r["longest_wait_minutes"]} for r in day]
    if latest:
        out["observed_at"] = max(r["observed_at"] for r in latest).astimezone(zone).isoformat()
    return out


def prune(retention_days: int | None = None) -> dict[str, int]:
    """Delete the observations older than the retention window
    (``ckanext.govservice.queues.retention_days``)."""
    days = retention_days if retention_days is not None else tk.config.get(
        "ckanext.govservice.queues.retention_days")
    table = queue_table(create=False)
    if not table or not days:
        return {"deleted": 0}
    cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=int(days))
    with store.engine().begin() as conn:
        deleted = conn.execute(sa.text(f'DELETE FROM public."{table}" WHERE observed_at < :cutoff'),
                               {"cutoff": cutoff}).rowcount
    return {"deleted": deleted}


# ---------------------------------------------------------------- the centre page

def _centre_queue_now(centre: Mapping[str, Any]) -> dict[str, Any] | None:
    """govservice_centre_queue's answer for the centre page's live table (None
    when the centre is unknown or its queues cannot be read: the page still shows)."""
    code = (centre or {}).get("centre_code")
    if not code:
        return None
    try:
        return tk.get_action("govservice_centre_queue")({}, {"centre_code": code})
    except (tk.ObjectNotFound, tk.ValidationError, store.NotMigrated):
        return None


def _queue_label(column: str) -> str:
    """A queue column's label in the page's language (queues.yaml)."""
    lang = tk.h.govservice_lang()
    return next(label(c, lang) for c in core.columns() if c["name"] == column)


def _clock(moment: str | None) -> str:
    """HH:MM of an ISO 8601 time, as the action gives it (the platform's day)."""
    return moment[11:16] if moment else ""


TEMPLATE_HELPERS = {"govservice_centre_queue": _centre_queue_now,
                    "govservice_queue_label": _queue_label, "govservice_queue_clock": _clock}
