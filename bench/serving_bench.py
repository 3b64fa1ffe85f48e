#!/usr/bin/env python3
"""Serving and indexing at province scale (issue 13, items 4 and 5), in one
process against a bench site (not the test site, not the portal):

    .venv/bin/python bench/serving_bench.py --ini var/bench-4.ini grow --to 20000
    .venv/bin/python bench/serving_bench.py --ini var/bench-4.ini index [--sample 2000] [--all]
    .venv/bin/python bench/serving_bench.py --ini var/bench-4.ini serve [--requests 60]
    .venv/bin/python bench/serving_bench.py --ini var/bench-4.ini files
    .venv/bin/python bench/serving_bench.py --ini var/bench-4.ini shrink

``grow`` loads services for MEASURING READS only: it copies the site's own
services (harvested through CKAN, so valid) in SQL, each copy with its own id,
name, service code and implementation code, owned by the same department (the
``member`` rows too), until the site holds ``--to`` services; no activity is
written and nothing is validated again (it is the read side that is measured).
``shrink`` deletes the copies (their names end ``-pNNNNN``) and their Solr
documents.

``index`` times CKAN's own indexer (``ckan.lib.search.rebuild`` with
``defer_commit``, what ``ckan search-index rebuild -e`` runs) over ``--sample``
services and prints services/s and where the time goes (cProfile, cumulative,
the extension's own functions and CKAN's package_show); ``--all`` rebuilds
the whole site instead (the figure issue 13 asks for).

``serve`` times, in process and one at a time (no HTTP server, no
parallelism): package_search of the service catalogue with every service facet
(the words of bench/search_bench.py), a service page (the Flask test client),
the platform dashboard (/performance/), the league table action and the
standardisation score; it prints p50/p95 in ms against a baseline measured in
the same run: package_search of the same words without facets.

``files`` rebuilds the platform's bulk files (CSV, JSON, XLSX) and prints the
time and the process's peak RSS before and after.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from search_bench import FACETS, WORDS  # noqa: E402

COPY = "-p"


def setup(ini: str):
    from ckan.cli import load_config
    from ckan.config.middleware import make_app
    app = make_app(load_config(ini))
    ctx = app._wsgi_app.test_request_context()
    ctx.push()
    return app


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


def grow(to: int) -> None:
    import sqlalchemy as sa

    import ckan.model as model
    have = model.Session.execute(sa.text(
        "SELECT count(*) FROM package WHERE type = 'service' AND state = 'active'")).scalar()
    originals = model.Session.execute(sa.text(
        f"SELECT count(*) FROM package WHERE type = 'service' AND state = 'active' AND name !~ '{COPY}[0-9]{{5}}$'"
    )).scalar()
    start = model.Session.execute(sa.text(
        f"SELECT coalesce(max(substring(name from '{COPY}([0-9]{{5}})$')::int), 0) FROM package "
        "WHERE type = 'service'")).scalar()
    rounds = max(0, -(-(to - have) // originals))
    started = time.perf_counter()
    for k in range(start + 1, start + 1 + rounds):
        suffix = f"{COPY}{k:05d}"
        model.Session.execute(sa.text(f"""
            WITH copied AS (
              INSERT INTO package (id, name, title, version, url, notes, author, author_email, maintainer,
                                   maintainer_email, state, license_id, type, owner_org, private,
                                   metadata_modified, creator_user_id, metadata_created, plugin_data, extras)
              SELECT md5(id || :suffix)::uuid::text, left(name, 93) || :suffix, title, version, url, notes,
                     author, author_email, maintainer, maintainer_email, state, license_id, type, owner_org,
                     private, metadata_modified, creator_user_id, metadata_created, plugin_data,
                     extras || jsonb_strip_nulls(jsonb_build_object(
                        'service_code', (extras->>'service_code') || :suffix,
                        'implementation_code', (extras->>'implementation_code') || :suffix))
              FROM package WHERE type = 'service' AND state = 'active' AND name !~ '{COPY}[0-9]{{5}}$'
              RETURNING id, owner_org)
            INSERT INTO member (id, table_id, group_id, state, table_name, capacity)
            SELECT md5(id || 'member')::uuid::text, id, owner_org, 'active', 'package', 'organization'
            FROM copied WHERE owner_org IS NOT NULL"""), {"suffix": suffix})
    model.Session.commit()
    now = model.Session.execute(sa.text(
        "SELECT count(*) FROM package WHERE type = 'service' AND state = 'active'")).scalar()
    print(f"services: {have} -> {now} ({rounds} copies of {originals}) in {time.perf_counter() - started:.1f} s; "
          "now index them (index --all)")


def shrink() -> None:
    import sqlalchemy as sa

    import ckan.model as model
    from ckan.lib.search.common import make_connection
    ids = [r[0] for r in model.Session.execute(sa.text(
        f"SELECT id FROM package WHERE type = 'service' AND name ~ '{COPY}[0-9]{{5}}$'"))]
    model.Session.execute(sa.text("DELETE FROM member WHERE table_id = ANY(:ids)"), {"ids": ids})
    model.Session.execute(sa.text("DELETE FROM package WHERE id = ANY(:ids)"), {"ids": ids})
    model.Session.commit()
    conn = make_connection()
    for i in range(0, len(ids), 500):
        conn.delete(q=" OR ".join(f'id:"{x}"' for x in ids[i:i + 500]), commit=False)
    conn.commit()
    print(f"deleted {len(ids)} copies")


def index(sample: int, everything: bool) -> None:
    import sqlalchemy as sa

    import ckan.model as model
    from ckan.lib.search import commit, rebuild
    ids = [r[0] for r in model.Session.execute(sa.text(
        "SELECT id FROM package WHERE type = 'service' AND state = 'active' ORDER BY id"
        + ("" if everything else " LIMIT :n")), {"n": sample})]
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for i in range(0, len(ids), 500):
        rebuild(package_ids=ids[i:i + 500], defer_commit=True, quiet=True)
    commit()
    profile.disable()
    took = time.perf_counter() - started
    print(f"indexed {len(ids)} services in {took:.1f} s: {len(ids) / took:.1f} services/s "
          f"(100,000 would take {100000 / (len(ids) / took) / 60:.1f} min at this rate)")
    stats = pstats.Stats(profile)
    wanted = ("package_show", "index_package", "before_dataset_index", "after_dataset_show",
              "service_index_fields", "service_search_fields", "index_fields", "performance",
              "judge_summary", "add", "_catalogues", "managed_synonyms", "of")
    rows = []
    for (filename, _, name), (_, _, _, cumulative, _) in stats.stats.items():
        if name in wanted and ("govservice" in filename or "ckan/" in filename or "pysolr" in filename):
            rows.append((cumulative, f"{Path(filename).parent.name}/{Path(filename).name}:{name}"))
    print("| function | s | share |\n| --- | ---: | ---: |")
    for cumulative, label in sorted(rows, reverse=True)[:14]:
        print(f"| {label} | {cumulative:.1f} | {cumulative / took:.0%} |")
    started = time.perf_counter()
    for i in range(0, len(ids), 500):
        rebuild(package_ids=ids[i:i + 500], defer_commit=True, quiet=True)
    commit()
    plain = time.perf_counter() - started
    from ckanext.govservice import search_rebuild
    report = search_rebuild.rebuild(ids)
    print(f"\nthe same {len(ids)} services, one process each, no profiler, in this order:\n"
          f"| indexer | seconds | services/s |\n| --- | ---: | ---: |\n"
          f"| CKAN's rebuild (a request per dataset), the baseline | {plain:.1f} | {len(ids) / plain:.1f} |\n"
          f"| `ckan govservice search-index-rebuild` (batches of {search_rebuild.BATCH}) | {report['seconds']} | "
          f"{len(ids) / report['seconds']:.1f} |\nratio: {plain / report['seconds']:.2f}x")


def timed(fn, n: int) -> list[float]:
    fn(0)                                   # warm: caches, connections
    out = []
    for i in range(n):
        started = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - started)
    return out


def serve(app, requests: int) -> None:
    import sqlalchemy as sa

    import ckan.model as model
    import ckan.plugins.toolkit as tk
    client = app.test_client() if hasattr(app, "test_client") else app._wsgi_app.test_client()
    names = [r[0] for r in model.Session.execute(sa.text(
        "SELECT name FROM package WHERE type = 'service' AND state = 'active' AND NOT private "
        "ORDER BY md5(name) LIMIT :n"), {"n": requests + 1})]
    count = tk.get_action("package_search")({"ignore_auth": True}, {"fq": "+dataset_type:service", "rows": 0})["count"]

    def search(facets):
        def run(i):
            tk.get_action("package_search")({"ignore_auth": True}, {
                "q": WORDS[i % len(WORDS)], "fq": "+dataset_type:service", "rows": 20,
                "facet.field": facets, "facet.limit": 50})
        return run

    def page(path_of):
        def run(i):
            r = client.get(path_of(i))
            assert r.status_code == 200, (path_of(i), r.status_code)
        return run

    from ckanext.govservice import item_compare
    cases = [
        ("package_search, no facets (baseline)", search([])),
        ("package_search, every service facet", search(FACETS)),
        ("service page /service/<name>", page(lambda i: f"/service/{names[i % len(names)]}")),
        ("platform dashboard /performance/", page(lambda i: "/performance/")),
        ("govservice_league_table", lambda i: tk.get_action("govservice_league_table")({"ignore_auth": True}, {})),
        ("standardisation score (index)", lambda i: item_compare.standardisation()),
    ]
    print(f"{count} services in the index; {requests} requests each, one at a time, in process\n")
    print("| what | p50 ms | p95 ms | p95 / baseline p95 |\n| --- | ---: | ---: | ---: |")
    base = None
    for label, fn in cases:
        n = requests if "dashboard" not in label and "league" not in label else max(10, requests // 3)
        took = timed(fn, n)
        base = base or p(took, 0.95)
        print(f"| {label} | {p(took, 0.5):.0f} | {p(took, 0.95):.0f} | {p(took, 0.95) / base:.1f} |")
    started = time.perf_counter()
    item_compare.counted_standardisation()
    print(f"\nthe standardisation score counted from the database (the old way): "
          f"{(time.perf_counter() - started) * 1000:.0f} ms")


def files() -> None:
    """The platform's three files written streamed, then as before (every service
    in one list first), from the same index in the same process; not uploaded
    (publishing.store_files, unchanged, then stores them as resources)."""
    import tempfile

    from ckanext.govservice import catalogue_publish
    from ckanext.govservice.core import tabular
    from ckanext.govservice.publishing import site_context
    context = site_context()
    with tempfile.TemporaryDirectory() as tmp:
        paths = {k: Path(tmp) / f"streamed.{k}" for k in ("csv", "json", "xlsx")}
        before = rss_mb()
        started = time.perf_counter()
        count = tabular.write_files(catalogue_publish.iter_public_services(context), paths)
        streamed = time.perf_counter() - started
        after_streamed = rss_mb()
        sizes = {k: p.stat().st_size // 2**20 for k, p in paths.items()}
        started = time.perf_counter()
        services = catalogue_publish.public_services(context)
        rows = [tabular.service_row(s) for s in services]
        tabular.write_csv(rows, Path(tmp) / "whole.csv")
        tabular.write_json(services, Path(tmp) / "whole.json")
        tabular.write_xlsx(rows, Path(tmp) / "whole.xlsx")
        whole = time.perf_counter() - started
        same = all((Path(tmp) / f"whole.{k}").stat().st_size == paths[k].stat().st_size for k in ("csv", "json"))
    print(f"platform files, {count} services (CSV {sizes['csv']} MB, JSON {sizes['json']} MB, "
          f"XLSX {sizes['xlsx']} MB):\n"
          f"| written | seconds | services/s | peak RSS of the process after |\n| --- | ---: | ---: | ---: |\n"
          f"| streamed (now) | {streamed:.1f} | {count / streamed:.0f} | {after_streamed:.0f} MB "
          f"(was {before:.0f} MB before) |\n"
          f"| every service in a list first (before) | {whole:.1f} | {count / whole:.0f} | {rss_mb():.0f} MB |\n"
          f"ratio streamed / before: {streamed / whole:.2f} in time; CSV and JSON of the same size: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ini", default=str(ROOT / "var" / "bench-4.ini"))
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("grow").add_argument("--to", type=int, required=True)
    sub.add_parser("shrink")
    ix = sub.add_parser("index")
    ix.add_argument("--sample", type=int, default=2000)
    ix.add_argument("--all", action="store_true")
    sub.add_parser("serve").add_argument("--requests", type=int, default=60)
    sub.add_parser("files")
    args = parser.parse_args()
    app = setup(args.ini)
    with open("/proc/loadavg") as f:
        print(f"load average at start: {f.read().split()[0]} (2 CPUs)")
    if args.what == "grow":
        grow(args.to)
    elif args.what == "shrink":
        shrink()
    elif args.what == "index":
        index(args.sample, args.all)
    elif args.what == "serve":
        serve(app, args.requests)
    else:
        files()


if __name__ == "__main__":
    main()
