"""Harvesting at scale: a first harvest of 10,000 services from the reference
feed server against ``ckanapi load datasets`` of the same records, an unchanged
re-harvest, and the peak memory of reading a 100,000-record CSV.

    export GOVHARVEST_ENV_FILE=var/harvest.env     # written by make up
    .venv/bin/python bench/harvest_bench.py [--services 10000] [--big 100000]

Runs against the running portal (GOVHARVEST_CKAN_URL; or --ckan-url and
--token-file: a CKAN of its own, e.g. gunicorn on a test slot's ini, which
nobody restarts mid-run) and the harvest database (GOVHARVEST_DB_URL), in departments of its own (``bench-harvest-*``,
``bench-ckanapi-*``, ``bench-big-*``) that it purges at the end, with the
harvest sources, jobs and records it made.

1. The same N services are written as the platform's JSON feed (served by
   ``govharvest.feedserver`` over HTTP, 100 a page) and as a JSON-lines file
   of datasets. ``govharvest run --now`` and ``ckanapi load datasets -I`` start
   at the same moment, each a process of its own writing into its own
   department of the same CKAN; each is timed from start to exit, and the
   ratio ckanapi / harvest printed (> 1: the harvest is faster).
2. The source is harvested again, unchanged: once as it normally runs (the
   feed's ETag answers 304), and once with the HTTP validators cleared, so
   every page is fetched, read, normalised, hashed and compared.
3. A 100,000-row CSV (the same fields, documents and channels as JSON text)
   is harvested with ``--dry-run``: fetched, read, normalised, hashed and
   compared, nothing loaded into CKAN (100,000 real creates would take hours
   here). The peak RSS of the harvest process is its ``ru_maxrss`` from
   ``wait4``.

Benchmarks are scripts: nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import record

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

THEMES = [["business"], ["tax", "business"], ["health"], ["transport"], ["social_security"]]


def settings() -> dict[str, str]:
    env = dict(os.environ)
    path = env.get("GOVHARVEST_ENV_FILE") or str(ROOT / "var" / "harvest.env")
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            env.setdefault(key.strip(), value.strip())
    return env


def service(i: int) -> dict:
    """Service number i, as a department's feed sends it."""
    return {
        "service_code": f"HB-{i:06d}", "title": f"营业执照核发事项{i}", "title_en": f"Business licence {i}",
        "notes": "为企业办理设立登记并核发营业执照。", "service_type": "administrative_licence",
        "themes": THEMES[i % len(THEMES)], "audience": ["citizen", "business", "both"][i % 3],
        "documents": [{"name": "居民身份证", "mandatory": True, "form": "original"},
                      {"name": "公司章程", "mandatory": i % 2 == 0, "form": "copy"}],
        "statutory_limit": 20, "committed_limit": i % 10, "in_person_visits": i % 3,
        "channels": [{"channel_type": "online", "url": f"https://zwfw.example.gov.cn/s/{i}"},
                     {"channel_type": "in_person", "address": "滨江市江南大道1号",
                      "opening_hours": "周一至周五 9:00-17:00"}],
        "output_type": "licence", "output_name": "营业执照",
    }


LOGS = Path(tempfile.gettempdir()) / "harvest-bench-logs"


def run_timed(cmd: list[str], env: dict, log: str | None = None) -> dict:
    """Run a process to its end: wall seconds, exit status, peak RSS (MiB) from wait4."""
    LOGS.mkdir(exist_ok=True)
    err = open(LOGS / log, "wb") if log else subprocess.DEVNULL
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": time.perf_counter() - started, "status": proc.returncode,
            "max_rss_mib": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime}


