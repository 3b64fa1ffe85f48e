"""Where a bulk create's time goes: the bulk path (harvesters/govharvest/bulk.py)
against plain in-process ``package_create`` (the baseline) and, with
``--before``, an older version of the path, in one process, one after
another, on the same CKAN, under cProfile.

    .venv/bin/python bench/bulk_profile.py --ini var/test-3.ini [--services 100] [--batch 50]
        [--before /path/to/an/older/bulk.py --before-label "as of <commit>"]   # profiled too, first
        [--before FOLDER --before-label "as of <commit>"] [--top 25]

``--before`` names either an older ``govharvest/bulk.py`` (profiled in this
process) or a FOLDER holding older code as ``province_bench.py --before`` takes
it (``govharvest/``, and ``ckanext/govservice/`` with the ``sitecustomize.py``
that puts it ahead of the installed extension): then the before contender runs
in a child process with FOLDER first on PYTHONPATH, before this process's
contenders, so a change in the extension's side of the bulk path
(``bulk_load.py``, the validators) is measured against what it replaced.
``--top N`` prints the N functions of the bulk path with the most time of
their own and the most cumulative time, and its SQL statements a service by
statement; such a run is an exploration: its summary is printed, not kept.

The contenders write the same services (``harvest_bench.service``) into a
department of their own, one after the other, after a warm-up of each; CKAN's
Solr commit per dataset is off for both (as in the bulk path's process). The
summary gives per service: wall and CPU time, SQL statements, Solr requests,
``package_dictize`` calls, and the cumulative time of the pieces of a create
(validation, the shows, the activity record, the index document, our
``after_dataset_show``); then the ratios baseline / bulk path and before / now. The load average
before and after is printed: the machine is shared. The summary is kept in
bench/results/bulk_profile.md (bench/record.py); nothing is asserted.
"""
from __future__ import annotations

import argparse
import cProfile
import importlib.util
import json
import os
import subprocess
import pstats
import sys
import time
import uuid
from pathlib import Path

import record
from harvest_bench import service

ROOT = Path(__file__).resolve().parent.parent

# (label, file name ending, function name) of the pieces reported
PIECES = [
    ("validation on save (create/update schema)", "ckan/lib/plugins.py", "plugin_validate"),
    ("package_show (every call, nested ones once)", "ckan/logic/action/get.py", "package_show"),
    ("both index dicts (package_show_default_and_custom_schemas)", "ckan/logic/__init__.py",
     "package_show_default_and_custom_schemas"),
    ("package_dictize", "ckan/lib/dictization/model_dictize.py", "package_dictize"),
    ("Solr look-up of package_show (search.show)", "ckan/lib/search/__init__.py", "show"),
    ("activity record (ckanext.activity)", "ckanext/activity/subscriptions.py", "_create_package_activity"),
    ("index document (index_package)", "ckan/lib/search/index.py", "index_package"),
    ("our after_dataset_show", "ckanext/govservice/plugin.py", "after_dataset_show"),
    ("our before_dataset_index", "ckanext/govservice/plugin.py", "before_dataset_index"),
    ("database commit", "ckan/model/base.py", "commit"),
]


