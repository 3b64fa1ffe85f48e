"""Statistics loading (1,000,000 rows unless --rows), and KPI reads at 10,000,000 rows.

    GOVSERVICE_TEST_SLOT=7 make up       # writes var/test-7.ini: a site of its own
    .venv/bin/python bench/statistics_bench.py --ini var/test-7.ini [--rows 1000000] [--big 10000000] \
        [--machine-note "what else ran"]

Every contender loads the same ``--rows`` rows (the upsert baseline too), so
the ratios compare like with like; at 1,000,000 the upsert alone took 19-37
minutes on the development machine, so a run that must fit in a few minutes
takes fewer rows for all three rather than fewer for the baseline. What it
prints at the end is kept in bench/results/statistics.md (bench/record.py).

One Python process against a test-slot site (its own CKAN and DataStore
databases), never the portal's. The same rows (valid, 36 months x 6 channels
per service, spread over 20 departments) are loaded three ways, each into a
fresh table:

* ours: ``statistics_store.load`` per department, one transaction each, as
  the action runs it — COPY into staging, every rule checked in SQL, merged,
  KPI sums brought up to date — then the services' 12-month summaries;
* ``datastore_upsert`` through the action layer in batches of 10,000 into a
  DataStore table with the same fields and primary key, tuned as ours is
  (``tune_table``: without the DataStore's full-text indexes and per-row
  trigger; until issue 13 the baseline kept them);
* the physical limit: one raw ``COPY`` of the typed rows into a bare table
  with the same primary key and nothing else (also timed with the narrower
  key without the department, for comparison).

The raw COPY and our loader run ``--repeat`` times, alternating, and the
ratio is of their medians; the upsert (slow) runs once.

Then it fills the statistics table to ``--big`` rows (generated in SQL, KPI
sums rebuilt once) and times ``govservice_kpis`` for one department over a
year (200 calls, p50/p95) against the same on-time rate computed by a plain
SQL aggregate over the rows.
"""
from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
from pathlib import Path

import record

ROOT = Path(__file__).resolve().parent.parent

DEPARTMENTS = 20
CHANNELS = ["online", "mobile", "in_person", "self_service", "phone", "post"]
MONTHS = [f"{2023 + m // 12}-{m % 12 + 1:02d}" for m in range(36)]   # 2023-01 .. 2025-12
COLUMNS = ["service_code", "period", "channel", "received", "completed", "completed_on_time",
           "completed_online", "mean_processing_days", "rating_very_satisfied", "rating_satisfied",
           "rating_basically_satisfied", "rating_dissatisfied", "rating_very_dissatisfied",
           "ratings", "bad_reviews", "bad_reviews_rectified", "enquiries"]


def setup(ini: str):
    from ckan.cli import load_config
    from ckan.config.middleware import make_app
    app = make_app(load_config(ini))
    app._wsgi_app.test_request_context().push()
    import ckan.plugins.toolkit as tk
    tk.config["ckanext.govservice.catalogue.auto_rebuild"] = False
    return tk


def department(d: int) -> str:
    return f"bench-stats-{d:02d}"


