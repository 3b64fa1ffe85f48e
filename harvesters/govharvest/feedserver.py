"""The reference feed server: a folder of department data, served over HTTP.

Departments without a system of their own publish by dropping files into a
folder (one sub-folder per department); the demo and the tests harvest from it
over real HTTP. Files are served as they are (CSV, XLSX, Turtle, JSON…);
`<dept>/services.json` is also served as the platform's paginated JSON feed at
`/feeds/<dept>/services?page=N`, with ETag and Last-Modified; so are the
catalogues, `<dept>/basic_items.json` at `/feeds/<dept>/basic_items` and
`<dept>/documents.json` at `/feeds/<dept>/documents` (catalogues.py).

Each service centre of `<dept>/service_centres.json` also has a live queue feed
(queues.py), simulated: `/queues/<dept>/<centre_code>.csv` (or `.json`) answers
the centre's queue at this minute (`?at=` an ISO 8601 time instead), a
realistic and deterministic day — a morning peak, a lunch dip, a smaller
afternoon peak, appointments running out at the busy services, and no rows
while the centre is closed (its opening_hours).

Test-only faults, switched on with FEEDSERVER_FAULTS=1 and a query parameter,
so harvesters can be tested against a misbehaving source:
  ?fault=delay&seconds=S   answer after S seconds
  ?fault=500               answer HTTP 500
  ?fault=truncate          declare the full length, send half the body
  ?fault=encoding          declare charset=utf-8 on a body re-encoded as GBK
  ?fault=rename&from=A&to=B  rename a CSV column or JSON key A to B
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
import json
import math
import time
import zoneinfo
from email.utils import formatdate
from pathlib import Path
from typing import Any

from ckanext.govservice.core import centres as centre_hours, queues as queue_rows

from flask import Flask, Response, abort, request

from . import settings
from .catalogues import CATALOGUES

PAGE_SIZE = 100
TYPES = {".csv": "text/csv; charset=utf-8", ".json": "application/json",
         ".ttl": "text/turtle", ".jsonld": "application/ld+json", ".xml": "application/xml",
         ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@functools.lru_cache(maxsize=8)
def _parsed(path: Path, kind: str, mtime_ns: int, size: int) -> list[Any]:
    records = json.loads(path.read_text(encoding="utf-8-sig"))
    return records.get(kind, records) if isinstance(records, dict) else records


def records_of(path: Path, kind: str) -> list[Any]:
    """The records of a department's JSON feed file, parsed once per version of
    the file (its modification time and size), not once per page asked: a
    province department's 50,000 services are 500 pages, and parsing the whole
    file for each made serving them grow with the square of the file."""
    stat = path.stat()
    return _parsed(path, kind, stat.st_mtime_ns, stat.st_size)


def create_app(root: str | Path, faults: bool | None = None) -> Flask:
    root = Path(root).resolve()
    faults = settings.feedserver_faults() if faults is None else faults
    app = Flask("govharvest.feedserver")

    def file_under_root(relative: str) -> Path:
        path = (root / relative).resolve()
        if root not in path.parents or not path.is_file():
            abort(404)
        return path

    def respond(body: bytes, content_type: str, mtime: float) -> Response:
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        last_modified = formatdate(mtime, usegmt=True)
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag, "Last-Modified": last_modified})
        fault = request.args.get("fault") if faults else None
        if fault == "delay":
            time.sleep(float(request.args.get("seconds", "5")))
        elif fault == "500":
            return Response("internal error (injected)", status=500)
        elif fault == "rename":
            body = body.replace(request.args["from"].encode(), request.args["to"].encode(), 1)
        elif fault == "encoding":
            body = body.decode("utf-8-sig").encode("gbk", errors="replace")
        response = Response(body, content_type=content_type,
                            headers={"ETag": etag, "Last-Modified": last_modified})
        if fault == "truncate":
            full = len(body)
            response = Response(_truncated(body), content_type=content_type,
                                headers={"Content-Length": str(full)}, direct_passthrough=True)
        return response

    @app.get("/files/<path:relative>")
    def files(relative: str):
        path = file_under_root(relative)
        return respond(path.read_bytes(), TYPES.get(path.suffix, "application/octet-stream"),
                       path.stat().st_mtime)

    @app.get("/feeds/<department>/<kind>")
    def json_feed(department: str, kind: str):
        if kind not in CATALOGUES:
            abort(404)
        path = file_under_root(f"{department}/{kind}.json")
        services = records_of(path, kind)
        pages = max(1, math.ceil(len(services) / PAGE_SIZE))
        page = request.args.get("page", "1")
        if not page.isdigit() or not 1 <= int(page) <= pages:
            abort(404)
        page = int(page)
        body = {"page": page, "pages": pages, "count": len(services),
                kind: services[(page - 1) * PAGE_SIZE: page * PAGE_SIZE],
                "next": (request.base_url + f"?page={page + 1}") if page < pages else None}
        return respond(json.dumps(body, ensure_ascii=False).encode("utf-8"),
                       "application/json", path.stat().st_mtime)

    @app.get("/queues/<department>/<centre_code>.<ext>")
    def queue_feed(department: str, centre_code: str, ext: str):
        if ext not in ("csv", "json"):
            abort(404)
        path = file_under_root(f"{department}/service_centres.json")
        listed = json.loads(path.read_text(encoding="utf-8-sig"))
        listed = listed.get("service_centres", []) if isinstance(listed, dict) else listed
        centre = next((c for c in listed if isinstance(c, dict) and c.get("centre_code") == centre_code), None)
        if centre is None:
            abort(404)
        try:
            at = dt.datetime.fromisoformat(request.args["at"]) if "at" in request.args else None
        except ValueError:
            abort(400)
        at = (at or dt.datetime.now(QUEUE_TIMEZONE)).replace(second=0, microsecond=0)
        if at.tzinfo is None:
            at = at.replace(tzinfo=QUEUE_TIMEZONE)
        rows = simulated_queue(centre, at)
        if ext == "json":
            body = json.dumps({"queues": rows}, ensure_ascii=False).encode("utf-8")
        else:
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=queue_rows.column_names(), lineterminator="\r\n")
            writer.writeheader()
            writer.writerows(rows)
            body = out.getvalue().encode("utf-8")
        return respond(body, TYPES[f".{ext}"], at.timestamp())

    @app.get("/")
    def index():
        listing = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        return {"files": [f"/files/{p}" for p in listing]}

    return app


# ---------------------------------------------------------------- a simulated day of queues

QUEUE_TIMEZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
DEFAULT_HOURS = "Mo-Fr 09:00-17:00"


def _hashed(*parts: Any) -> int:
    return int(hashlib.sha256("|".join(map(str, parts)).encode("utf-8")).hexdigest()[:8], 16)


def _demand(minute_of_day: int) -> float:
    """How many people arrive, relative to the morning peak: a peak at ten, a
    dip over lunch (12:00-13:30), a smaller peak at three."""
    morning = math.exp(-((minute_of_day - 600) / 55) ** 2)
    afternoon = 0.6 * math.exp(-((minute_of_day - 900) / 65) ** 2)
    lunch = 0.35 if 720 <= minute_of_day < 810 else 1.0
    return (morning + afternoon) * lunch


_DAY_DEMAND = [0.0]
for _m in range(24 * 60):
    _DAY_DEMAND.append(_DAY_DEMAND[-1] + _demand(_m))   # the day's demand up to each minute


def simulated_queue(centre: dict[str, Any], at: dt.datetime) -> list[dict[str, Any]]:
    """The centre's queue at ``at`` (its local time), one row per service its
    counters handle; none while it is closed. The same centre, date and minute
    always give the same rows; each service has its own popularity, speed and
    appointments (some take none), from its code."""
    hours = centre.get("opening_hours") or DEFAULT_HOURS
    if not centre_hours.open_at(hours, at):
        return []
    minute = at.hour * 60 + at.minute
    share_of_day = _DAY_DEMAND[minute] / _DAY_DEMAND[-1]
    counters = [c for c in centre.get("counters") or [] if isinstance(c, dict)]
    rows = []
    for code in centre_hours.counter_codes(counters):
        popularity = 0.4 + _hashed(code) % 100 / 80                 # 0.4 - 1.64
        noise = _hashed(code, at.date(), minute) % 5 - 2
        tickets = max(0, round(12 * popularity * _demand(minute) + noise))
        serving = sum(code in centre_hours.counter_services(c) for c in counters) or 1
        minutes_a_ticket = 2 + _hashed(code, "speed") % 5
        appointments = None
        if _hashed(code, "appointments") % 4:                         # three in four take appointments
            capacity = 20 + _hashed(code, "capacity") % 41
            booked = round(capacity * popularity * 1.1 * share_of_day)   # the popular ones run out
            appointments = max(0, capacity - booked)
        rows.append({"centre_code": centre["centre_code"], "implementation_code": code,
                     "observed_at": at.isoformat(timespec="seconds"), "tickets_waiting": tickets,
                     "estimated_wait_minutes": round(tickets * minutes_a_ticket / serving),
                     "appointments_left_today": appointments})
    return rows


def _truncated(body: bytes):
    yield body[: len(body) // 2]


def main() -> None:
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    args = parser.parse_args()
    create_app(args.folder).run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
