"""The reference feed server: a folder of department data, served over HTTP.

Departments without a system of their own publish by dropping files into a
folder (one sub-folder per department); the demo and the tests harvest from it
over real HTTP. Files are served as they are (CSV, XLSX, Turtle, JSON…);
`<dept>/services.json` is also served as the platform's paginated JSON feed at
`/feeds/<dept>/services?page=N`, with ETag and Last-Modified; so are the
catalogues, `<dept>/basic_items.json` at `/feeds/<dept>/basic_items` and
`<dept>/documents.json` at `/feeds/<dept>/documents` (catalogues.py).

Test-only faults, switched on with FEEDSERVER_FAULTS=1 and a query parameter,
so harvesters can be tested against a misbehaving source:
  ?fault=delay&seconds=S   answer after S seconds
  ?fault=500               answer HTTP 500
  ?fault=truncate          declare the full length, send half the body
  ?fault=encoding          declare charset=utf-8 on a body re-encoded as GBK
  ?fault=rename&from=A&to=B  rename a CSV column or JSON key A to B
"""
from __future__ import annotations

import hashlib
import json
import math
import time
from email.utils import formatdate
from pathlib import Path

from flask import Flask, Response, abort, request

from . import settings
from .catalogues import CATALOGUES

PAGE_SIZE = 100
TYPES = {".csv": "text/csv; charset=utf-8", ".json": "application/json",
         ".ttl": "text/turtle", ".jsonld": "application/ld+json", ".xml": "application/xml",
         ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


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
        services = json.loads(path.read_text(encoding="utf-8-sig"))
        services = services.get(kind, services) if isinstance(services, dict) else services
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

    @app.get("/")
    def index():
        listing = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        return {"files": [f"/files/{p}" for p in listing]}

    return app


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