def row(s: int, m: int, c: int) -> list:
    completed = 20 + (s * 7 + m * 3 + c) % 80
    levels = [completed // 2, completed // 4, completed // 8, 1, (s + m) % 2]
    return [f"BS-{s:06d}", MONTHS[m], CHANNELS[c], completed + 3, completed,
            completed - (s + m) % 5, completed if c < 2 else 0, round(1 + (s % 9) / 3, 2),
            *levels, sum(levels), levels[3] + levels[4], levels[3], (s + c) % 7]


def services_for(rows: int) -> int:
    return -(-rows // (len(MONTHS) * len(CHANNELS)))


def write_files(rows: int, directory: Path) -> dict[int, Path]:
    """One CSV per department (services dealt round-robin), ``rows`` rows in all."""
    files = {d: directory / f"{department(d)}.csv" for d in range(DEPARTMENTS)}
    handles = {d: open(p, "w", newline="", encoding="utf-8") for d, p in files.items()}
    writers = {d: csv.writer(h) for d, h in handles.items()}
    for w in writers.values():
        w.writerow(COLUMNS)
    n = 0
    for s in range(services_for(rows)):
        for m in range(len(MONTHS)):
            for c in range(len(CHANNELS)):
                if n == rows:
                    break
                writers[s % DEPARTMENTS].writerow(row(s, m, c))
                n += 1
    for h in handles.values():
        h.close()
    return files


def register_services(conn, store, rows: int) -> None:
    for d in range(DEPARTMENTS):
        store.sync_services(conn, department(d), [
            {"service_code": f"BS-{s:06d}", "id": f"bench-{s}", "name": f"bs-{s}",
             "themes": ["business"], "in_person_visits": s % 3}
            for s in range(d, services_for(rows), DEPARTMENTS)])


def fresh_table(tk, context, name: str, tune: bool) -> str:
    from ckanext.govservice import statistics_store as store
    from ckanext.govservice.core import kpis as stats
    try:
        tk.get_action("dataset_purge")(dict(context), {"id": name})
    except tk.ObjectNotFound:
        pass
    org = tk.get_action("organization_list")(dict(context), {})
    dataset = tk.get_action("package_create")(dict(context), {
        "name": name, "owner_org": org[0] if org else None, "type": "dataset"})
    table = tk.get_action("datastore_create")(dict(context), {
        "resource": {"package_id": dataset["id"], "name": name},
        "fields": stats.datastore_fields(), "primary_key": stats.primary_key(), "force": True})["resource_id"]
    if tune:
        with store.engine().begin() as conn:
            store.tune_table(conn, table)
    return table


def bench_ours(store, table: str, files: dict[int, Path]) -> tuple[float, dict]:
    stages: dict[str, float] = {}
    started = time.perf_counter()
    for d, path in files.items():
        with store.engine().begin() as conn, open(path, "rb") as body:
            headers = body.readline().decode().strip().split(",")
            report = store.load(conn, table, department(d), headers, body, "2026-11")
            assert report["rejected"] == 0, report["rejections"][:3]
            summarised = time.perf_counter()   # as the action does after each load
            store.refresh_summaries(conn, store.affected_services(conn))
            report["seconds"]["summaries"] = time.perf_counter() - summarised
            for k, v in report["seconds"].items():
                stages[k] = stages.get(k, 0) + v
    return time.perf_counter() - started, stages


def bench_upsert(tk, context, table: str, files: dict[int, Path]) -> float:
    started = time.perf_counter()
    for d, path in files.items():
        with open(path, encoding="utf-8") as f:
            reader = csv.DictReader(f)
            batch = []
            for record in reader:
                batch.append({**{k: (v if v != "" else None) for k, v in record.items()},
                              "department": department(d)})
                if len(batch) == 10_000:
                    tk.get_action("datastore_upsert")(dict(context), {
                        "resource_id": table, "records": batch, "method": "upsert", "force": True})
                    batch = []
            if batch:
                tk.get_action("datastore_upsert")(dict(context), {
                    "resource_id": table, "records": batch, "method": "upsert", "force": True})
    return time.perf_counter() - started


def bench_raw_copy(store, files: dict[int, Path], with_department: bool = True) -> float:
    """One transaction COPYing every file into a bare table with the statistics
    table's primary key (department, service code, period, channel): the
    department, which the files do not carry, comes from the column's default,
    set before each file. Without ``with_department``: the narrower key
    (service code, period, channel) the issue first named, for comparison."""
    import sqlalchemy as sa
    from ckanext.govservice.core import kpis as stats
    types = {c["name"]: c["type"] for c in stats.columns()}
    key = stats.primary_key() if with_department else [k for k in stats.primary_key() if k != "department"]
    with store.engine().begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS bench_raw_copy"))
        conn.execute(sa.text("CREATE TABLE bench_raw_copy (" + ", ".join(
            f"{c} {types[c]}" for c in stats.column_names()) + f", PRIMARY KEY ({', '.join(key)}))"))
    started = time.perf_counter()
    with store.engine().begin() as conn:
        cur = conn.connection.dbapi_connection.cursor()
        for d, path in files.items():
            if with_department:
                cur.execute(f"ALTER TABLE bench_raw_copy ALTER COLUMN department SET DEFAULT '{department(d)}'")
            with open(path, "rb") as body:
                body.readline()
                cur.copy_expert(f"COPY bench_raw_copy ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv)", body)
    elapsed = time.perf_counter() - started
    with store.engine().begin() as conn:
        conn.execute(sa.text("DROP TABLE bench_raw_copy"))
    return elapsed


def fill_big(store, table: str, rows: int) -> None:
    """Top the table up to ``rows`` rows, generated in SQL, then rebuild the KPI sums once."""
    import sqlalchemy as sa

    from ckanext.govservice.statistics_store.loader import write_as_the_loader
    services = services_for(rows)
    with store.engine().begin() as conn:
        write_as_the_loader(conn)   # the table's guard lets only a load write: this top-up is one, in SQL
        have = conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar()
        if have < rows:
            conn.execute(sa.text(f"""
                INSERT INTO "{table}" (service_code, department, period, channel, received, completed,
                    completed_on_time, completed_online, rating_very_satisfied, rating_satisfied,
                    rating_basically_satisfied, rating_dissatisfied, rating_very_dissatisfied,
                    ratings, bad_reviews, bad_reviews_rectified, _full_text)
                SELECT 'BS-' || lpad(s::text, 6, '0'), 'bench-stats-' || lpad((s % {DEPARTMENTS})::text, 2, '0'),
                       to_char(date '2023-01-01' + (m || ' months')::interval, 'YYYY-MM'),
                       (ARRAY{CHANNELS!r})[c + 1], 50, 40, 40 - (s + m) % 5, CASE WHEN c < 2 THEN 40 ELSE 0 END,
                       20, 10, 5, 1, (s + m) % 2, 36 + (s + m) % 2, 1 + (s + m) % 2, 1, ''::tsvector
                FROM generate_series(0, {services - 1}) s, generate_series(0, 35) m, generate_series(0, 5) c
                ON CONFLICT DO NOTHING"""))
        conn.execute(sa.text(f'ANALYZE "{table}"'))
    with store.engine().begin() as conn:
        register_services(conn, store, rows)
        store.refresh_aggregates(conn, table)


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ini", required=True)
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="rows loaded by each contender, the upsert baseline too (same files)")
    parser.add_argument("--big", type=int, default=10_000_000, help="rows for the KPI reads (0: skip them)")
    parser.add_argument("--skip-upsert", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="alternating raw COPY / loader runs")
    record.add_arguments(parser)
    args = parser.parse_args()
    load_before = record.load_average()
    tk = setup(args.ini)
    import sqlalchemy as sa
    from ckanext.govservice import catalogue_publish, statistics_store as store
    context = catalogue_publish.site_context()
    catalogue_publish._platform_org(context)
    for d in range(DEPARTMENTS):   # the KPI API checks the department exists
        try:
            tk.get_action("organization_show")(dict(context), {"id": department(d)})
        except tk.ObjectNotFound:
            tk.get_action("organization_create")(dict(context), {
                "name": department(d), "title": f"基准测试局{d}", "level": "city", "area": "滨江市"})
    with store.engine().begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {store.SCHEMA}.service_month, {store.SCHEMA}.department_month"))
        register_services(conn, store, args.rows)

    loading = {"rows": args.rows, "runs": [], "upsert": None}
    with tempfile.TemporaryDirectory() as tmp:
        files = write_files(args.rows, Path(tmp))
        loading["files"], loading["mb"] = len(files), sum(p.stat().st_size for p in files.values()) / 1e6
        print(f"{args.rows:,} rows in {len(files)} department files ({loading['mb']:.0f} MB)", flush=True)
        # Alternating runs, each into a fresh table: the machine's mood falls on both.
        for attempt in range(args.repeat):
            narrow = bench_raw_copy(store, files, with_department=False)
            raw = bench_raw_copy(store, files)
            ours_table = fresh_table(tk, context, "bench-stats-ours", tune=True)
            with store.engine().begin() as conn:   # fresh sums too, as for a new platform
                conn.execute(sa.text(f"TRUNCATE {store.SCHEMA}.service_month, "
                                     f"{store.SCHEMA}.department_month, {store.SCHEMA}.service_summary"))
            elapsed, stages = bench_ours(store, ours_table, files)
            loading["runs"].append({"raw": raw, "narrow": narrow, "ours": elapsed, "stages": stages})
            print(f"run {attempt + 1}: raw COPY {raw:.1f} s (key without department {narrow:.1f} s), "
                  f"ours {elapsed:.1f} s = {elapsed / raw:.2f}x", flush=True)
        if not args.skip_upsert:
            # the same rows and the same table tuning as ours (no full-text indexes,
            # no per-row trigger): the baseline is not made to pay for what our table drops
            upsert_table = fresh_table(tk, context, "bench-stats-upsert", tune=True)
            loading["upsert"] = bench_upsert(tk, context, upsert_table, files)
            print(f"datastore_upsert {loading['upsert']:.1f} s", flush=True)

    reads = None
    if args.big:
        reads = kpi_reads(tk, store, ours_table, args.big)

    with record.summary("statistics", load_before=load_before, note=args.machine_note) as kept:
        for key, value in {**print_loading(loading), **(print_reads(reads) if reads else {})}.items():
            kept.value(key, value)   # quoted in sentences (README.md)


def kpi_reads(tk, store, table: str, rows: int) -> dict:
    """Fill the table to ``rows`` and time govservice_kpis against a plain SQL aggregate."""
    import sqlalchemy as sa
    print(f"filling the statistics table to {rows:,} rows…", flush=True)
    fill_big(store, table, rows)
    with store.engine().connect() as conn:
        n = conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar()
    # The KPI engine reads the table it finds through the dataset: point it at ours.
    from ckanext.govservice import statistics_publish
    statistics_publish._find_table = lambda context: table
    kpis = tk.get_action("govservice_kpis")
    query = {"department": department(3), "period_from": "2025-01", "period_to": "2025-12",
             "group_by": "period", "kpis": "on_time_rate"}
    answer = kpis({"ignore_auth": True}, query)

    def plain():
        with store.engine().connect() as conn:
            return conn.execute(sa.text(f"""
                SELECT period, sum(completed_on_time)::numeric / nullif(sum(completed), 0)
                FROM "{table}" WHERE department = :d AND period BETWEEN '2025-01' AND '2025-12'
                GROUP BY period ORDER BY period"""), {"d": department(3)}).all()
    assert [round(float(v), 6) for _, v in plain()] == [
        r["kpis"]["on_time_rate"]["value"] for r in answer["results"]], "KPI engine and SQL disagree"
    by_service = {**query, "group_by": "service"}
    return {"rows": n, "ours": timed(lambda: kpis({"ignore_auth": True}, query), 200),
            "plain": timed(plain, 200),
            "services": len(kpis({"ignore_auth": True}, by_service)["results"]),
            "by_service": timed(lambda: kpis({"ignore_auth": True}, by_service), 100)}


def print_loading(loading: dict) -> dict[str, str]:
    """Print the loading tables; answer the figures a sentence may quote."""
    runs, rows = loading["runs"], loading["rows"]
    raw = statistics.median(r["raw"] for r in runs)
    ours = statistics.median(r["ours"] for r in runs)
    narrow = statistics.median(r["narrow"] for r in runs)
    stages = list(runs[0]["stages"])
    print(f"{rows:,} valid rows in {loading['files']} department files ({loading['mb']:.0f} MB of CSV), "
          f"loaded in one process; raw COPY and ours alternating, {len(runs)} runs, each into a fresh table "
          f"(and fresh KPI sums)\n")
    print(f"| run | raw COPY | raw COPY, key without department | ours | ours / raw COPY | "
          f"ours: {' / '.join(stages)} |")
    print("| --- | --- | --- | --- | --- | --- |")
    for i, r in enumerate(runs, 1):
        print(f"| {i} | {r['raw']:.1f} s | {r['narrow']:.1f} s | {r['ours']:.1f} s | {r['ours'] / r['raw']:.2f}× | "
              + " / ".join(f"{r['stages'][k]:.1f}" for k in stages) + " s |")
    print(f"| **median** | **{raw:.1f} s** ({rows / raw:,.0f} rows/s) | {narrow:.1f} s | "
          f"**{ours:.1f} s** ({rows / ours:,.0f} rows/s) | **{ours / raw:.2f}×** (target ≤ 3×) | |")
    print()
    quoted = {"rows": f"{rows:,}", "ours-vs-copy": f"{ours / raw:.2f}×"}
    if loading["upsert"] is not None:
        upsert = loading["upsert"]
        print(f"`datastore_upsert` through the action layer, batches of 10,000, the same {rows:,} rows into a "
              f"DataStore table with the same fields, key and tuning as ours (`tune_table`), once: "
              f"{upsert:.1f} s ({rows / upsert:,.0f} rows/s) — **ours is {upsert / ours:.1f}× faster** "
              f"(target ≥ 10×; ratio to the median of ours)")
        print()
        quoted["upsert-vs-ours"] = f"{upsert / ours:.1f}×"
    return quoted


def print_reads(reads: dict) -> dict[str, str]:
    """Print the KPI reads' table; answer the figures a sentence may quote."""
    def p95(xs):
        return statistics.quantiles(xs, n=20)[-1]
    print(f"With {reads['rows']:,} rows in the table (topped up in SQL, KPI sums rebuilt once), "
          "through the action layer; the KPI engine and the plain SQL checked to agree first:\n")
    print("| read | p50 | p95 | target |")
    print("| --- | --- | --- | --- |")
    print(f"| `govservice_kpis` one department, 12 months grouped by month (200 calls) "
          f"| {statistics.median(reads['ours']):.1f} ms | **{p95(reads['ours']):.1f} ms** | p95 < 300 ms |")
    print(f"| the same on-time rates by a plain SQL aggregate over the rows (200 calls) "
          f"| {statistics.median(reads['plain']):.1f} ms | {p95(reads['plain']):.1f} ms | |")
    print(f"| `govservice_kpis` the same department's {reads['services']:,} services × 12 months, "
          f"grouped by service (100 calls) | {statistics.median(reads['by_service']):.1f} ms "
          f"| {p95(reads['by_service']):.1f} ms | — |")
    print()
    return {"kpi-rows": f"{reads['rows']:,}", "kpi-p95": f"{p95(reads['ours']):.0f} ms"}


if __name__ == "__main__":
    main()
