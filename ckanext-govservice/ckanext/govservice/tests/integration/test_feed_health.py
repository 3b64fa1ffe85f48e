"""Feed health and coverage for the data office, against the harvest test database
and loaded statistics: stale and failing sources with their last error, rejected
records, coverage on a known share, idle and withdrawn services."""
from __future__ import annotations

import os
from pathlib import Path

import psycopg2
import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import factories, helpers

from ckanext.govservice import catalogue_publish, feed_health

from .. import factories as gov
from ..pages import checked, fetch
from .test_statistics import HEADER, load_csv

ROOT = Path(__file__).resolve().parents[5]


def harvest_test_db_url() -> str:
    """The harvest test database of this test slot, as the harvesters' own tests name it."""
    env = dict(line.split("=", 1) for line in (ROOT / "var" / "harvest.env").read_text().splitlines() if "=" in line)
    url = env["GOVHARVEST_TEST_DB_URL"]
    slot = os.environ.get("GOVSERVICE_TEST_SLOT")
    return url + f"_{slot}" if slot else url


@pytest.fixture
def harvest_db(monkeypatch):
    url = harvest_test_db_url()
    monkeypatch.setitem(tk.config, "ckanext.govservice.harvest.db_url", url)
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("TRUNCATE job_outcome, record, job, source RESTART IDENTITY CASCADE")
    yield conn
    conn.close()


def harvested(conn, source: str, department: str, *jobs: tuple[str, str, str | None, str]) -> None:
    """A source and its jobs: (status, finished how long ago, error, counts as JSON)."""
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO source (name, department, kind, format, location) "
                    "VALUES (%s, %s, 'services', 'json', 'https://feeds.example.gov.cn/x') RETURNING id",
                    (source, department))
        source_id = cur.fetchone()[0]
        for status, ago, error, counts in jobs:
            cur.execute("INSERT INTO job (source_id, status, started_at, finished_at, error, counts) "
                        "VALUES (%s, %s, now() - %s::interval, now() - %s::interval, %s, %s::jsonb)",
                        (source_id, status, ago, ago, error, counts))


@pytest.fixture
def department(statistics_db, sysadmin, dept, harvest_db):
    """market-regulation: five active services, two reporting last month; one
    withdrawn today; three feeds (one fine, one stale, one failing)."""
    for n in range(1, 6):
        gov.service(dept["id"], service_code=f"SR-{n}", name=f"sr-{n}")
    gov.service(dept["id"], service_code="SR-W", name="sr-w", status="withdrawn")
    month = feed_health.last_complete_month()
    load_csv(sysadmin, "market-regulation", HEADER
             + f"SR-1,{month},online,10,10,10,10,,,,,,,,,\n"
             + f"SR-2,{month},online,4,4,4,4,,,,,,,,,\n"
             + f"SR-3,{month},online,0,0,0,0,,,,,,,,,\n")
    harvested(harvest_db, "market-regulation-services", "market-regulation",
              ("done", "1 day", None, '{"new": 8, "changed": 0, "unchanged": 0, "rejected": 2}'))
    harvested(harvest_db, "market-regulation-open311", "market-regulation",
              ("done", "9 days", None, '{"new": 0, "changed": 0, "unchanged": 30, "rejected": 0}'))
    harvested(harvest_db, "market-regulation-statistics", "market-regulation",
              ("done", "10 days", None, '{"rows": 0, "rejected": 0}'),
              ("failed", "2 hours", "HTTP 500 from https://feeds.example.gov.cn/stats.csv", "{}"))
    return month


def test_stale_and_failing_sources_with_their_last_error_coverage_idle_and_withdrawn(department):
    [d] = feed_health.report("market-regulation")["departments"]
    states = {s["name"]: (s["state"], s["last_error"]) for s in d["sources"]}
    assert states == {
        "market-regulation-services": ("ok", None),
        "market-regulation-open311": ("stale", None),
        "market-regulation-statistics": ("failing", "HTTP 500 from https://feeds.example.gov.cn/stats.csv")}
    assert (d["stale"], d["failing"]) == (["market-regulation-open311"], ["market-regulation-statistics"])
    assert d["rejected_share"] == 0.05          # 2 rejected of the 40 records last read
    # SR-1, SR-2 and SR-3 reported last month (SR-3 that it received nothing)
    assert (d["services_reporting"], d["active_services"], d["coverage"]) == (3, 5, 0.6)
    assert d["coverage_below_threshold"] is True      # below 80%
    assert [s["service_code"] for s in d["idle_services"]] == ["SR-3", "SR-4", "SR-5"]
    assert [s["name"] for s in d["withdrawn_recently"]] == ["sr-w"]


def test_the_data_office_sees_every_department_ranked_and_others_are_refused(app, department, sysadmin):
    gov.department(name="tax-bureau", title="滨江市税务局")
    token = helpers.call_action("api_token_create", context=dict(sysadmin), user=sysadmin["user"], name="t")
    page = fetch(app, "/performance/feeds", headers={"Authorization": token["token"]})
    assert 'data-source="market-regulation-statistics" data-state="failing"' in page
    assert "HTTP 500 from https://feeds.example.gov.cn/stats.csv" in page
    assert "60% (3/5)" in page
    checked(app, "/performance/feeds", 403)            # anonymous
    editor = factories.User()
    helpers.call_action("organization_member_create", id="market-regulation", username=editor["name"], role="editor")
    with pytest.raises(tk.NotAuthorized):
        helpers.call_action("govservice_feed_health", context={"user": editor["name"], "ignore_auth": False})
    mine = helpers.call_action("govservice_feed_health", context={"user": editor["name"], "ignore_auth": False},
                               department="market-regulation")
    assert [d["department"] for d in mine["departments"]] == ["market-regulation"]


def test_a_department_that_never_sent_statistics_has_every_active_service_idle(department):
    """The KPI engine learns a department's services when its catalogue is rebuilt
    (after any service changes), not only when statistics are loaded."""
    gov.department(name="tax-bureau", title="滨江市税务局")
    tax = helpers.call_action("organization_show", id="tax-bureau")
    gov.service(tax["id"], service_code="TX-1", name="tx-1")
    gov.service(tax["id"], service_code="TX-2", name="tx-2")
    catalogue_publish.build_department("tax-bureau")

    [d] = feed_health.report("tax-bureau")["departments"]

    assert [s["service_code"] for s in d["idle_services"]] == ["TX-1", "TX-2"]
    assert (d["services_reporting"], d["active_services"]) == (0, 2)
