"""Harvest workers on several machines: two `govharvest worker` processes, each with an
environment of its own (its own spool folder, as on another host), share the Redis queue
and the harvest database; two departments' harvests run at once, one on each, and
neither steps on the other (both departments use the same service codes)."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import rq

from govharvest import db, pipeline, queue, sources

from test_pipeline import HEADER
from test_running import harvest_queue  # noqa: F401  (a fixture)

GOVHARVEST = str(Path(sys.executable).parent / "govharvest")
RECORDS = 20


def _feed(folder: Path, name: str, title: str) -> None:
    rows = "".join(f"R-{i},{title}{i},public_service,citizen,10,{1 + i % 5},0\r\n" for i in range(1, RECORDS + 1))
    (folder / name).write_bytes((HEADER + rows).encode("gbk"))


def test_two_workers_run_two_departments_harvests_at_once_without_collision(
        portal, department, feed_server, harvest_db, harvest_queue, tmp_path):  # noqa: F811
    folder, url = feed_server
    other = portal.action.organization_create(name=f"{department['name']}-b", title="采集测试二局")
    _feed(folder, "a.csv", "甲局事项")
    _feed(folder, "b.csv", "乙局事项")
    with db.connect() as conn:
        sources.add(conn, name="dept-a", department=department["name"], format="csv", location=f"{url}/a.csv")
        sources.add(conn, name="dept-b", department=other["name"], format="csv", location=f"{url}/b.csv")

    workers = []
    for host in ("host-1", "host-2"):
        spool = tmp_path / host
        spool.mkdir()
        env = {**os.environ, "TMPDIR": str(spool)}   # the test site, the test queue and database
        workers.append(subprocess.Popen([GOVHARVEST, "worker"], env=env, start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        deadline = time.monotonic() + 60
        while len(rq.Worker.all(queue=queue.queue())) < 2:
            assert time.monotonic() < deadline, "the two workers did not register with Redis"
            time.sleep(0.2)
        with db.connect() as conn:
            jobs = [queue.enqueue(conn, sources.get(conn, name)) for name in ("dept-a", "dept-b")]
        deadline = time.monotonic() + 240
        while True:
            with db.connect() as conn, conn.cursor() as cur:
                cur.execute("SELECT id, status, started_at, finished_at FROM job WHERE id = ANY(%s) ORDER BY id",
                            (jobs,))
                done = cur.fetchall()
            if all(j["status"] not in ("queued", "running") for j in done):
                break
            assert time.monotonic() < deadline, f"the harvests did not finish: {done}"
            time.sleep(0.5)
    finally:
        for w in workers:
            os.killpg(w.pid, signal.SIGTERM)
        for w in workers:
            w.wait(timeout=60)

    # each ran on its own worker, at the same time
    ran_on = {rq.job.Job.fetch(f"govharvest-{j}", connection=queue.redis_connection()).worker_name for j in jobs}
    assert len(ran_on) == 2, ran_on
    assert max(j["started_at"] for j in done) < min(j["finished_at"] for j in done), done
    # and neither touched the other's department, though the codes are the same
    with db.connect() as conn:
        reports = [pipeline.report(conn, j) for j in jobs]
    assert [(r["status"], r["counts"].get("new")) for r in reports] == [("done", RECORDS), ("done", RECORDS)], reports
    for org, title in ((department, "甲局事项"), (other, "乙局事项")):
        found = portal.action.package_search(fq=f"owner_org:{org['id']} AND dataset_type:service", rows=100)
        assert found["count"] == RECORDS
        assert sorted(d["service_code"] for d in found["results"]) == sorted(f"R-{i}" for i in range(1, RECORDS + 1))
        assert {d["title"][:4] for d in found["results"]} == {title}
