"""Load the demo city the way real data arrives: through the harvesters.

Called by `make demo` (stack/stack.sh demo) once the stack, the reference feed
server (serving datasets/demo/city) and the harvest admin app are up:

1. every department of datasets/demo/city/departments.json becomes a CKAN
   organisation (zh and en names, level, area) if it is not one yet, and so
   does the publisher of the catalogues (its ``catalogues``: the city's
   government service office);
2. the publisher gets two harvest sources, the basic item catalogue (基本目录,
   kind basic_items) and the document catalogue (材料目录, kind documents);
   each department two — its services feed, in the format it publishes (JSON
   feed, CSV in GBK, XLSX, CPSV-AP Turtle, Open311 …), and its statistics
   file — registered once, harvested nightly by the scheduler;
3. the catalogues are harvested first (a service names its basic item and its
   documents' catalogue codes, and the platform refuses codes it does not
   know), then every services source, then every statistics source (the
   platform checks statistics against the services it knows);
4. a table of what each harvest did, and where the reports are.

A second run finds the organisations and sources in place and the feeds
unchanged (ETag / Last-Modified), so it is quick and changes nothing.

``--province [DIR]`` (make demo-province) does the same for the demo province
generated in var/province (datasets/demo/generate.py --province; about 1,800
departments and 100,000 services at full scale); ``--serve`` serves the folder
at --feed-url itself while it harvests, since the stack's feed server serves
the city.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ckanapi

from govharvest import db, pipeline, sources

ROOT = Path(__file__).resolve().parent.parent
CITY = ROOT / "datasets" / "demo" / "city"
PROVINCE = ROOT / "var" / "province"   # generated on demand (make demo-province), never committed
SCHEDULE = "30 2 * * *"     # nightly, after the departments' own systems have exported


def portal(url: str, token_file: Path) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(url, apikey=token_file.read_text().strip(), user_agent="govservice-demo")


def ensure_department(ckan: ckanapi.RemoteCKAN, dept: dict) -> None:
    try:
        ckan.action.organization_show(id=dept["name"], include_datasets=False)
        return
    except ckanapi.NotFound:
        pass
    ckan.action.organization_create(
        name=dept["name"], title=dept["title"], title_en=dept.get("title_en"),
        level=dept.get("level"), area=dept.get("area"), area_code=dept.get("area_code"),
        department_code=dept.get("department_code"))


# The catalogue kinds, in the order they are harvested: before any services source.
CATALOGUE_KINDS = ("basic_items", "documents", "service_centres")   # centres: issue 17


def location(feed_url: str, dept: dict, part: str) -> str:
    spec = dept[part]
    if part != "statistics" and spec["format"] == "json":   # the paginated platform feed
        return f"{feed_url}/feeds/{dept['name']}/{part}"     # (services, basic_items, documents)
    return f"{feed_url}/files/{spec['file']}"


def ensure_source(conn, name: str, dept: dict, kind: str, fmt: str, where: str,
                  defaults: dict | None, schedule: str = SCHEDULE) -> None:
    """Register the source, or bring its format, location and defaults in line
    with departments.json (the city's files may have moved)."""
    try:
        sources.get(conn, name)
    except sources.SourceError:   # not registered yet
        sources.add(conn, name=name, department=dept["name"], format=fmt, location=where,
                    kind=kind, schedule=schedule, defaults=defaults or None)
    else:                         # writes only what departments.json changed
        sources.update(conn, name, format=fmt, location=where, defaults=defaults or {})


def harvest(name: str, ckan: ckanapi.RemoteCKAN) -> dict:
    with db.connect() as conn:
        job_id = pipeline.start_job(conn, sources.get(conn, name))
    started = time.monotonic()
    pipeline.run_job(db.connect, job_id, ckan)
    with db.connect() as conn:
        report = pipeline.report(conn, job_id)
    report["seconds"] = round(time.monotonic() - started, 1)
    return report


def summary(report: dict) -> str:
    if report["status"] == "failed":
        return f"FAILED: {report['error']}"
    c = report["counts"] or {}
    if c.get("not_modified"):
        return "unchanged at the source"
    if "stored" in c:   # a centre's queue (issue 17)
        return f"{c['stored']} stored, {c['rejected']} rejected rows"
    if "rows" in c:
        return f"{c['inserted']} new, {c['updated']} changed, {c['rejected']} rejected rows"
    return (f"{c.get('new', 0)} new, {c.get('changed', 0)} changed, {c.get('unchanged', 0)} unchanged, "
            f"{c.get('rejected', 0)} rejected, {c.get('withdrawn', 0)} withdrawn")


def register(ckan, manifest: dict, feed_url: str) -> list[list[str]]:
    """Every department of ``manifest`` (a departments.json) and the catalogues' publisher
    as organisations, their sources registered; return the sources' names in the
    order they are harvested: [catalogues, services, statistics, the centres' queues]."""
    departments, office = manifest["departments"], manifest["catalogues"]
    for dept in [office, *departments]:
        ensure_department(ckan, dept)
    with db.connect() as conn:
        for kind in (kinds := [k for k in CATALOGUE_KINDS if k in office]):   # the province has no centres
            spec = office[kind]
            ensure_source(conn, f"{office['name']}-{kind.replace('_', '-')}", office, kind, spec["format"],
                          location(feed_url, office, kind), None)
        for dept in departments:
            s = dept["services"]
            ensure_source(conn, f"{dept['name']}-services", dept, "services", s["format"],
                          location(feed_url, dept, "services"), s.get("defaults"))
            st = dept["statistics"]
            ensure_source(conn, f"{dept['name']}-statistics", dept, "statistics", st["format"],
                          location(feed_url, dept, "statistics"), None)
        queues = _queue_sources(conn, office, feed_url)
    return [[f"{office['name']}-{kind.replace('_', '-')}" for kind in kinds],
            *[[f"{d['name']}-{kind}" for d in departments] for kind in ("services", "statistics")],
            *([queues] if queues else [])]


def _queue_sources(conn, office: dict, feed_url: str) -> list[str]:
    """Each demo centre's live queue (issue 17), simulated by the feed server and
    harvested every minute; the names of the sources."""
    if "service_centres" not in office:
        return []
    listed = json.loads((CITY / office["service_centres"]["file"]).read_text(encoding="utf-8"))
    names = []
    for centre in listed.get("service_centres", listed) if isinstance(listed, dict) else listed:
        code = centre["centre_code"]
        names.append(f"queues-{code.lower()}")
        ensure_source(conn, names[-1], office, "queues", "csv",
                      f"{feed_url}/queues/{office['name']}/{code}.csv", None, schedule="* * * * *")
    return names


def harvest_in_order(ckan, stages: list[list[str]], parallel: int, admin_url: str) -> dict[str, dict]:
    """Harvest each stage's sources (the catalogues one after the other: a catalogue must
    be in before any service that refers to it; then the services, then the statistics,
    ``parallel`` at a time); print a line for each; return each source's report."""
    reports = {}
    for i, names in enumerate(stages):
        with ThreadPoolExecutor(1 if i == 0 else parallel) as pool:
            for name, report in zip(names, pool.map(lambda n: harvest(n, ckan), names)):
                reports[name] = report
                print(f"  {name:<52} {report['seconds']:>6}s  {summary(report)}"
                      f"   {admin_url}/jobs/{report['job']}", flush=True)
    return reports


def serve(folder: Path, feed_url: str):
    """The reference feed server on ``folder``, in a thread, at feed_url's address (the
    province: the stack's own feed server serves the city); return it (shutdown())."""
    import threading
    from urllib.parse import urlsplit

    from govharvest.feedserver import create_app
    from werkzeug.serving import make_server
    where = urlsplit(feed_url)
    server = make_server(where.hostname, where.port, create_app(folder, faults=False), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portal", default=os.environ.get("GOVHARVEST_CKAN_URL", "http://127.0.0.1:5000"))
    parser.add_argument("--token-file", type=Path, default=ROOT / "var" / "api-token")
    parser.add_argument("--feed-url", default="http://127.0.0.1:8900")
    parser.add_argument("--admin-url", default="http://127.0.0.1:8800")
    parser.add_argument("--parallel", type=int, default=2, help="harvests running at once")
    parser.add_argument("--province", type=Path, nargs="?", const=PROVINCE, metavar="DIR",
                        help=f"load the demo province generated in DIR (default {PROVINCE.relative_to(ROOT)}; "
                             "datasets/demo/generate.py --province) instead of the city")
    parser.add_argument("--serve", action="store_true",
                        help="serve the folder at --feed-url while harvesting (the stack's feed server serves the city)")
    args = parser.parse_args()

    folder = args.province or CITY
    manifest = json.loads((folder / "departments.json").read_text(encoding="utf-8"))
    place = manifest.get("city") or manifest["province"]
    ckan = portal(args.portal, args.token_file)
    server = serve(folder, args.feed_url) if args.serve else None
    try:
        stages = register(ckan, manifest, args.feed_url)
        print(f"Harvesting {len(manifest['departments'])} departments of {place['zh']} ({place['en']}) "
              f"from {args.feed_url} …", flush=True)
        reports = harvest_in_order(ckan, stages, args.parallel, args.admin_url)
    finally:
        if server:
            server.shutdown()
    # The service standards (the data office's and departments' own), set as often as
    # the demo is loaded: a standard for the same KPI and level is replaced.
    standards = json.loads((folder / "standards.json").read_text(encoding="utf-8"))
    ckan.action.govservice_standards_set(standards=standards)
    print(f"Set {len(standards)} service standards from {folder / 'standards.json'}", flush=True)
    return 1 if any(r["status"] == "failed" for r in reports.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
