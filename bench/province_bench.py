"""Province scale, first harvest: our harvest against `ckanapi load datasets` with
the same number of parallel processes, and against the floor of plain
in-process `package_create`, in one run on the same CKAN.

    .venv/bin/python bench/province_bench.py --ini var/test-3.ini \\
        --ckan-url http://127.0.0.1:5093 --token-file /tmp/bench-token \\
        [--services 400] [--processes 2] [--before FOLDER]   # GOVHARVEST_DB_URL: the harvest database

--ini is the CKAN config the in-process contenders load; --ckan-url a CKAN
served from the same config (gunicorn on it, nobody else's portal) for the
HTTP contenders, with a sysadmin's token in --token-file; GOVHARVEST_DB_URL
(or --harvest-db) the harvest database the sources and jobs go into. Departments of its own
(``bench-prov-<kind>-<k>-<tag>``); the datasets stay (a test slot's database is
emptied by its next test run), the harvest sources go.

Contenders, one after another, each with the machine to itself, each writing
the same N services (``harvest_bench.service``) split over P departments, one
process per department (P = --processes):

1. **harvest, bulk path**: P ``govharvest run --now`` processes with
   GOVHARVEST_CKAN_INI (in-process, batches of GOVHARVEST_LOAD_BATCH), each
   harvesting its department's JSON feed from ``govharvest.feedserver``;
   with ``--before FOLDER``, first the same with older code found first on
   PYTHONPATH: FOLDER holds an older ``govharvest`` package and, made by
   ``bench/before_code.py <commit> FOLDER``, the CKAN extension of the same
   commit put ahead of the installed one (so a change in ``bulk_load.py`` or
   the validators is measured too): the bulk path before and after a change,
   in one run on one CKAN;
2. **ckanapi load datasets -p P** over HTTP (P worker processes);
3. **harvest over HTTP**, P processes of ``govharvest run --now`` with their
   two writes in flight each (GOVHARVEST_LOAD_WORKERS=2), as before this issue;
4. **floor**: P processes each calling ``package_create`` in-process, one
   dataset after another, without a Solr commit per dataset (as the bulk path;
   Solr's 2 s soft commit makes them visible): what CKAN's own create costs
   without HTTP, batches or anything of ours.

Then the bulk harvest's sources again, unchanged with their HTTP validators
cleared (every page fetched, read, hashed and compared), and with 1 % of the
services changed. Wall times are from the first process's start to the last
one's exit; peak RSS is each process's ``ru_maxrss`` (the largest is shown),
CPU is the processes' own (user + system). Load average before and after is
printed: the machine is shared. Nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import record
from harvest_bench import delete_sources, service

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def run_all(cmds: list[list[str]], env: dict) -> dict:
    """Start every command at once, wait for all: wall seconds, each one's exit
    status, the largest peak RSS (MiB), the CPU seconds of all."""
    started = time.perf_counter()
    procs = [subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL, stderr=open(os.devnull, "wb")
                              if not env.get("BENCH_LOG") else open(f"{env['BENCH_LOG']}.{i}.log", "wb"))
             for i, c in enumerate(cmds)]
    statuses, rss, cpu = [], [], 0.0
    for p in procs:
        _, status, usage = os.wait4(p.pid, 0)
        statuses.append(os.waitstatus_to_exitcode(status))
        rss.append(usage.ru_maxrss / 1024)
        cpu += usage.ru_utime + usage.ru_stime
    return {"seconds": time.perf_counter() - started, "status": statuses,
            "max_rss_mib": max(rss), "cpu_s": cpu}


class Province:
    def __init__(self, args, folder: Path):
        import ckanapi
        from werkzeug.serving import make_server

        from govharvest import feedserver
        self.args, self.folder = args, folder
        self.token = Path(args.token_file).read_text().strip()
        self.ckan = ckanapi.RemoteCKAN(args.ckan_url, apikey=self.token)
        self.server = make_server("127.0.0.1", 0, feedserver.create_app(folder), threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.feed_url = f"http://127.0.0.1:{self.server.server_port}"
        self.env = {**os.environ, "GOVHARVEST_ENV_FILE": "", "GOVHARVEST_DB_URL": args.harvest_db,
                    "GOVHARVEST_CKAN_URL": args.ckan_url, "GOVHARVEST_CKAN_TOKEN": self.token,
                    "GOVHARVEST_ALLOW_PRIVATE_HOSTS": "127.0.0.1",
                    "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}"}
        os.environ.update({k: self.env[k] for k in ("GOVHARVEST_ENV_FILE", "GOVHARVEST_DB_URL")})
        self.tag = uuid.uuid4().hex[:6]
        self.sources: list[str] = []

    def departments(self, kind: str) -> list[str]:
        names = [f"bench-prov-{kind}-{k}-{self.tag}" for k in range(self.args.processes)]
        for name in names:
            self.ckan.action.organization_create(name=name, title=f"省级基准 {kind}")
        return names

    def shares(self) -> list[range]:
        n, p = self.args.services, self.args.processes
        return [range(k * n // p, (k + 1) * n // p) for k in range(p)]

    def feeds(self, kind: str, change_every: int = 0) -> list[str]:
        """A department and its JSON feed per process; returns the sources' names."""
        from govharvest import db, sources
        names = []
        for department, share in zip(self.departments(kind), self.shares()):
            (self.folder / department).mkdir()
            self.write_feed(department, share)
            name = f"{department}-src"
            with db.connect() as conn:
                sources.add(conn, name=name, department=department, format="json",
                            location=f"{self.feed_url}/feeds/{department}/services")
            self.sources.append(name)
            names.append(name)
        return names

    def write_feed(self, department: str, share: range, changed: set[int] = frozenset()) -> None:
        services = [{**service(i), **({"notes": f"办理要求已更新 {i}"} if i in changed else {})} for i in share]
        (self.folder / department / "services.json").write_text(json.dumps(services, ensure_ascii=False),
                                                                encoding="utf-8")

    def harvest(self, names: list[str], **env) -> dict:
        cmds = [[str(VENV_BIN / "govharvest"), "run", name, "--now"] for name in names]
        run = run_all(cmds, {**self.env, **env})
        run["counts"] = self.counts(names)
        return run

    def counts(self, names: list[str]) -> dict:
        from govharvest import db
        total: dict[str, int] = {}
        with db.connect() as conn, conn.cursor() as cur:
            for name in names:
                cur.execute("SELECT job.counts FROM job JOIN source ON source.id = job.source_id "
                            "WHERE source.name = %s ORDER BY job.id DESC LIMIT 1", (name,))
                for key, value in (cur.fetchone()["counts"] or {}).items():
                    if isinstance(value, int) and not isinstance(value, bool):
                        total[key] = total.get(key, 0) + value
        return total

    def clear_validators(self, names: list[str]) -> None:
        from govharvest import db
        with db.connect() as conn, conn.cursor() as cur:
            cur.execute("UPDATE source SET last_etag = NULL, last_modified = NULL WHERE name = ANY(%s)", (names,))

    def ckanapi(self) -> dict:
        jsonl = self.folder / "ckanapi.jsonl"
        with open(jsonl, "w", encoding="utf-8") as f:
            for department, share in zip(self.departments("ckanapi"), self.shares()):
                for i in share:
                    f.write(json.dumps({**service(i), "type": "service", "owner_org": department},
                                       ensure_ascii=False) + "\n")
        cmd = [str(VENV_BIN / "ckanapi"), "load", "datasets", "-q", "-I", str(jsonl),
               "-p", str(self.args.processes), "-r", self.args.ckan_url, "-a", self.token]
        return run_all([cmd], self.env)

    def floor(self) -> dict:
        cmds = []
        for department, share in zip(self.departments("floor"), self.shares()):
            cmds.append([sys.executable, __file__, "--floor-worker", self.args.ini, department,
                         str(share.start), str(share.stop)])
        return run_all(cmds, self.env)

    def in_ckan(self, kind: str) -> int:
        return self.ckan.action.package_search(
            fq=f"organization:bench-prov-{kind}-*-{self.tag} AND dataset_type:service", rows=0,
            include_private=True)["count"]

    def cleanup(self) -> None:
        delete_sources(self.sources)
        self.server.shutdown()


