#!/usr/bin/env python3
"""Serving and indexing at province scale (issue 13, items 4 and 5), in one
process against a bench site (not the test site, not the portal):

    .venv/bin/python bench/serving_bench.py --ini var/bench-4.ini grow --to 100000
    .venv/bin/python bench/serving_bench.py --ini var/bench-4.ini statistics --months 18
    .venv/bin/python bench/serving_bench.py --ini var/bench-4.ini rebuild [--workers 2]
    .venv/bin/python bench/serving_bench.py --ini var/bench-4.ini index [--sample 2000] [--all]
    .venv/bin/python bench/serving_bench.py --ini var/bench-4.ini serve [--requests 60]
    .venv/bin/python bench/serving_bench.py --ini var/bench-4.ini department [--requests 15]
    .venv/bin/python bench/serving_bench.py --ini var/bench-4.ini files
    .venv/bin/python bench/serving_bench.py --ini var/bench-4.ini shrink

Each measuring subcommand (rebuild, index, serve, files) keeps what it printed
as its own section of bench/results/serving.md (bench/record.py; a section
is replaced by the next run of its subcommand, the others stay), with the
load average before and after: the machine's 2 CPUs are shared with other
engineers' test runs, so every wall-clock figure is an upper bound.

``grow`` loads services for MEASURING READS only: it copies the site's own
services (harvested through CKAN, so valid) in SQL, each copy with its own id,
name, service code and implementation code, owned by the same department (the
``member`` rows too), until the site holds ``--to`` services; no activity is
written and nothing is validated again (it is the read side that is measured).
``shrink`` deletes the copies (their names end ``-pNNNNN``) and their Solr
documents.

``statistics`` gives every service ``--months`` months x 6 channels of
statistics (18 x 6 = 108 rows a service: 10.8 million at 100,000 services)
THROUGH THE LOADER'S PATH: the copies are first put into the KPI engine's
catalogue of services in SQL (as ``sync_services`` would from their package
dicts: the original's row with the copy's code, id and name), then each
department's rows are one CSV given to ``statistics_store.load`` (COPY into
staging, every rule in SQL, merge, KPI sums) followed by the services'
12-month summaries, as ``govservice_statistics_load`` runs them.

``rebuild`` runs ``ckan govservice search-index-rebuild --type service
--workers N`` over every service and prints wall time, services/s, the CPU of
its processes and the largest peak RSS among them.

``index`` times CKAN's own indexer (``ckan.lib.search.rebuild`` with
``defer_commit``, what ``ckan search-index rebuild -e`` runs) over ``--sample``
services and prints services/s and where the time goes (cProfile, cumulative,
the extension's own functions and CKAN's package_show); ``--all`` rebuilds
the whole site instead. Then, on the same ids without the profiler: CKAN's
rebuild (the baseline), our batched rebuild without the batch's performance
prefetch, and with it.

``serve`` times, in process and one at a time (no HTTP server, no
parallelism): package_search of the service catalogue with every service facet
(the words of bench/search_bench.py), a service page (the Flask test client),
the platform dashboard (/performance/), the league table action and the
standardisation score; it prints p50/p95 in ms against a baseline measured in
the same run: package_search of the same words without facets.

``department`` times the largest department's dashboard: pages of its
services as served now, against the whole list on one page (as before the
services table was paged), in the same run.

``files`` writes the platform's bulk files (CSV, JSON, XLSX) of every service
in the index, read and written streamed as the rebuild does (not uploaded), by
the writer of commit ``FILES_BASELINE`` (openpyxl's write-only XLSX; the
baseline) and by today's, each in a process of its own (``files-one``) so each
peak RSS is its own, one after the other on the same index; then today's over
the first tenth of the services (peak RSS must not follow the catalogue's
size). It prints seconds, CPU, services/s and peak RSS of each, and whether
the two writers' CSV and JSON are the same bytes and their XLSX the same
cells (its first ``FILES_COMPARED_ROWS`` rows).
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import io
import os
import pstats
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import record  # noqa: E402
from search_bench import WORDS  # noqa: E402
from statistics_bench import CHANNELS, COLUMNS, row  # noqa: E402

COPY = "-p"
SECTIONS = ("statistics", "rebuild", "index", "serve", "files")   # their order in bench/results/serving.md


def load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


@contextlib.contextmanager
def kept(section: str):
    """Print as usual; keep what was printed as ``section`` of bench/results/serving.md
    (the other sections stay as their last runs left them), with the load
    average before and after."""
    before = load()
    out = io.StringIO()

    class Tee(io.TextIOBase):
        def write(self, text: str) -> int:
            sys.__stdout__.write(text)
            return out.write(text)

    with contextlib.redirect_stdout(Tee()):
        print(f"load average (1/5/15 min) before: {before} (2 CPUs, shared with other engineers' "
              "test runs: wall figures are upper bounds)")
        yield
        print(f"load average after: {load()}")
    path = record.RESULTS / "serving.md"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    parts = {m.group(1): m.group(2).strip("\n") for m in re.finditer(
        r"<!-- serving:(\w+) -->\n(.*?)<!-- /serving:\1 -->", old, re.DOTALL)}
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    parts[section] = f"*{' '.join(sys.argv[1:])}*, {stamp}\n\n" + out.getvalue().strip("\n")
    record.save("serving", "\n\n".join(f"<!-- serving:{k} -->\n{parts[k]}\n<!-- /serving:{k} -->"
                                        for k in SECTIONS if k in parts))
    print(f"(kept as section {section} of bench/results/serving.md)")


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


def copies() -> tuple[list[str], list[str]]:
    """The copies' name endings on the site (``-p00001`` …), and the ids of the
    originals (the active services that are not copies)."""
    import sqlalchemy as sa

    import ckan.model as model
    suffixes = [r[0] for r in model.Session.execute(sa.text(
        f"SELECT DISTINCT substring(name from '{COPY}[0-9]{{5}}$') AS k FROM package "
        f"WHERE type = 'service' AND name ~ '{COPY}[0-9]{{5}}$' ORDER BY k"))]
    originals = [r[0] for r in model.Session.execute(sa.text(
        f"SELECT id FROM package WHERE type = 'service' AND state = 'active' AND name !~ '{COPY}[0-9]{{5}}$'"))]
    return suffixes, originals


def register_copies(conn, suffixes: list[str], originals: list[str]) -> int:
    """Put the copies into the KPI engine's catalogue of services: each
    original's row with the copy's code, package id and name (what
    ``sync_services`` writes from the copy's package dict, which differs from
    its original's only in those)."""
    import sqlalchemy as sa

    from ckanext.govservice.statistics_store import SCHEMA
    columns = [r[0] for r in conn.execute(sa.text(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = :s AND table_name = 'service' "
        "ORDER BY ordinal_position"), {"s": SCHEMA})]
    changed = {"service_code": "service_code || :k", "package_id": "md5(package_id || :k)::uuid::text",
               "name": "left(name, 93) || :k"}
    added = 0
    for k in suffixes:
        added += conn.execute(sa.text(f"""
            INSERT INTO {SCHEMA}.service ({", ".join(columns)})
            SELECT {", ".join(changed.get(c, c) for c in columns)} FROM {SCHEMA}.service
            WHERE package_id = ANY(:originals)
            ON CONFLICT DO NOTHING"""), {"k": k, "originals": originals}).rowcount
    return added


def statistic_row(code: str, s: int, period: str, c: int) -> list:
    """statistics_bench's valid row (its figures varying with the service, month
    and channel) for this service and month."""
    values = row(s, int(period[5:]), c)
    values[:2] = [code, period]
    return values


def adopt_platform_datasets() -> int:
    """The bench site is a copy of the portal's database, so the platform's own
    datasets (service-statistics…) were created by the portal's site user, not
    this site's, and the publishing code rightly will not write into or read
    them as the platform's (publishing.is_ours): give them to this site's user."""
    import sqlalchemy as sa

    import ckan.model as model
    import ckan.plugins.toolkit as tk
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    portal_user = "govservice"   # the demo portal's site id, whose databases were copied
    changed = [r[0] for r in model.Session.execute(sa.text("""
        UPDATE package SET creator_user_id = :mine
        WHERE creator_user_id = (SELECT id FROM "user" WHERE name = :portal) AND :portal <> :me
        RETURNING id"""), {"mine": site_user["id"], "portal": portal_user, "me": site_user["name"]})]
    model.Session.commit()
    from ckan.lib.search import commit, rebuild   # package_show answers from the index's copy
    for package_id in changed:
        rebuild(package_id=package_id, defer_commit=True)
    commit()
    return len(changed)


def load_statistics(months: int) -> None:
    import sqlalchemy as sa

    from ckanext.govservice import publishing, statistics_publish
    from ckanext.govservice import statistics_store as store
    from ckanext.govservice.core import kpis as stats
    current = stats.current_period()
    periods = [stats.shift_period(current, -k) for k in range(months, 0, -1)]
    adopted = adopt_platform_datasets()
    table = statistics_publish.statistics_table(publishing.site_context())
    print(f"{adopted} of the portal's platform datasets given to this site's user")
    with store.engine().begin() as conn:
        added = register_copies(conn, *copies())
        departments = [r[0] for r in conn.execute(sa.text(
            f"SELECT department FROM {store.SCHEMA}.service WHERE status = 'active' "
            "GROUP BY department ORDER BY department"))]
    print(f"{added} copies put into the KPI engine's catalogue; {len(departments)} departments; "
          f"{months} months ({periods[0]}..{periods[-1]}) x {len(CHANNELS)} channels a service")
    loaded = rejected = 0
    generating = loading = 0.0
    stages: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="serving-bench-") as tmp:
        for department in departments:
            started = time.perf_counter()
            with store.engine().connect() as conn:
                codes = [r[0] for r in conn.execute(sa.text(
                    f"SELECT service_code FROM {store.SCHEMA}.service WHERE department = :d AND status = 'active' "
                    "ORDER BY service_code"), {"d": department})]
            path = Path(tmp) / "rows.csv"
            with open(path, "w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(COLUMNS)
                for s, code in enumerate(codes):
                    for period in periods:
                        for c in range(len(CHANNELS)):
                            writer.writerow(statistic_row(code, s, period, c))
            generating += time.perf_counter() - started
            started = time.perf_counter()
            with store.engine().begin() as conn, open(path, "rb") as body:
                headers = body.readline().decode().strip().split(",")
                report = store.load(conn, table, department, headers, body, current)
                store.refresh_summaries(conn, store.affected_services(conn))
            loading += time.perf_counter() - started
            for k, v in report["seconds"].items():
                stages[k] = stages.get(k, 0) + v
            loaded += report["inserted"] + report["updated"] + report.get("unchanged", 0)
            rejected += report["rejected"]
            print(f"  {department}: {len(codes)} services, {report['inserted']} inserted, "
                  f"{report['updated']} updated, {report['rejected']} rejected; {time.perf_counter() - started:.1f} s")
    with store.engine().connect() as conn:
        rows = conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar()
        service_months = conn.execute(sa.text(f"SELECT count(*) FROM {store.SCHEMA}.service_month")).scalar()
        summaries = conn.execute(sa.text(f"SELECT count(*) FROM {store.SCHEMA}.service_summary")).scalar()
    print(f"\nthrough statistics_store.load (+ the summaries), per department: {loaded:,} rows in "
          f"{loading:.0f} s ({loaded / max(loading, 0.001):,.0f} rows/s), {rejected} rejected; "
          f"CSV written in {generating:.0f} s; stages: "
          + ", ".join(f"{k} {v:.0f} s" for k, v in stages.items())
          + f"\nthe statistics table now holds {rows:,} rows; {service_months:,} service-months in the KPI sums; "
          f"{summaries:,} services with a 12-month summary")


def rebuild_all(ini: str, workers: int, batch: int, fraction: int = 1) -> None:
    """``ckan govservice search-index-rebuild --type service --workers N``, all
    services; with ``fraction`` F > 1, the N worker processes that command
    starts (``--part k/N``), each over every (N·F)-th service instead: 1/F of
    the services, as the whole command would do them, then one commit."""
    import json

    import sqlalchemy as sa

    import ckan.model as model
    services = model.Session.execute(sa.text(
        "SELECT count(*) FROM package WHERE type = 'service' AND state <> 'deleted'")).scalar()
    model.Session.remove()
    command = [str(Path(sys.executable).with_name("ckan")), "-c", ini, "govservice", "search-index-rebuild",
               "--type", "service", "--workers", str(workers), "--batch", str(batch)]
    log_path = ROOT / "var" / "serving-rebuild.log"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with open(log_path, "w") as log:
        if fraction == 1:
            done = subprocess.run(command, stdout=subprocess.PIPE, stderr=log, text=True, check=False)
            report = json.loads((done.stdout.strip().splitlines() or ["{}"])[-1] or "{}")
        else:
            part = [*command[:command.index("--workers")], "--batch", str(batch), "--no-commit"]
            children = [subprocess.Popen([*part, "--part", f"{k}/{workers * fraction}"], stdout=subprocess.PIPE,
                                         stderr=log, text=True) for k in range(workers)]
            reports = [json.loads(c.communicate()[0].strip().splitlines()[-1]) for c in children]
            from ckan.lib.search import commit
            commit()
            done = subprocess.CompletedProcess(part, max(c.returncode for c in children))
            report = {"indexed": sum(r["indexed"] for r in reports), "failed": sum(len(r["failed"]) for r in reports)}
            command = [*part[:-1], f"(--part 0/{workers * fraction} … {workers - 1}/{workers * fraction}, "
                       f"{workers} processes)"]
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    print(f"`{' '.join(['ckan', *command[1:]])}` over {services:,} services"
          + (f" (1/{fraction} of them)" if fraction > 1 else "") + f", progress in var/{log_path.name}:\n\n"
          "| measure | value | target |\n| --- | ---: | ---: |\n"
          f"| wall | {wall:.0f} s ({wall / 60:.1f} min) | ≤ 15 min at 100,000 |\n"
          f"| services/s | {report.get('indexed', 0) / wall:.1f} | ≥ 111 |\n"
          f"| indexed / failed | {report.get('indexed')} / {report.get('failed')} | |\n"
          f"| CPU of the command's processes (user + system) | {cpu:.0f} s "
          f"({cpu / max(report.get('indexed') or 1, 1) * 1000:.1f} ms a service) | |\n"
          f"| largest peak RSS among them | {after.ru_maxrss / 1024:.0f} MB | |\n"
          f"exit status {done.returncode}; at this rate 100,000 services take "
          f"{100000 / max(report.get('indexed', 0) / wall, 0.001) / 60:.1f} min")


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
              "judge_summary", "add", "_catalogues", "managed_synonyms", "of", "performances")
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
    from ckanext.govservice import search_rebuild, statistics_publish
    prefetch = statistics_publish.performance_prefetched
    statistics_publish.performance_prefetched = lambda services: contextlib.nullcontext()
    try:
        unbatched = search_rebuild.rebuild(ids)
    finally:
        statistics_publish.performance_prefetched = prefetch
    report = search_rebuild.rebuild(ids)
    print(f"\nthe same {len(ids)} services, one process each, no profiler, in this order:\n"
          f"| indexer | seconds | services/s | ratio to the baseline |\n| --- | ---: | ---: | ---: |\n"
          f"| CKAN's rebuild (a request per dataset), the baseline | {plain:.1f} | {len(ids) / plain:.1f} | 1.00 |\n"
          f"| `ckan govservice search-index-rebuild` (batches of {search_rebuild.BATCH}), each service's "
          f"performance summary read in its package_show | {unbatched['seconds']} | "
          f"{len(ids) / unbatched['seconds']:.1f} | {plain / unbatched['seconds']:.2f} |\n"
          f"| the same, a batch's summaries read once (now) | {report['seconds']} | "
          f"{len(ids) / report['seconds']:.1f} | {plain / report['seconds']:.2f} |")


