"""What saving one service costs once the province is loaded: ``package_create``
into the largest department of a site holding 100,000 services, with and without
the index of (department, service code) that the duplicate-code check uses
(migration f13d0a1b2c3d), side by side in one run.

    .venv/bin/python bench/save_at_scale.py --ini var/bench-4.ini [--services 20] [--rounds 2]
        [--machine-note "..."]

A first harvest of a province saves its 100,000th service into a database
that already holds 99,999: a check that reads every package row costs nothing
in a test database and most of a save at the end of the load. Each round drops
the index, creates ``--services`` services (``harvest_bench.service``, as a
department's feed sends them) in-process as CKAN's site user with no Solr
commit per dataset, makes the index again, and creates as many again; the
created services are purged after each half, so the site keeps its count.
The index is made again whatever happens. Per service: wall time, SQL time
and statements, and the slowest statement. Run it on a bench site only (it
drops and makes an index there); the summary is kept in
bench/results/save_at_scale.md.
"""
from __future__ import annotations

import argparse
import re
import statistics
import time
from collections import defaultdict

import record
from harvest_bench import service

INDEX = "govservice_service_department_code_idx"
MAKE_INDEX = (f"CREATE INDEX IF NOT EXISTS {INDEX} ON package (owner_org, (extras->>'service_code')) "
              "WHERE type = 'service'")


def setup(ini: str):
    from ckan.cli import load_config
    from ckan.config.middleware import make_app
    app = make_app(load_config(ini))
    app._wsgi_app.test_request_context().push()
    import ckan.plugins.toolkit as tk
    tk.config["ckan.search.solr_commit"] = False
    return tk


def create_some(tk, department: str, user: str, count: int, first: int) -> dict:
    """Create ``count`` services in ``department``, timing each and its SQL; purge them."""
    import ckan.model as model
    from sqlalchemy import event
    sql: dict[str, list[float]] = defaultdict(list)
    started: list[float] = []

    def before(*_):
        started.append(time.perf_counter())

    def after(conn, cursor, statement, *_):
        sql[re.sub(r"\s+", " ", statement)[:90]].append(time.perf_counter() - started.pop())
    engine = model.meta.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    walls, ids = [], []
    try:
        for i in range(first, first + count):
            record_ = dict(service(i), owner_org=department, name=f"save-at-scale-{i}", type="service")
            t = time.perf_counter()
            ids.append(tk.get_action("package_create")({"user": user, "ignore_auth": True}, record_)["id"])
            walls.append(time.perf_counter() - t)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        for package_id in ids:
            tk.get_action("dataset_purge")({"user": user, "ignore_auth": True}, {"id": package_id})
    slowest = max(sql.items(), key=lambda kv: sum(kv[1]))
    return {"walls": walls, "sql_s": sum(map(sum, sql.values())) / count,
            "statements": sum(map(len, sql.values())) / count,
            "slowest": (slowest[0], sum(slowest[1]) / count)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ini", required=True)
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    record.add_arguments(parser)
    args = parser.parse_args()
    load_before = record.load_average()
    tk = setup(args.ini)
    import sqlalchemy as sa

    import ckan.model as model
    services, department, largest = model.Session.execute(sa.text(
        "SELECT (SELECT count(*) FROM package WHERE type = 'service' AND state = 'active'), g.id, count(*) "
        "FROM package p JOIN \"group\" g ON g.id = p.owner_org WHERE p.type = 'service' "
        "GROUP BY g.id ORDER BY count(*) DESC LIMIT 1")).one()
    model.Session.remove()
    user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    results: dict[str, list[dict]] = {"without the index": [], "with the index": []}
    try:
        for round_ in range(args.rounds):
            with model.meta.engine.begin() as conn:
                conn.execute(sa.text(f"DROP INDEX IF EXISTS {INDEX}"))
            results["without the index"].append(create_some(tk, department, user, args.services, 900000))
            with model.meta.engine.begin() as conn:
                conn.execute(sa.text(MAKE_INDEX))
            results["with the index"].append(create_some(tk, department, user, args.services, 900000))
    finally:
        with model.meta.engine.begin() as conn:
            conn.execute(sa.text(MAKE_INDEX))

    with record.summary("save_at_scale", load_before=load_before, note=args.machine_note) as kept:
        print(f"`package_create` of {args.services} services into the largest department ({largest:,} of the "
              f"site's {services:,} services), in process, no Solr commit per dataset; {args.rounds} rounds, "
              "each without the index, then with it\n")
        print("| per service | median wall | p95 wall | SQL time | SQL statements | slowest statement (its time) |")
        print("| --- | ---: | ---: | ---: | ---: | --- |")
        medians = {}
        for label, runs in results.items():
            walls = sorted(w for r in runs for w in r["walls"])
            medians[label] = statistics.median(walls)
            name, seconds = max((r["slowest"] for r in runs), key=lambda s: s[1])
            print(f"| {label} | {medians[label] * 1000:.0f} ms | {walls[int(0.95 * (len(walls) - 1))] * 1000:.0f} ms "
                  f"| {statistics.mean(r['sql_s'] for r in runs) * 1000:.1f} ms "
                  f"| {statistics.mean(r['statements'] for r in runs):.1f} | `{name}…` ({seconds * 1000:.1f} ms) |")
        ratio = medians["without the index"] / medians["with the index"]
        print(f"\nwithout / with the index: {ratio:.1f}× the median save")
        kept.value("ratio", f"{ratio:.1f}×")
        kept.value("with", f"{medians['with the index'] * 1000:.0f} ms")
        kept.value("without", f"{medians['without the index'] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