def bulk_module(path: str | None):
    sys.path.append(str(ROOT / "harvesters"))   # after PYTHONPATH: a --before folder's govharvest wins
    import govharvest
    if not path:
        from govharvest import bulk
        return bulk
    spec = importlib.util.spec_from_file_location("govharvest._bulk_profiled", path,
                                                  submodule_search_locations=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "govharvest"
    spec.loader.exec_module(module)
    return module


class Counts:
    """SQL statements, Solr requests and package_dictize calls while counting."""

    def __init__(self) -> None:
        import sqlalchemy as sa
        import pysolr
        from ckan import model
        from ckan.lib.dictization import model_dictize
        self.sql = self.solr = self.dictize = 0
        self.on = False
        self.statements: dict[str, int] | None = None     # with --top: each statement's count
        sa.event.listen(model.meta.engine, "before_cursor_execute", self._sql)
        real_send = pysolr.Solr._send_request

        def send(solr, *args, **kwargs):
            if self.on:
                self.solr += 1
            return real_send(solr, *args, **kwargs)
        pysolr.Solr._send_request = send
        real_dictize = model_dictize.package_dictize

        def dictize(*args, **kwargs):
            if self.on:
                self.dictize += 1
            return real_dictize(*args, **kwargs)
        model_dictize.package_dictize = dictize

    def _sql(self, _conn, _cursor, statement, *_args) -> None:
        if self.on:
            self.sql += 1
            if self.statements is not None:
                text = " ".join(statement.split())[:150]
                self.statements[text] = self.statements.get(text, 0) + 1


def run(name: str, write, n: int, counts: Counts, top: int = 0) -> dict:
    profile = cProfile.Profile()
    counts.sql = counts.solr = counts.dictize = 0
    counts.statements = {} if top else None
    counts.on = True
    wall, cpu = time.perf_counter(), time.process_time()
    profile.enable()
    write()
    profile.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    counts.on = False
    stats = pstats.Stats(profile)
    if top and os.environ.get("BULK_PROFILE_DUMP"):     # the whole profile, for pstats
        stats.dump_stats(os.environ["BULK_PROFILE_DUMP"])
    pieces = {}
    for label, ending, function in PIECES:
        total = 0.0
        for (filename, _line, fname), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
            if fname == function and filename.endswith(ending):
                total += ct
        pieces[label] = total
    if top:
        print(f"\n{name}: the {top} functions with the most time of their own, then cumulative "
              f"(ms a service, under cProfile)")
        for sort in ("tottime", "cumulative"):
            rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2 if sort == "tottime" else 3])[:top]
            for (filename, line, fname), (_cc, nc, tt, ct, _callers) in rows:
                where = "/".join(filename.split("/")[-3:])
                print(f"  {1000 * tt / n:7.2f} own {1000 * ct / n:7.2f} cum {nc / n:7.1f} calls  "
                      f"{where}:{line} {fname}")
            print()
        print(f"{name}: SQL statements a service, by statement (first 150 characters)")
        for text, count in sorted(counts.statements.items(), key=lambda kv: -kv[1]):
            print(f"  {count / n:6.2f}  {text}")
        print()
    return {"name": name, "wall": wall, "cpu": cpu, "sql": counts.sql, "solr": counts.solr,
            "dictize": counts.dictize, "pieces": pieces, "n": n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ini", required=True)
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--before", help="an older govharvest/bulk.py, or a folder of older code "
                                         "(see above): profiled too, first")
    parser.add_argument("--before-label", default="before", help="what to call it in the table")
    parser.add_argument("--top", type=int, default=0, help="print the bulk path's N costliest functions")
    parser.add_argument("--only-bulk-into", help=argparse.SUPPRESS)   # the child of a --before FOLDER
    record.add_arguments(parser)
    args = parser.parse_args()
    load_before = os.getloadavg()
    child = None
    if args.before and Path(args.before).is_dir():   # older code, in a process of its own, first
        child = before_in_child(args)
    bulk = bulk_module(None)
    bulk.local_ckan(args.ini)       # CKAN loaded as the bulk path loads it (no Solr commit per dataset)
    import ckan.plugins.toolkit as tk
    import ckanapi
    from ckan import model
    site = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    tag = uuid.uuid4().hex[:6]
    paths = [("before", bulk_module(args.before))] if args.before and child is None else []
    paths.append(("bulk", bulk))
    departments = {}
    for kind in [k for k, _ in paths] + ([] if args.only_bulk_into else ["floor"]):
        departments[kind] = f"bench-profile-{kind}-{tag}"
        tk.get_action("organization_create")({"user": site}, {"name": departments[kind], "title": "剖析基准"})
    model.Session.remove()
    counts = Counts()
    offset = [0]

    def services(kind: str, n: int) -> list[dict]:
        start = offset[0]
        offset[0] += n
        return [{**service(i), "type": "service", "owner_org": departments[kind],
                 "source": "bulk-profile", "source_record_id": f"HB-{i:06d}"} for i in range(start, start + n)]

    def bulk_write(kind: str, module, n: int):
        target = module.target(ckanapi.LocalCKAN(username=site))

        def write():
            todo = services(kind, n)
            for k in range(0, n, args.batch):
                target.upsert_many([(s, None) for s in todo[k:k + args.batch]])
        return write

    def floor_write(n: int):
        def write():
            for s in services("floor", n):
                tk.get_action("package_create")({"user": site}, s)
        return write

    for kind, module in paths:       # a warm-up of each
        bulk_write(kind, module, 10)()
    if args.only_bulk_into:
        model.Session.remove()
        result = run(f"bulk path, {args.before_label} (batches of {args.batch})",
                     bulk_write("bulk", bulk, args.services), args.services, counts, args.top)
        Path(args.only_bulk_into).write_text(json.dumps(result))
        return
    floor_write(10)()
    model.Session.remove()
    names = {"before": f"bulk path, {args.before_label}", "bulk": "bulk path"}
    results = [child] if child else []
    results += [run(f"{names[kind]} (batches of {args.batch})", bulk_write(kind, module, args.services),
                    args.services, counts, args.top if kind == "bulk" else 0) for kind, module in paths]
    results.append(run("baseline: plain package_create", floor_write(args.services), args.services, counts))
    n = args.services
    print()
    if args.top:    # an exploration: printed, not kept (make figures would copy it into the READMEs)
        table(args, results, n)
        print(f"\nload average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after (not kept: --top)")
        return
    with record.summary("bulk_profile", load_before=load_before[0], note=args.machine_note) as kept:
        table(args, results, n)
        kept.value("cpu-baseline-vs-bulk", f"{results[-1]['cpu'] / results[-2]['cpu']:.2f}×")
        if len(results) == 3:
            kept.value("cpu-before-vs-after", f"{results[0]['cpu'] / results[1]['cpu']:.2f}×")


