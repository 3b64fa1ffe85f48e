"""The minute-level queue job's store: ``govservice_queue_load`` against CKAN's own
``datastore_upsert`` of the same rows, in the same run.

    .venv/bin/python bench/queue_bench.py [--minutes 30] [--services 20]
        [--ckan-url http://127.0.0.1:5000] [--token-file var/api-token]

Against the running portal, in a department of its own (``bench-queues-*``) with
one service centre handling ``--services`` services. Each simulated minute's rows
(one a service, as a centre's queue feed sends them) are stored twice, one call
after the other, from this one process (the same parallelism: one request at a
time): through ``govservice_queue_load`` (every row checked, the centre's owner
checked, one upsert into the open time series) and, as the baseline, through
``datastore_upsert`` into a scratch DataStore table with the same columns and
key (what the platform would cost with CKAN's generic path and no checks). The
medians and the ratio baseline / ours are printed (> 1: ours is faster). The
department, its datasets and its rows in ``service-queues`` are removed at the
end. Benchmarks are scripts: nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
import uuid
from pathlib import Path

import ckanapi

from ckanext.govservice.core import queues

import record   # bench/record.py: the summary is kept in bench/results/queues.md

ROOT = Path(__file__).resolve().parent.parent

BEIJING = dt.timezone(dt.timedelta(hours=8))


def rows_at(centre: str, codes: list[str], at: dt.datetime, minute: int) -> list[dict]:
    return [{"centre_code": centre, "implementation_code": code, "observed_at": at.isoformat(),
             "tickets_waiting": (minute * 7 + i * 3) % 25, "estimated_wait_minutes": (minute * 11 + i) % 60,
             "appointments_left_today": max(0, 40 - minute - i)} for i, code in enumerate(codes)]


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--ckan-url", default=os.environ.get("GOVHARVEST_CKAN_URL", "http://127.0.0.1:5000"))
    parser.add_argument("--token-file", type=Path, default=ROOT / "var" / "api-token")
    args = parser.parse_args()

    ckan = ckanapi.RemoteCKAN(args.ckan_url, apikey=args.token_file.read_text().strip())
    tag = uuid.uuid4().hex[:8]
    org = ckan.action.organization_create(name=f"bench-queues-{tag}", title="排队基准测试")
    centre = f"BENCH-{tag.upper()}"
    codes = [f"BENCH{tag.upper()}{i:04d}" for i in range(args.services)]
    ours, baseline = [], []
    try:
        ckan.action.package_create(type="service_centre", name=f"centre-{centre.lower()}", centre_code=centre,
                                   title="基准测试大厅", owner_org=org["id"], opening_hours="24/7",
                                   counters=[{"counter_number": "1", "implementation_codes": codes}])
        scratch = ckan.action.package_create(name=f"bench-queues-scratch-{tag}", owner_org=org["id"],
                                             title="scratch")
        table = ckan.action.datastore_create(
            resource={"package_id": scratch["id"], "name": "scratch"},
            fields=[{"id": f["id"], "type": f["type"]} for f in queues.datastore_fields()],
            primary_key=queues.primary_key(), force=True)["resource_id"]
        start = dt.datetime.now(BEIJING).replace(second=0, microsecond=0) - dt.timedelta(minutes=args.minutes + 1)
        ckan.action.govservice_queue_load(department=org["name"], rows=rows_at(centre, codes, start, 0))  # warm
        for minute in range(1, args.minutes + 1):
            rows = rows_at(centre, codes, start + dt.timedelta(minutes=minute), minute)
            ours.append(timed(lambda: ckan.action.govservice_queue_load(department=org["name"], rows=rows)))
            baseline.append(timed(lambda: ckan.action.datastore_upsert(
                resource_id=table, records=rows, method="upsert", force=True)))
    finally:
        try:
            platform = ckan.action.package_show(id="service-queues")
            ckan.action.datastore_delete(resource_id=platform["resources"][0]["id"],
                                         filters={"centre_code": centre}, force=True)
        except ckanapi.CKANAPIError:
            pass
        for d in ckan.action.package_search(fq=f"owner_org:{org['id']}", include_private=True,
                                            rows=100)["results"]:
            ckan.action.dataset_purge(id=d["id"])
        ckan.action.organization_purge(id=org["id"])
    ours_ms, base_ms = statistics.median(ours) * 1000, statistics.median(baseline) * 1000
    with record.summary("queues"):
        _summary(args, ours_ms, base_ms)


def _summary(args, ours_ms: float, base_ms: float) -> None:
    print(f"{args.minutes} minutes of a centre with {args.services} services, one request at a time, {args.ckan_url}")
    print(f"| store one minute's rows | median ms |\n| --- | --- |\n"
          f"| govservice_queue_load (checked, into service-queues) | {ours_ms:.0f} |\n"
          f"| datastore_upsert (baseline: no checks, scratch table) | {base_ms:.0f} |")
    print(f"ratio baseline / ours: {base_ms / ours_ms:.2f} (> 1: ours is faster)")


if __name__ == "__main__":
    main()