def timed(fn, n: int) -> tuple[list[float], list[float]]:
    """Wall and this process's CPU seconds of each of n calls (after one to warm
    caches and connections); the CPU leaves out PostgreSQL's and Solr's."""
    fn(0)
    wall, cpu = [], []
    for i in range(n):
        started, used = time.perf_counter(), time.process_time()
        fn(i)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    return wall, cpu


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

    from ckanext.govservice import helpers, item_compare, publishing, statistics_publish
    from ckanext.govservice import statistics_store as store
    facets = list(helpers.service_facets())     # what the service search page asks for
    with store.engine().connect() as conn:
        rows = conn.execute(sa.text(
            f'SELECT count(*) FROM "{statistics_publish.statistics_table(publishing.site_context())}"')).scalar()
    cases = [
        ("package_search, no facets (baseline)", search([])),
        (f"package_search, every service facet ({len(facets)})", search(facets)),
        ("service page /service/<name>", page(lambda i: f"/service/{names[i % len(names)]}")),
        ("platform dashboard /performance/", page(lambda i: "/performance/")),
        ("govservice_league_table", lambda i: tk.get_action("govservice_league_table")({"ignore_auth": True}, {})),
        ("standardisation score (index)", lambda i: item_compare.standardisation()),
    ]
    print(f"{count:,} services in the index, {rows:,} statistics rows; {requests} requests each "
          "(dashboard and league table a third as many), one at a time, in process\n")
    print("| what | p50 ms | p95 ms | p95 / baseline p95 | our process's CPU p50 / p95 ms |\n"
          "| --- | ---: | ---: | ---: | ---: |")
    base = None
    for label, fn in cases:
        n = requests if "dashboard" not in label and "league" not in label else max(10, requests // 3)
        took, cpu = timed(fn, n)
        base = base or p(took, 0.95)
        print(f"| {label} | {p(took, 0.5):.0f} | {p(took, 0.95):.0f} | {p(took, 0.95) / base:.1f} | "
              f"{p(cpu, 0.5):.0f} / {p(cpu, 0.95):.0f} |")
    started = time.perf_counter()
    item_compare.counted_standardisation()
    print(f"\nthe standardisation score counted from the database (the old way): "
          f"{(time.perf_counter() - started) * 1000:.0f} ms")


def department(app, requests: int) -> None:
    """The largest department's dashboard, a page of its services (today) against
    the whole list judged and rendered at once (as before it was paged: the
    page size set past the department's size), in the same run."""
    import sqlalchemy as sa

    import ckan.model as model
    from ckanext.govservice import performance_pages
    client = app.test_client() if hasattr(app, "test_client") else app._wsgi_app.test_client()
    name, services = model.Session.execute(sa.text(
        "SELECT g.name, count(*) FROM package p JOIN \"group\" g ON g.id = p.owner_org "
        "WHERE p.type = 'service' AND p.state = 'active' GROUP BY g.name ORDER BY count(*) DESC LIMIT 1")).one()
    model.Session.remove()

    def page(i):
        r = client.get(f"/performance/{name}?page={1 + i % 3}")
        assert r.status_code == 200, r.status_code
    paged = timed(page, requests)
    per_page = performance_pages.SERVICES_PER_PAGE
    performance_pages.SERVICES_PER_PAGE = 10 ** 9
    try:
        whole = timed(page, 1)
    finally:
        performance_pages.SERVICES_PER_PAGE = per_page
    print(f"/performance/{name}: {services:,} services; pages 1-3 of {per_page} services, {requests} requests, "
          "one at a time, in process; then the whole list once (the page size set past the department's size, "
          "as the page was before it was paged)\n")
    print("| what | p50 ms | p95 ms | our process's CPU p50 / p95 ms |\n| --- | ---: | ---: | ---: |")
    for label, (took, cpu) in ((f"a page of {per_page} services (now)", paged),
                               (f"all {services:,} services on one page (before)", whole)):
        print(f"| {label} | {p(took, 0.5):.0f} | {p(took, 0.95):.0f} | {p(cpu, 0.5):.0f} / {p(cpu, 0.95):.0f} |")


# The writer the ``files`` subcommand measures against: the last commit whose
# catalogue files went through openpyxl's write-only workbook.
FILES_BASELINE = "580159e"
FILES_GENERATED_AT = "2026-01-01T00:00:00+00:00"   # the same in both writers' JSON, so it compares byte for byte
FILES_COMPARED_ROWS = 2000                         # XLSX rows compared cell for cell (openpyxl reads slowly)


def _module_at(commit: str, path: str, name: str):
    """A module of the extension as it was at ``commit``, imported under ``name``
    inside the same package (its relative imports find today's siblings)."""
    import importlib.util
    source = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location(name, f.name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    os.unlink(f.name)
    return module


def _memory_mb(key: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (the peak) of this process, from /proc: unlike
    getrusage's peak, which Linux carries over from the parent across fork and
    exec, they are this process's own."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(key)


def files_one(writer: str, out: str, limit: int | None) -> None:
    """One writer's run (a process of its own, so its peak RSS is its own): the
    platform's services read as the rebuild reads them and written streamed.
    Prints one JSON line."""
    import itertools
    import json

    from ckanext.govservice import catalogue_publish
    from ckanext.govservice.core import tabular
    from ckanext.govservice.publishing import site_context
    if writer == "baseline":
        tabular = _module_at(FILES_BASELINE, "ckanext-govservice/ckanext/govservice/core/tabular.py",
                             "ckanext.govservice.core._tabular_baseline")
        catalogue_publish = _module_at(FILES_BASELINE, "ckanext-govservice/ckanext/govservice/catalogue_publish.py",
                                       "ckanext.govservice._catalogue_publish_baseline")
    paths = {k: Path(out) / f"{writer}.{k}" for k in ("csv", "json", "xlsx")}
    at_start = _memory_mb("VmRSS")
    cpu = time.process_time()
    started = time.perf_counter()
    services = catalogue_publish.iter_public_services(site_context())
    count = tabular.write_files(itertools.islice(services, limit) if limit else services, paths,
                                generated_at=FILES_GENERATED_AT)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    # what storing them adds: CKAN's uploader copies each file into the storage
    # path a megabyte at a time (ckan.lib.uploader._copy_file); the bench site's
    # own catalogue datasets are not written
    started = time.perf_counter()
    for kind, path in paths.items():
        with open(path, "rb") as source, open(Path(out) / f"stored-{writer}.{kind}", "wb") as stored:
            while chunk := source.read(2**20):
                stored.write(chunk)
        (Path(out) / f"stored-{writer}.{kind}").unlink()
    print(json.dumps({"count": count, "seconds": seconds, "cpu": cpu, "copied": time.perf_counter() - started,
                      "rss_at_start": at_start, "peak_rss": _memory_mb("VmHWM"),
                      "mb": {k: p.stat().st_size / 2**20 for k, p in paths.items()}}))


def files(ini: str, tenth: bool = True) -> None:
    """The platform's three files written by the baseline writer and by today's,
    each in its own process on the same index one after the other; then today's
    over a tenth of the catalogue (peak RSS should not follow the size); then
    the two writers' files compared."""
    import filecmp
    import json

    import openpyxl

    from ckanext.govservice.catalogue_publish import PAGE_SIZE

    def run(writer: str, out: str, limit: int | None = None) -> dict:
        command = [sys.executable, __file__, "--ini", str(Path(ini).resolve()),
                   "files-one", "--writer", writer, "--out", out]
        done = subprocess.run(command + (["--limit", str(limit)] if limit else []), cwd=ROOT,
                              check=True, capture_output=True, text=True)
        return json.loads(done.stdout.strip().splitlines()[-1])

    def xlsx_rows(path: Path) -> list[list]:
        book = openpyxl.load_workbook(path, read_only=True)
        rows = []
        for row in book["services"].iter_rows(values_only=True):
            rows.append(list(row))
            if len(rows) > FILES_COMPARED_ROWS:
                break
        book.close()
        width = max(len(r) for r in rows)
        return [r + [None] * (width - len(r)) for r in rows]

    with tempfile.TemporaryDirectory(prefix="files-bench-") as tmp:
        # today's writer first: it meets the colder caches, so its lead is not the caches'
        current = run("current", tmp)
        runs = {"baseline": run("baseline", tmp), "current": current}
        count = runs["current"]["count"]
        same = {k: filecmp.cmp(Path(tmp) / f"baseline.{k}", Path(tmp) / f"current.{k}", shallow=False)
                for k in ("csv", "json")}
        same_xlsx = xlsx_rows(Path(tmp) / "baseline.xlsx") == xlsx_rows(Path(tmp) / "current.xlsx")
        if tenth:      # after the comparison: it writes over today's files
            runs["a tenth"] = run("current", tmp, max(1, count // 10))
    names = {"baseline": f"before: commit {FILES_BASELINE} (openpyxl write-only XLSX), the baseline",
             "current": "now: XLSX written by hand, CSV rows built directly, the next page read ahead, "
                        "package dicts decoded once",
             "a tenth": "now, the first tenth of the services"}
    print(f"platform files of {count:,} services, read from the index a page of "
          f"{PAGE_SIZE} at a time and written streamed (not uploaded); each writer in its own process, one after "
          "the other on the same index, today's first; sizes "
          + ", ".join(f"{k.upper()} {runs['baseline']['mb'][k]:.0f} → {runs['current']['mb'][k]:.0f} MB"
                      for k in ("csv", "json", "xlsx")) + ":\n")
    print("| writer | services | seconds | services/s | CPU s of its process | peak RSS | RSS before writing "
          "| time a service / baseline |\n"
          "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key, r in runs.items():
        print(f"| {names[key]} | {r['count']:,} | {r['seconds']:.1f} | {r['count'] / r['seconds']:.0f} | "
              f"{r['cpu']:.1f} | {r['peak_rss']:.0f} MB | {r['rss_at_start']:.0f} MB | "
              f"{r['seconds'] / runs['baseline']['seconds'] * (runs['baseline']['count'] / r['count']):.2f} |")
    print(f"\nCSV byte for byte the baseline's: {same['csv']}; JSON: {same['json']}; "
          f"XLSX's first {FILES_COMPARED_ROWS:,} rows cell for cell: {same_xlsx}. "
          f"At this rate 100,000 services take {100_000 / (count / runs['current']['seconds']):.0f} s (target ≤ 60 s); "
          f"storing them adds the uploader's copy of the three files, {runs['current']['copied']:.1f} s here "
          "(plus three resource_patch calls, not run on the bench site).")


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
    sub.add_parser("department").add_argument("--requests", type=int, default=15)
    sub.add_parser("files").add_argument("--no-tenth", action="store_true",
                                         help="skip the run over a tenth of the services")
    one = sub.add_parser("files-one", help="(used by files) one writer's run, in its own process")
    one.add_argument("--writer", choices=("baseline", "current"), required=True)
    one.add_argument("--out", required=True)
    one.add_argument("--limit", type=int)
    sub.add_parser("statistics").add_argument("--months", type=int, default=18)
    rb = sub.add_parser("rebuild")
    rb.add_argument("--workers", type=int, default=2)
    rb.add_argument("--batch", type=int, default=250)
    rb.add_argument("--fraction", type=int, default=1, help="index 1/F of the services (F > 1: a sample)")
    args = parser.parse_args()
    app = setup(args.ini)
    print(f"load average at start: {load()} (2 CPUs)")
    if args.what == "grow":
        grow(args.to)
    elif args.what == "shrink":
        shrink()
    elif args.what == "statistics":
        with kept("statistics"):
            load_statistics(args.months)
    elif args.what == "rebuild":
        with kept("rebuild"):
            rebuild_all(args.ini, args.workers, args.batch, args.fraction)
    elif args.what == "index":
        with kept("index"):
            index(args.sample, args.all)
    elif args.what == "serve":
        with kept("serve"):
            serve(app, args.requests)
    elif args.what == "department":
        with kept("department"):
            department(app, args.requests)
    elif args.what == "files-one":
        files_one(args.writer, args.out, args.limit)
    else:
        with kept("files"):
            files(args.ini, tenth=not args.no_tenth)


if __name__ == "__main__":
    main()
