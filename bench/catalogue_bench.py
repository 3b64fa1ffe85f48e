"""Bulk catalogue files and service search at 10,000 services.

    GOVSERVICE_TEST_SLOT=2 make up      # writes var/test-2.ini (or use any make test run)
    .venv/bin/python bench/catalogue_bench.py --ini var/test-2.ini [--services 10000]

Runs inside one Python process against a test-slot site (its own databases,
Solr site id and Redis database), never against the portal's ckan.ini.

Loading: package_create in a loop through the real action layer (validation,
derived fields, index hook), with ``ckan.search.solr_commit = false`` so Solr
commits on its own schedule instead of after every dataset, and with
``ckanext.govservice.catalogue.auto_rebuild = false`` so loading queues no
rebuild jobs; one Solr commit at the end. Data already loaded by an earlier
run is kept (the loader tops up to the target), so an interrupted load resumes.

Then it times (a) rebuilding the whole-platform files (CSV, JSON, XLSX, stored
as uploads) and (b) package_search with every service facet against the same
query on the same number of plain ``dataset`` datasets with CKAN's default
facets, and prints the ratio.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import record

ROOT = Path(__file__).resolve().parent.parent

DEPARTMENTS = 10
WORDS = ["营业执照", "许可", "登记", "证明", "business", "licence", "补贴", "备案", "审批", "户籍"]
PLAIN_FACETS = ["organization", "groups", "tags", "res_format", "license_id"]


def setup(ini: str):
    from ckan.cli import load_config
    from ckan.config.middleware import make_app
    app = make_app(load_config(ini))
    ctx = app._wsgi_app.test_request_context()
    ctx.push()
    import ckan.plugins.toolkit as tk
    tk.config["ckan.search.solr_commit"] = False
    tk.config["ckanext.govservice.catalogue.auto_rebuild"] = False
    return tk


def site_context(tk) -> dict:
    return {"user": tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"], "ignore_auth": True}


def count(tk, dataset_type: str) -> int:
    return tk.get_action("package_search")({"ignore_auth": True}, {
        "fq": f"dataset_type:{dataset_type} AND organization:bench-dept-*", "rows": 0,
        "include_private": True})["count"]


def departments(tk) -> list[dict]:
    out = []
    for i in range(DEPARTMENTS):
        name = f"bench-dept-{i:02d}"
        try:
            out.append(tk.get_action("organization_show")(site_context(tk), {"id": name}))
        except tk.ObjectNotFound:
            out.append(tk.get_action("organization_create")(site_context(tk), {
                "name": name, "title": f"滨江市第{i}局", "title_en": f"Binjiang Bureau {i}",
                "level": "city", "area": "滨江市"}))
    return out


def service(i: int, org: dict) -> dict:
    from ckanext.govservice.tests.factories import service_dict
    word = WORDS[i % len(WORDS)]
    return service_dict(
        org["id"], name=f"bench-svc-{i:05d}", service_code=f"BENCH-{i:05d}",
        title=f"{word}事项{i}", title_en=f"Service {i} {word}",
        themes=[["business"], ["tax", "business"], ["health"], ["transport"]][i % 4],
        in_person_visits=i % 3, committed_limit=i % 10, statutory_limit=10 + i % 10,
        status=["active", "active", "active", "suspended", "withdrawn"][i % 5])


def plain(i: int, org: dict) -> dict:
    word = WORDS[i % len(WORDS)]
    return {"type": "dataset", "name": f"bench-ds-{i:05d}", "owner_org": org["id"],
            "title": f"{word}数据集{i}", "notes": f"Plain dataset {i} about {word}.",
            "tags": [{"name": t} for t in (["open-data"], ["stats", "open-data"], ["health"])[i % 3]],
            "license_id": "cc-by"}


def load(tk, target: int, kind: str, make) -> tuple[int, float]:
    from ckan.lib import search
    orgs = departments(tk)
    have = count(tk, kind)
    started = time.perf_counter()
    context = site_context(tk)
    for i in range(have, target):
        try:
            tk.get_action("package_create")(dict(context), make(i, orgs[i % DEPARTMENTS]))
        except tk.ValidationError as e:
            if "name" not in e.error_dict:  # already there from an interrupted run
                raise
        if (i + 1) % 1000 == 0:
            search.commit()
            print(f"  {kind}: {i + 1} loaded ({time.perf_counter() - started:.0f} s)", flush=True)
    search.commit()
    return max(0, target - have), time.perf_counter() - started


def timed_search(tk, fq: str, facets: list[str], repeats: int) -> list[float]:
    times = []
    for n in range(repeats):
        params = {"q": WORDS[n % len(WORDS)], "fq": fq, "rows": 20,
                  "facet.field": facets, "facet.limit": 50}
        t = time.perf_counter()
        tk.get_action("package_search")({"ignore_auth": True}, params)
        times.append((time.perf_counter() - t) * 1000)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ini", default=str(ROOT / "var" / "test-2.ini"))
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--datasets", type=int, default=None, help="default: as many as --services")
    parser.add_argument("--repeats", type=int, default=60)
    parser.add_argument("--load-only", choices=["service", "dataset"],
                        help="only load this kind (run two of these side by side), measure nothing")
    record.add_arguments(parser)
    args = parser.parse_args()
    load_before = record.load_average()
    if Path(args.ini).resolve() == (ROOT / "ckan.ini").resolve():
        raise SystemExit("refusing to load benchmark data into the portal's ckan.ini")
    tk = setup(args.ini)
    from ckanext.govservice import catalogue_publish
    from ckanext.govservice.core import schema

    targets = {"service": (args.services, service),
               "dataset": (args.services if args.datasets is None else args.datasets, plain)}
    loaded: dict[str, str] = {}
    for kind, (target, make) in targets.items():
        if args.load_only in (None, kind):
            added, secs = load(tk, target, kind, make)
            loaded[kind] = f"+{added:,} in {secs:.0f} s" + (f" ({added / secs:.1f}/s)" if added else "")
            print(f"{kind}: {loaded[kind]}")
    if args.load_only:
        return
    n_services, n_datasets = count(tk, "service"), count(tk, "dataset")

    t = time.perf_counter()
    platform = catalogue_publish.build_platform()
    rebuild = time.perf_counter() - t
    t = time.perf_counter()
    one = catalogue_publish.build_department("bench-dept-00")
    rebuild_one = time.perf_counter() - t

    service_facets = list(schema.facet_fields().values())
    timed_search(tk, "dataset_type:service", service_facets, 10)  # warm both caches
    timed_search(tk, "dataset_type:dataset", PLAIN_FACETS, 10)
    s = timed_search(tk, "dataset_type:service", service_facets, args.repeats)
    d = timed_search(tk, "dataset_type:dataset", PLAIN_FACETS, args.repeats)
    ratio = statistics.median(s) / statistics.median(d)

    print()
    with record.summary("catalogue", load_before=load_before, note=args.machine_note) as kept:
        print(f"{DEPARTMENTS} departments; loaded by `package_create` in this process (no Solr commit per "
              f"dataset, auto-rebuild off): services {loaded.get('service', '-')}, plain datasets "
              f"{loaded.get('dataset', '-')} (+0: already there from an earlier run)\n")
        print_table(n_services, n_datasets, platform, rebuild, one, rebuild_one, service_facets, s, d, ratio,
                    args.repeats)
        kept.value("services", f"{n_services:,}")
        kept.value("rebuild", f"{rebuild:.1f} s")
        kept.value("search-ratio", f"{ratio:.2f}×")


def print_table(n_services, n_datasets, platform, rebuild, one, rebuild_one, service_facets, s, d, ratio,
                repeats):
    print("| measure | value | target |")
    print("| --- | --- | --- |")
    print(f"| services / plain datasets in the index | {n_services:,} / {n_datasets:,} | 10,000 each |")
    print(f"| rebuild platform files ({platform['count']:,} services, CSV + JSON + XLSX, uploaded) "
          f"| {rebuild:.1f} s | < 60 s |")
    print(f"| rebuild one department's files ({one['count']:,} services) "
          f"| {rebuild_one:.1f} s | |")
    print(f"| `package_search`, q = one of {len(WORDS)} words, rows 20, all {len(service_facets)} service facets, "
          f"median of {repeats} "
          f"| {statistics.median(s):.1f} ms (p90 {statistics.quantiles(s, n=10)[-1]:.1f}) | |")
    print(f"| same query on plain datasets, CKAN's {len(PLAIN_FACETS)} default facets, median of {repeats} "
          f"| {statistics.median(d):.1f} ms (p90 {statistics.quantiles(d, n=10)[-1]:.1f}) | |")
    print(f"| ratio service / plain | {ratio:.2f}× | ≤ 1.3× |")


if __name__ == "__main__":
    main()
