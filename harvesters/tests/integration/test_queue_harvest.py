"""Queue sources: a service centre's live queues over HTTP into the platform's time series."""
from __future__ import annotations

import datetime as dt
import json

from govharvest import db, feedserver, sources

from test_pipeline import harvest

BEIJING = dt.timezone(dt.timedelta(hours=8))
HEADER = "大厅编码,实施编码,观测时间,等候人数,预计等候分钟数,当日剩余预约号\r\n"


def minutes_ago(n: int) -> str:
    return (dt.datetime.now(BEIJING) - dt.timedelta(minutes=n)).replace(second=0, microsecond=0).isoformat()


def make_centre(portal, department) -> dict:
    """A centre of the department's own (centre codes are unique on the whole test site)."""
    code = "HALL-" + department["name"].rsplit("-", 1)[-1].upper()
    return portal.action.package_create(
        type="service_centre", name=f"centre-{code.lower()}", centre_code=code, title="滨江市民中心",
        owner_org=department["id"], opening_hours="Mo-Su 00:00-24:00",
        counters=[{"counter_number": "1", "implementation_codes": ["IMP-Q1", "IMP-Q2"]}])


def add_queue_source(department, location: str, fmt: str = "csv") -> None:
    with db.connect() as conn:
        sources.add(conn, name="hall-queues", department=department["name"], format=fmt,
                    location=location, kind="queues", schedule="* * * * *")


def stored_rows(portal, centre: dict) -> list[dict]:
    table = next(r["id"] for r in portal.action.package_show(id="service-queues")["resources"])
    found = portal.action.datastore_search(resource_id=table, filters={"centre_code": centre["centre_code"]},
                                           sort="observed_at, implementation_code", limit=100)
    return found["records"]


def test_a_queue_feed_lands_and_a_malformed_row_is_rejected_with_its_line_field_and_reason(
        portal, department, harvest_db, feed_server):
    folder, url = feed_server
    centre = make_centre(portal, department)
    hall = centre["centre_code"]
    (folder / "queues.csv").write_text(HEADER + "".join([
        f"{hall},IMP-Q1,{minutes_ago(2)},4,12,30\r\n",
        f"{hall},IMP-Q2,{minutes_ago(2)},-3,12,\r\n",          # a negative queue
        f"{hall},IMP-Q2,{minutes_ago(1)},2,soon,\r\n",         # a wait that is not a number
        f"{hall},IMP-Q1,{minutes_ago(1)},5,15,29\r\n",
    ]), encoding="utf-8")
    add_queue_source(department, f"{url}/queues.csv")

    report = harvest(portal, "hall-queues")

    assert report["status"] == "done", report["error"]
    assert report["counts"] == {"rows": 4, "stored": 2, "unchanged": 0, "rejected": 2}
    rejected = {r["record"]: r["errors"] for r in report["rejected"]}
    assert rejected == {
        "line 3": {"tickets_waiting": [
            f"line 3: {hall}/IMP-Q2/{minutes_ago(2)}: tickets_waiting ('-3') is negative; it cannot be below zero"]},
        "line 4": {"estimated_wait_minutes": [
            f"line 4: {hall}/IMP-Q2/{minutes_ago(1)}: estimated_wait_minutes ('soon') is not a number"]},
    }
    assert [(r["implementation_code"], r["tickets_waiting"]) for r in stored_rows(portal, centre)] == [
        ("IMP-Q1", 4), ("IMP-Q1", 5)]


def test_a_queues_source_reads_only_csv_or_json(harvest_db, department):
    import pytest
    with db.connect() as conn, pytest.raises(sources.SourceError, match="a queues source is read as one of"):
        sources.add(conn, name="hall-queues", department=department["name"], format="cpsv",
                    location="https://hall.example.gov.cn/queues.ttl", kind="queues")


def test_the_feed_servers_simulated_queue_is_harvested_as_json(portal, department, harvest_db, feed_server):
    folder, _ = feed_server
    centre = make_centre(portal, department)
    (folder / department["name"]).mkdir()
    (folder / department["name"] / "service_centres.json").write_text(
        json.dumps({"service_centres": [{"centre_code": centre["centre_code"], "opening_hours": "Mo-Su 00:00-24:00",
                                         "counters": centre["counters"]}]}), encoding="utf-8")
    server = feedserver.create_app(folder).test_client()
    body = server.get(f"/queues/{department['name']}/{centre['centre_code']}.json").get_data()
    (folder / "simulated.json").write_bytes(body)     # served over HTTP by the test's file server
    add_queue_source(department, f"{feed_server[1]}/simulated.json", fmt="json-file")

    report = harvest(portal, "hall-queues")

    assert report["status"] == "done", report["error"]
    assert report["counts"]["stored"] == 2
    assert {r["implementation_code"] for r in stored_rows(portal, centre)} == {"IMP-Q1", "IMP-Q2"}


def test_a_queue_feed_on_a_private_address_is_refused_and_nothing_lands(
        portal, department, harvest_db, feed_server, monkeypatch):
    folder, url = feed_server            # served on loopback, which this test does not allow
    monkeypatch.delenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS")
    centre = make_centre(portal, department)
    (folder / "queues.csv").write_text(
        HEADER + f"{centre['centre_code']},IMP-Q1,{minutes_ago(1)},4,12,30\r\n", encoding="utf-8")
    add_queue_source(department, f"{url}/queues.csv")

    report = harvest(portal, "hall-queues")

    assert report["status"] == "failed"
    assert "private or local address" in report["error"]


def test_a_queue_source_forgets_its_jobs_of_more_than_two_days_ago(portal, department, harvest_db, feed_server):
    folder, url = feed_server
    centre = make_centre(portal, department)
    (folder / "queues.csv").write_text(
        HEADER + f"{centre['centre_code']},IMP-Q1,{minutes_ago(1)},4,12,30\r\n", encoding="utf-8")
    add_queue_source(department, f"{url}/queues.csv")
    first = harvest(portal, "hall-queues")
    with db.connect() as conn, conn.cursor() as cur:   # as if it had run three days ago
        cur.execute("UPDATE job SET finished_at = now() - interval '3 days' WHERE id = %s", (first["job"],))

    harvest(portal, "hall-queues")

    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) AS n FROM job WHERE id = %s", (first["job"],))
        assert cur.fetchone()["n"] == 0