def floor_worker(ini: str, department: str, start: int, stop: int) -> None:
    """One floor process: CKAN loaded here, package_create one by one."""
    from ckan.cli import load_config
    from ckan.config.middleware import make_app
    app = make_app(load_config(ini))
    app._wsgi_app.test_request_context().push()
    import ckan.plugins.toolkit as tk
    tk.config["ckan.search.solr_commit"] = False
    user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    for i in range(start, stop):
        tk.get_action("package_create")({"user": user}, {**service(i), "type": "service",
                                                          "owner_org": department})


def main() -> None:
    if sys.argv[1:2] == ["--floor-worker"]:
        floor_worker(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ini", required=True, help="the CKAN config the in-process contenders load")
    parser.add_argument("--ckan-url", required=True, help="a CKAN served from that config")
    parser.add_argument("--token-file", required=True, help="a sysadmin token of that CKAN")
    parser.add_argument("--harvest-db", default=os.environ.get("GOVHARVEST_DB_URL"),
                        help="the harvest database (default GOVHARVEST_DB_URL: the command line, "
                             "kept with the figures, should not carry its password)")
    parser.add_argument("--services", type=int, default=400)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--skip", default="", help="contenders to leave out: http,floor,ckanapi")
    parser.add_argument("--before", help="a folder of older code (bench/before_code.py): its bulk path "
                                         "runs first, as the 'before' contender")
    parser.add_argument("--before-second", action="store_true",
                        help="run the 'before' contender right after the bulk path instead of first "
                             "(the first contender meets colder caches: run both orders)")
    record.add_arguments(parser)
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    load_before = os.getloadavg()
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="province-bench-") as folder:
        bench = Province(args, Path(folder))
        try:
            n = args.services
            print(f"{n} services, {args.processes} processes per contender; load average {load_before}", flush=True)
            def before():
                results["before"] = bench.harvest(
                    bench.feeds("before"), GOVHARVEST_CKAN_INI=str(Path(args.ini).resolve()),
                    GOVHARVEST_LOAD_BATCH=str(args.batch),
                    PYTHONPATH=os.pathsep.join([str(Path(args.before).resolve()),
                                                os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
                print("  harvest, bulk path before:", results["before"], flush=True)
            if args.before and not args.before_second:
                before()
            bulk = bench.feeds("bulk")
            results["bulk"] = bench.harvest(bulk, GOVHARVEST_CKAN_INI=str(Path(args.ini).resolve()),
                                            GOVHARVEST_LOAD_BATCH=str(args.batch))
            print("  harvest, bulk path:", results["bulk"], flush=True)
            if args.before and args.before_second:
                before()
            if "ckanapi" not in skip:
                results["ckanapi"] = bench.ckanapi()
                print("  ckanapi load datasets:", results["ckanapi"], flush=True)
            if "http" not in skip:
                http = bench.feeds("http")
                results["http"] = bench.harvest(http, GOVHARVEST_LOAD_WORKERS="2")
                print("  harvest over HTTP:", results["http"], flush=True)
            if "floor" not in skip:
                results["floor"] = bench.floor()
                print("  floor, plain in-process package_create:", results["floor"], flush=True)
            ini_env = {"GOVHARVEST_CKAN_INI": str(Path(args.ini).resolve()), "GOVHARVEST_LOAD_BATCH": str(args.batch)}
            bench.clear_validators(bulk)
            results["unchanged"] = bench.harvest(bulk, **ini_env)
            print("  unchanged, read and compared:", results["unchanged"], flush=True)
            changed = set(range(0, n, 100))
            for department, share in zip([s[:-4] for s in bulk], bench.shares()):
                bench.write_feed(department, share, changed & set(share))
            bench.clear_validators(bulk)
            results["one_percent"] = bench.harvest(bulk, **ini_env)
            print("  1% changed:", results["one_percent"], flush=True)
            time.sleep(3)    # Solr's soft commit, for the counts below
            results["in_ckan"] = {k: bench.in_ckan(k) for k in ("before", "bulk", "ckanapi", "http", "floor")
                                  if k in results}
        finally:
            bench.cleanup()
    results["load"] = (load_before, os.getloadavg())
    print()
    with record.summary("province", load_before=load_before[0], note=args.machine_note) as kept:
        table(args, results, kept)


def table(args, r: dict, kept) -> None:
    n, p = args.services, args.processes
    bulk = r["bulk"]

    def rate(run):
        return n / run["seconds"]
    order = " (the before contender ran second)" if args.before and args.before_second else ""
    print(f"{n} services over {p} departments, {p} processes per contender, one contender at a time{order}; "
          f"load average {r['load'][0][0]:.1f} before, {r['load'][1][0]:.1f} after (2 vCPU, shared)")
    print()
    print("| contender | wall | services/s | ratio to the bulk harvest | peak RSS (largest process) | CPU |")
    print("| --- | --- | --- | --- | --- | --- |")
    for key, what in (("before", f"our harvest, bulk path before the change ({Path(args.before or '').name})"),
                      ("bulk", f"our harvest, bulk path (in-process, batches of {args.batch})"),
                      ("ckanapi", f"`ckanapi load datasets -p {p}` (HTTP)"),
                      ("http", f"our harvest over HTTP ({p} processes, 2 writes in flight each)"),
                      ("floor", "floor: plain in-process `package_create`, no Solr commit per dataset")):
        if key in r:
            run = r[key]
            print(f"| {what} | {run['seconds']:.0f} s | {rate(run):.1f} | "
                  f"{bulk['seconds'] / run['seconds']:.2f}× | {run['max_rss_mib']:.0f} MiB | {run['cpu_s']:.0f} s |")
    print()
    if "before" in r:
        print(f"bulk path after / before the change: {r['before']['seconds'] / bulk['seconds']:.2f}× faster "
              f"(wall), CPU {r['before']['cpu_s'] / bulk['cpu_s']:.2f}× less")
        kept.value("after-vs-before", f"{r['before']['seconds'] / bulk['seconds']:.2f}×")
        kept.value("cpu-after-vs-before", f"{r['before']['cpu_s'] / bulk['cpu_s']:.2f}×")
    kept.value("bulk-rate", f"{rate(bulk):.1f}/s")
    if "ckanapi" in r and "http" in r:
        print(f"Restated with equal parallelism: ckanapi -p {p} / our harvest over HTTP = "
              f"{r['ckanapi']['seconds'] / r['http']['seconds']:.2f}× (> 1: the harvest is faster)")
    if "ckanapi" in r:
        print(f"ckanapi -p {p} / our bulk harvest = {r['ckanapi']['seconds'] / bulk['seconds']:.2f}×")
    for key, what in (("unchanged", "unchanged re-harvest, every page read, hashed and compared"),
                      ("one_percent", "re-harvest with 1 % of the services changed")):
        run = r[key]
        print(f"- {what}: {run['seconds']:.1f} s wall ({100 * run['seconds'] / bulk['seconds']:.1f} % "
              f"of the first harvest), {run['counts']}")
    print(f"- in CKAN's search afterwards: {r['in_ckan']} (each should be {n}); bulk job counts {bulk['counts']}")
    if n < 100_000:     # at 100,000 or more the run above is the measurement itself
        print(f"- extrapolated, not measured: 100,000 services at the bulk path's {rate(bulk):.1f}/s would take "
              f"{100_000 / rate(bulk) / 60:.0f} min on this machine in this state")


if __name__ == "__main__":
    main()