def before_in_child(args) -> dict:
    """The before contender: this script in a child process with the older code
    (args.before, a folder) first on PYTHONPATH; its result."""
    folder = Path(args.before).resolve()
    with open(os.devnull, "w") as quiet, \
            __import__("tempfile").NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, __file__, "--ini", args.ini, "--services", str(args.services),
                        "--batch", str(args.batch), "--before-label", args.before_label,
                        "--only-bulk-into", out.name],
                       env={**os.environ, "PYTHONPATH": os.pathsep.join(
                           p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)},
                       check=True, stdout=quiet)
        return json.loads(Path(out.name).read_text())


def table(args, results: list[dict], n: int) -> None:
    print(f"{n} services per contender, one process, one contender after another (as listed), after a "
          f"warm-up of 10 each; CPU is this process's (PostgreSQL and Solr work besides)")
    print()
    print("| per service | " + " | ".join(r["name"] for r in results) + " |")
    print("| --- | " + " | ".join("---" for _ in results) + " |")
    rows = [("wall", lambda r: f"{1000 * r['wall'] / n:.1f} ms (under cProfile)"),
            ("CPU of this process", lambda r: f"{1000 * r['cpu'] / n:.1f} ms"),
            ("SQL statements", lambda r: f"{r['sql'] / n:.1f}"),
            ("Solr requests", lambda r: f"{r['solr'] / n:.2f}"),
            ("package_dictize calls", lambda r: f"{r['dictize'] / n:.2f}")]
    rows += [(label, (lambda label: lambda r: f"{1000 * r['pieces'][label] / n:.1f} ms")(label))
             for label, _e, _f in PIECES]
    for label, cell in rows:
        print(f"| {label} | " + " | ".join(cell(r) for r in results) + " |")
    print()
    base, bulk = results[-1], results[-2]
    print(f"- baseline / bulk path: wall {base['wall'] / bulk['wall']:.2f}×, CPU {base['cpu'] / bulk['cpu']:.2f}× "
          "(> 1: the bulk path is cheaper)")
    if len(results) == 3:
        print(f"- bulk path {args.before_label} / now: wall {results[0]['wall'] / bulk['wall']:.2f}×, "
              f"CPU {results[0]['cpu'] / bulk['cpu']:.2f}×")


if __name__ == "__main__":
    main()