def side_by_side(*runs) -> list[dict]:
    results: list[dict] = [{}] * len(runs)

    def go(i, args):
        results[i] = run_timed(*args)
    threads = [threading.Thread(target=go, args=(i, r)) for i, r in enumerate(runs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def delete_sources(names: list[str]) -> None:
    """The bench's harvest sources, with their jobs and records."""
    from govharvest import db
    with db.connect() as conn, conn.cursor() as cur:
        for name in names:
            cur.execute("SELECT id FROM source WHERE name = %s", (name,))
            row = cur.fetchone()
            if row:
                cur.execute("DELETE FROM job_outcome WHERE job_id IN "
                            "(SELECT id FROM job WHERE source_id = %s)", (row["id"],))
                for table in ("record", "job"):
                    cur.execute(f"DELETE FROM {table} WHERE source_id = %s", (row["id"],))
                cur.execute("DELETE FROM source WHERE id = %s", (row["id"],))


class Bench:
    def __init__(self, env: dict, folder: Path):
        import ckanapi
        from werkzeug.serving import make_server

        from govharvest import feedserver
        self.env, self.folder = env, folder
        self.token = Path(env["GOVHARVEST_CKAN_TOKEN_FILE"]).read_text().strip()
        self.ckan = ckanapi.RemoteCKAN(env["GOVHARVEST_CKAN_URL"], apikey=self.token)
        self.server = make_server("127.0.0.1", 0, feedserver.create_app(folder), threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.feed_url = f"http://127.0.0.1:{self.server.server_port}"
        env["GOVHARVEST_ALLOW_PRIVATE_HOSTS"] = "127.0.0.1"
        os.environ.update(env)      # govharvest.db reads GOVHARVEST_DB_URL
        self.tag = uuid.uuid4().hex[:6]
        self.departments: list[str] = []
        self.sources: list[str] = []

    def department(self, kind: str) -> str:
        name = f"bench-{kind}-{self.tag}"
        self.ckan.action.organization_create(name=name, title=f"采集基准 {kind}")
        self.departments.append(name)
        (self.folder / name).mkdir()
        return name

    def source(self, department: str, fmt: str, location: str) -> str:
        from govharvest import db, sources
        name = f"{department}-src"
        with db.connect() as conn:
            sources.add(conn, name=name, department=department, format=fmt, location=location)
        self.sources.append(name)
        return name

    def harvest_cmd(self, source: str, *extra: str) -> list[str]:
        return [str(VENV_BIN / "govharvest"), "run", source, "--now", *extra]

    def last_report(self, source: str) -> dict:
        from govharvest import db, pipeline
        with db.connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT max(job.id) AS id FROM job JOIN source ON source.id = job.source_id "
                        "WHERE source.name = %s", (source,))
            report = pipeline.report(conn, cur.fetchone()["id"])
        return {k: report[k] for k in ("status", "counts", "duration_s", "error")}

    def count(self, department: str) -> int:
        return self.ckan.action.package_search(fq=f"organization:{department} AND dataset_type:service",
                                               rows=0, include_private=True)["count"]

    def cleanup(self) -> None:
        delete_sources(self.sources)
        started = time.perf_counter()
        purged = 0
        with ThreadPoolExecutor(3) as pool:
            for department in self.departments:
                for _attempt in range(20):   # background catalogue jobs may add a file dataset
                    found = self.ckan.action.package_search(
                        fq=f"organization:{department}", rows=1000, include_private=True,
                        fl="id")["results"]
                    if not found:
                        try:
                            self.ckan.action.organization_purge(id=department)
                            break
                        except Exception:
                            time.sleep(3)
                            continue
                    purged += sum(pool.map(self._purge, [d["id"] for d in found]))
        print(f"cleanup: purged {purged} datasets and {len(self.departments)} departments "
              f"in {time.perf_counter() - started:.0f} s", flush=True)

    def _purge(self, dataset_id: str) -> int:
        for _attempt in range(5):
            try:
                self.ckan.action.dataset_purge(id=dataset_id)
                return 1
            except Exception:
                time.sleep(1)
        return 0


def first_and_unchanged(bench: Bench, n: int) -> dict:
    harvest_dept, ckanapi_dept = bench.department("harvest"), bench.department("ckanapi")
    services = [service(i) for i in range(n)]
    (bench.folder / harvest_dept / "services.json").write_text(
        json.dumps(services, ensure_ascii=False), encoding="utf-8")
    jsonl = bench.folder / "ckanapi.jsonl"
    with open(jsonl, "w", encoding="utf-8") as f:
        for s in services:
            f.write(json.dumps({**s, "type": "service", "owner_org": ckanapi_dept,
                                "name": f"{ckanapi_dept}-{s['service_code'].lower()}"},
                               ensure_ascii=False) + "\n")
    del services
    source = bench.source(harvest_dept, "json", f"{bench.feed_url}/feeds/{harvest_dept}/services")
    ckanapi_cmd = [str(VENV_BIN / "ckanapi"), "load", "datasets", "-q", "-I", str(jsonl),
                   "-r", bench.env["GOVHARVEST_CKAN_URL"], "-a", bench.token]
    print(f"first harvest of {n} services and ckanapi load of the same, side by side…", flush=True)
    harvest, ckanapi = side_by_side((bench.harvest_cmd(source), bench.env, "harvest.log"),
                                    (ckanapi_cmd, bench.env, "ckanapi.log"))
    first = bench.last_report(source)
    loaded = {"harvest": bench.count(harvest_dept), "ckanapi": bench.count(ckanapi_dept)}
    print(f"  harvest {harvest['seconds']:.1f} s {first['counts']}, ckanapi {ckanapi['seconds']:.1f} s "
          f"(exit {ckanapi['status']}); in CKAN: {loaded}", flush=True)

    etag = run_timed(bench.harvest_cmd(source), bench.env)
    etag_report = bench.last_report(source)
    from govharvest import db
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("UPDATE source SET last_etag = NULL, last_modified = NULL WHERE name = %s", (source,))
    full = run_timed(bench.harvest_cmd(source), bench.env)
    full_report = bench.last_report(source)
    print(f"  unchanged: {etag['seconds']:.2f} s with ETag {etag_report['counts']}, "
          f"{full['seconds']:.2f} s read and compared {full_report['counts']}", flush=True)
    return {"n": n, "harvest": harvest, "ckanapi": ckanapi, "first": first, "loaded": loaded,
            "etag": etag, "etag_report": etag_report, "full": full, "full_report": full_report}


def big_csv(bench: Bench, n: int) -> dict:
    department = bench.department("big")
    path = bench.folder / department / "services.csv"
    fields = list(service(0))
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(fields)
        for i in range(n):
            s = service(i)
            out.writerow([json.dumps(v, ensure_ascii=False) if isinstance(v, list) and v
                          and isinstance(v[0], dict) else ";".join(v) if isinstance(v, list) else v
                          for v in (s[k] for k in fields)])
    size = path.stat().st_size
    source = bench.source(department, "csv", f"{bench.feed_url}/files/{department}/services.csv")
    print(f"dry-run harvest of a {n}-row CSV ({size / 2**20:.0f} MiB)…", flush=True)
    run = run_timed(bench.harvest_cmd(source, "--dry-run"), bench.env)
    report = bench.last_report(source)
    print(f"  {run['seconds']:.1f} s, peak RSS {run['max_rss_mib']:.0f} MiB, {report['counts']}", flush=True)
    return {"n": n, "size_mib": size / 2**20, "run": run, "report": report}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=100_000, help="rows of the dry-run CSV (0: skip)")
    parser.add_argument("--skip-first", action="store_true", help="only the big CSV")
    parser.add_argument("--ckan-url", help="a CKAN of the bench's own (default: GOVHARVEST_CKAN_URL)")
    parser.add_argument("--token-file", help="a sysadmin token of that CKAN")
    record.add_arguments(parser)
    args = parser.parse_args()
    load_before = record.load_average()
    env = settings()
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"   # ckanapi load runs `ckanapi` workers by name
    if args.ckan_url:
        env["GOVHARVEST_CKAN_URL"], env["GOVHARVEST_CKAN_TOKEN_FILE"] = args.ckan_url, args.token_file
    with tempfile.TemporaryDirectory(prefix="harvest-bench-") as folder:
        bench = Bench(env, Path(folder))
        try:
            first = None if args.skip_first else first_and_unchanged(bench, args.services)
            big = big_csv(bench, args.big) if args.big else None
        finally:
            bench.cleanup()
            bench.server.shutdown()
    print()
    with record.summary("harvest", load_before=load_before, note=args.machine_note) as kept:
        print(f"Against {env['GOVHARVEST_CKAN_URL']}; the harvest writes over HTTP with "
              f"{env.get('GOVHARVEST_LOAD_WORKERS', '2')} writes in flight, `ckanapi load` with one "
              "process (-I), side by side into two departments of the same CKAN\n")
        table(first, big)
        if first:
            kept.value("ratio", f"{first['ckanapi']['seconds'] / first['harvest']['seconds']:.2f}×")
        if big:
            kept.value("big-rss", f"{big['run']['max_rss_mib']:.0f} MiB")


def table(first: dict | None, big: dict | None) -> None:
    print("| measure | value | target |")
    print("| --- | --- | --- |")
    if first:
        h, c = first["harvest"], first["ckanapi"]
        print(f"| first harvest, {first['n']} services (JSON feed, {-(-first['n'] // 100)} pages) "
              f"| {h['seconds']:.0f} s ({first['n'] / h['seconds']:.1f}/s), peak RSS "
              f"{h['max_rss_mib']:.0f} MiB, {h['cpu_s']:.0f} s CPU | |")
        print(f"| `ckanapi load datasets`, same records, side by side | {c['seconds']:.0f} s "
              f"({first['n'] / c['seconds']:.1f}/s), {c['cpu_s']:.0f} s CPU | |")
        print(f"| ratio ckanapi / harvest | {c['seconds'] / h['seconds']:.2f}x | >= 1 |")
        print(f"| in CKAN afterwards (harvest / ckanapi, exit {c['status']}) | "
              f"{first['loaded']['harvest']} / {first['loaded']['ckanapi']} | {first['n']} each |")
        for key, what in (("etag", "ETag answered 304"), ("full", "every page read and compared")):
            run, job = first[key], first[key + "_report"]["duration_s"]
            print(f"| unchanged re-harvest, {what} | process {run['seconds']:.1f} s "
                  f"({100 * run['seconds'] / h['seconds']:.1f}%), of which the job {job:.2f} s "
                  f"({100 * job / first['first']['duration_s']:.2f}% of the first job's "
                  f"{first['first']['duration_s']:.0f} s) | < 5% |")
    if big:
        print(f"| dry-run harvest of a {big['n']}-row CSV ({big['size_mib']:.0f} MiB) | "
              f"{big['run']['seconds']:.0f} s, peak RSS {big['run']['max_rss_mib']:.0f} MiB | < 500 MB |")


if __name__ == "__main__":
    main()
