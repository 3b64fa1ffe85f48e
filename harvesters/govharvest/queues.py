"""Queue sources: a service centre's live queues into the platform's time series.

A queue source (kind ``queues``, format ``csv`` or ``json``) is a centre's
feed of its queues now: one row per service it handles — centre_code,
implementation_code, observed_at (ISO 8601 with its offset),
tickets_waiting, estimated_wait_minutes, appointments_left_today (the
columns of ``schemas/queues.yaml``, headed by their names, their Chinese or
English labels or an alias). CSV in any supported encoding (a title row
before the header is skipped); JSON as ``{"queues": [...]}``, a bare list, or
JSON lines.

It is meant to be harvested every minute (schedule ``* * * * *``), so a run
is small: one conditional GET (a feed that has not changed since the last
minute is not read again), the rows sent to CKAN's ``govservice_queue_load``
in one call, each rejected row reported with the feed's own line, its field
and its reason while the rest land. Nothing else in CKAN is touched. The
source's jobs of more than two days ago are forgotten (JOBS_KEPT): 1,440 a day
would otherwise pile up in the harvest database.
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any, Iterator

from ckanext.govservice.core import queues as core
from ckanext.govservice.core.untrusted import load_json

from . import db, load, sources, statistics
from .errors import ExtractError, FormatError

log = logging.getLogger(__name__)
FORMATS = sources.QUEUE_FORMATS
HEADER_SCAN_ROWS = 5
JOBS_KEPT = dt.timedelta(days=2)   # a minute-level source's job history (its rows live on in the platform)
JSON_KEY = "queues"


def _rows_json(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    text = path.read_bytes().decode("utf-8-sig")
    try:
        body = load_json(text, "the queue feed")
        items = body.get(JSON_KEY) if isinstance(body, dict) else body
    except ValueError as whole:   # perhaps JSON lines: one row an object a line
        try:
            items = [load_json(line, "a queue row") for line in text.splitlines() if line.strip()]
        except ValueError:
            raise FormatError(f"JSON could not be parsed: {whole}") from None
    if not isinstance(items, list):
        raise FormatError(f'a queue feed in JSON is a list of rows or {{"{JSON_KEY}": [...]}}')
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise FormatError(f"queue row {i} is not a JSON object")
        yield i, {core.column_of(k) or k: v for k, v in item.items()}


def _rows_csv(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    rows = statistics.READERS["csv"](path)   # any encoding, as a department's statistics
    header: list[str | None] | None = None
    for line, row in rows:
        if header is None:
            if line > HEADER_SCAN_ROWS:
                break
            if not core.missing_columns(row):
                header = [core.column_of(c) for c in row]
            continue
        if not any(str(c).strip() for c in row):
            continue
        yield line, {name: value for name, value in zip(header, row) if name}
    if header is None:
        raise FormatError("no header row names the centre code, the implementation code, the time, "
                          "the tickets waiting and the estimated wait (大厅编码, 实施编码, 观测时间, "
                          f"等候人数, 预计等候分钟数) in the first {HEADER_SCAN_ROWS} rows")


def read(path: Path, fmt: str) -> list[tuple[int, dict[str, Any]]]:
    """The feed's rows as (line or item number, {column: value})."""
    if fmt not in FORMATS:
        raise FormatError(f"a queue feed is read as one of {', '.join(FORMATS)} (got {fmt!r})")
    try:
        return list(_rows_csv(path) if fmt == "csv" else _rows_json(path))
    except UnicodeDecodeError as e:
        raise FormatError(f"the queue feed is not UTF-8 (byte {e.start}: {e.reason})") from None


def run_job(conn_factory, job_id: int, source: dict, ckan) -> tuple[str, dict, str | None]:
    """Fetch one queue feed and store its rows; each rejection is kept in the
    job's report as "line N: field ('value') reason". Returns (status, counts, error)."""
    import ckanapi
    with conn_factory() as conn:
        db.forget_jobs_before(conn, source["id"], dt.datetime.now(dt.timezone.utc) - JOBS_KEPT)
    try:
        fetched = statistics._fetch(source)   # one file, conditional, through the guarded client
    except (ExtractError, FormatError) as e:
        return "failed", {}, str(e)
    if fetched.not_modified:
        return "done", {"rows": 0, "not_modified": True}, None
    try:
        rows = read(fetched.path, source["format"])
    except FormatError as e:
        return "failed", {}, str(e)
    where = "item" if source["format"] != "csv" else "line"
    result = {"rows": 0, "stored": 0, "unchanged": 0, "rejected": 0, "rejections": []}
    if rows:
        try:
            result = load.with_retries(lambda: ckan.action.govservice_queue_load(
                department=source["department"], rows=[r for _, r in rows]))
        except ckanapi.ValidationError as e:
            return "failed", {}, f"the platform refused the feed: {load.error_sentence(e.error_dict)}"
        except ckanapi.CKANAPIError as e:
            return "failed", {}, f"the platform could not store the feed: {e}"
    with conn_factory() as conn:
        for r in result["rejections"]:
            line = rows[r["row"] - 1][0]
            value = "" if r.get("value") in (None, "") else f" ({r['value']!r})"
            db.note_outcome(conn, job_id, f"{where} {line}", "rejected", errors={
                r["field"]: [f"{where} {line}: {r['record']}: {r['field']}{value} {r['reason']}"]})
        db.remember_validators(conn, source["id"], fetched.etag, fetched.last_modified)
    return "done", {k: result[k] for k in ("rows", "stored", "unchanged", "rejected")}, None
