"""Monthly statistics of in-person service (issue 17): appointments made and kept,
people served, served within 30 minutes, the mean and 90th-percentile wait, and
the KPIs made of them."""
from __future__ import annotations

import pytest
from ckan.tests import helpers

from .. import factories as gov
from .test_statistics import load_csv, published

HEADER = ("service_code,period,channel,received,appointments_made,appointments_kept,served,"
          "served_within_30_minutes,wait_minutes_mean,wait_minutes_p90\n")


@pytest.fixture
def halls(statistics_db, sysadmin, dept):
    """Two services handled at the counters: SR-1 and SR-2."""
    gov.service(dept["id"], service_code="SR-1", name="sr-1")
    gov.service(dept["id"], service_code="SR-2", name="sr-2")
    return sysadmin


def kpis(**params) -> dict:
    answer = helpers.call_action("govservice_kpis", context={"ignore_auth": False, "user": ""},
                                 department="market-regulation", period_from="2026-01", period_to="2026-01",
                                 **params)
    return {name: k["value"] for name, k in answer["results"][0]["kpis"].items()}


def test_more_appointments_kept_than_made_is_rejected_while_the_rest_land(halls):
    report = load_csv(halls, "market-regulation", HEADER
                      + "SR-1,2026-01,in_person,50,40,30,50,45,12.5,28\n"
                      + "SR-2,2026-01,in_person,20,10,12,20,15,20,41\n")

    assert (report["inserted"], report["rejected"]) == (1, 1)
    assert [(r["line"], r["field"], r["reason"]) for r in report["rejections"]] == [
        (3, "appointments_kept", "is 12, more than the appointments made (10)")]


def test_more_served_within_30_minutes_than_served_is_rejected(halls):
    report = load_csv(halls, "market-regulation", HEADER + "SR-1,2026-01,in_person,50,,,50,51,12,28\n")

    assert [(r["field"], r["reason"]) for r in report["rejections"]] == [
        ("served_within_30_minutes", "is 51, more than the people served (50)")]


def test_a_negative_wait_is_rejected(halls):
    report = load_csv(halls, "market-regulation", HEADER + "SR-1,2026-01,in_person,50,,,50,40,-3,28\n")

    assert [(r["field"], r["reason"]) for r in report["rejections"]] == [("wait_minutes_mean", "is negative")]


def test_the_in_person_figures_are_published_in_the_open_table(halls):
    load_csv(halls, "market-regulation", HEADER + "SR-1,2026-01,in_person,50,40,30,50,45,12.5,28\n")

    row = published()[0]
    assert (row["appointments_made"], row["appointments_kept"], row["served"], row["served_within_30_minutes"],
            float(row["wait_minutes_mean"]), float(row["wait_minutes_p90"])) == (40, 30, 50, 45, 12.5, 28.0)


def test_the_in_person_kpis_are_ratios_of_the_rows_sums(halls):
    load_csv(halls, "market-regulation", HEADER
             + "SR-1,2026-01,in_person,50,40,30,50,45,10,28\n"
             + "SR-2,2026-01,in_person,150,60,60,150,75,30,70\n")

    values = kpis()

    assert values["appointment_keep_rate"] == round(90 / 100, 6)
    assert values["served_within_30_minutes_share"] == round(120 / 200, 6)
    # the mean wait of everyone served: each row's mean weighted by the people it served
    assert values["mean_wait_minutes"] == round((10 * 50 + 30 * 150) / 200, 6)


def test_a_row_without_appointments_kept_does_not_count_against_the_keep_rate(halls):
    load_csv(halls, "market-regulation", HEADER
             + "SR-1,2026-01,in_person,50,40,30,,,,\n"
             + "SR-2,2026-01,in_person,150,60,,,,,\n")

    assert kpis()["appointment_keep_rate"] == round(30 / 40, 6)


def test_a_platform_made_before_the_in_person_columns_gains_them_at_its_next_load(halls):
    import sqlalchemy as sa
    from ckanext.govservice import statistics_store as store
    from .test_statistics import table_id
    load_csv(halls, "market-regulation", "service_code,period,channel,received\nSR-1,2025-12,online,5\n")
    new = ["appointments_made", "appointments_kept", "served", "served_within_30_minutes",
           "wait_minutes_mean", "wait_minutes_p90"]
    with store.engine().begin() as conn:   # the table as the platform had made it before issue 17
        store.allow_replacing(conn)        # past the database's DDL guard, on purpose
        conn.execute(sa.text(f'ALTER TABLE public."{table_id()}" '
                             + ", ".join(f"DROP COLUMN {c}" for c in new)))

    report = load_csv(halls, "market-regulation", HEADER + "SR-1,2026-01,in_person,50,40,30,50,45,12.5,28\n")

    assert report["inserted"] == 1
    fields = {f["id"]: f for f in helpers.call_action("datastore_info", id=table_id())["fields"]}
    assert set(new) <= set(fields)
    assert fields["appointments_kept"]["info"]["label_en"] == "Appointments kept"
    assert [r["appointments_kept"] for r in published() if r["period"] == "2026-01"] == [30]
