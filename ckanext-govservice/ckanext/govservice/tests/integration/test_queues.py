"""The live queues of the service centres (issue 17): a centre's rows into the
open DataStore time series, checked row by row, and read back per centre."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
import ckan.plugins.toolkit as tk
from ckan.tests import factories, helpers

from ckanext.govservice import queues, statistics_store as store

from .. import factories as gov

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _centre(owner_org: str, code: str, services: list[str]) -> dict:
    return helpers.call_action(
        "package_create", context={"user": factories.Sysadmin()["name"]},
        type="service_centre", name=queues.centre_dataset_name(code), centre_code=code,
        title="滨江市民中心", title_en="Binjiang Citizen Centre", owner_org=owner_org,
        opening_hours="Mo-Fr 09:00-17:00",
        counters=[{"counter_number": "1", "counter_name": "综合窗口", "implementation_codes": services}])


def _row(minutes_ago: int, code: str = "IMP-LICENCE", waiting: int = 5, **overrides) -> dict:
    at = (dt.datetime.now(SHANGHAI) - dt.timedelta(minutes=minutes_ago)).replace(second=0, microsecond=0)
    return {"centre_code": "BJ-HALL", "implementation_code": code, "observed_at": at.isoformat(),
            "tickets_waiting": waiting, "estimated_wait_minutes": waiting * 4,
            "appointments_left_today": 12, **overrides}


def _load(org: dict, rows: list[dict], user: str | None = None) -> dict:
    return helpers.call_action("govservice_queue_load",
                               context={"user": user or factories.Sysadmin()["name"], "ignore_auth": False},
                               department=org["name"], rows=rows)


def _stored() -> list[dict]:
    table = queues.queue_table(create=False)
    with store.engine().connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(
            f'SELECT centre_code, implementation_code, tickets_waiting FROM public."{table}" '
            "ORDER BY observed_at, implementation_code")).mappings()]


@pytest.fixture
def hall(statistics_db, sysadmin):
    queues._table.clear()   # the database was emptied: the resource id this process knew is gone
    org = gov.department(name="admin-approval")
    gov.service(org["id"], implementation_code="IMP-LICENCE", title="食品经营许可")
    _centre(org["id"], "BJ-HALL", ["IMP-LICENCE", "IMP-PERMIT"])
    return org


def test_a_queue_feed_lands_in_the_open_time_series(hall):
    report = _load(hall, [_row(2), _row(1), _row(1, "IMP-PERMIT", waiting=0)])

    assert (report["stored"], report["rejected"]) == (3, 0)
    assert _stored() == [
        {"centre_code": "BJ-HALL", "implementation_code": "IMP-LICENCE", "tickets_waiting": 5},
        {"centre_code": "BJ-HALL", "implementation_code": "IMP-LICENCE", "tickets_waiting": 5},
        {"centre_code": "BJ-HALL", "implementation_code": "IMP-PERMIT", "tickets_waiting": 0},
    ]
    found = helpers.call_action("datastore_search", resource_id=queues.queue_table(create=False),
                                filters={"implementation_code": "IMP-PERMIT"})
    assert found["total"] == 1
    assert {f["id"]: f.get("info", {}).get("label_en") for f in found["fields"]}["estimated_wait_minutes"] \
        == "Estimated wait (minutes)"


def test_the_same_feed_read_twice_stores_nothing_twice(hall):
    rows = [_row(1), _row(1, "IMP-PERMIT")]
    _load(hall, rows)

    again = _load(hall, rows)

    assert (again["stored"], again["unchanged"]) == (0, 2)
    assert len(_stored()) == 2


def test_a_malformed_row_is_rejected_with_its_reason_while_the_rest_land(hall):
    future = (dt.datetime.now(SHANGHAI) + dt.timedelta(hours=2)).replace(microsecond=0).isoformat()
    report = _load(hall, [
        _row(3),
        _row(2, tickets_waiting=-4),
        _row(2, "IMP-PERMIT", estimated_wait_minutes="about ten"),
        _row(1, observed_at=future),
        _row(1, centre_code="NO-SUCH-HALL"),
        _row(1, "IMP-PERMIT"),
    ])

    assert (report["rows"], report["stored"], report["rejected"]) == (6, 2, 4)
    reasons = {r["row"]: (r["field"], r["reason"]) for r in report["rejections"]}
    assert reasons[2] == ("tickets_waiting", "is negative; it cannot be below zero")
    assert reasons[3] == ("estimated_wait_minutes", "is not a number")
    assert reasons[4][0] == "observed_at" and reasons[4][1].startswith("is 1")   # 119 or 120 minutes
    assert "minutes in the future" in reasons[4][1]
    assert reasons[5] == ("centre_code", "is not a service centre of department admin-approval on the platform")
    assert [r["implementation_code"] for r in _stored()] == ["IMP-LICENCE", "IMP-PERMIT"]


def test_a_department_cannot_report_another_departments_centre(hall):
    other = gov.department(name="civil-affairs")

    report = _load(other, [_row(1)])

    assert report["stored"] == 0
    assert report["rejections"][0]["reason"] == "is not a service centre of department civil-affairs on the platform"


def test_only_the_departments_editors_may_load_its_queues(hall):
    stranger = factories.User()["name"]

    with pytest.raises(tk.NotAuthorized):
        _load(hall, [_row(1)], user=stranger)


def test_the_centre_queue_is_the_latest_of_each_service_with_its_name(hall):
    _load(hall, [_row(20, waiting=9), _row(5, waiting=3), _row(10, "IMP-PERMIT", waiting=1,
                                                                  appointments_left_today=None)])

    result = helpers.call_action("govservice_centre_queue", context={"user": ""}, centre_code="BJ-HALL")

    latest = {s["implementation_code"]: (s["tickets_waiting"], s["appointments_left_today"])
              for s in result["services"]}
    assert latest == {"IMP-LICENCE": (3, 12), "IMP-PERMIT": (1, None)}
    by_code = {s["implementation_code"]: s["service"] for s in result["services"]}
    assert by_code["IMP-LICENCE"]["title"] == "食品经营许可"
    assert by_code["IMP-PERMIT"] is None
    assert dt.datetime.fromisoformat(result["observed_at"]) == dt.datetime.fromisoformat(_row(5)["observed_at"])


def test_the_centre_queue_of_an_unknown_centre_is_not_found(hall):
    with pytest.raises(tk.ObjectNotFound, match="no service centre NOWHERE on the platform"):
        helpers.call_action("govservice_centre_queue", context={"user": ""}, centre_code="NOWHERE")


def test_pruning_deletes_the_observations_older_than_the_retention(hall):
    old = (dt.datetime.now(SHANGHAI) - dt.timedelta(days=91)).replace(microsecond=0)
    _load(hall, [_row(1)])
    with store.engine().begin() as conn:   # a row from three months ago (a feed may not send the past in bulk)
        conn.execute(sa.text(f'INSERT INTO public."{queues.queue_table(create=False)}" '
                             "(centre_code, implementation_code, observed_at, tickets_waiting, estimated_wait_minutes) "
                             "VALUES ('BJ-HALL', 'IMP-LICENCE', :at, 1, 1)"), {"at": old})

    assert queues.prune(90) == {"deleted": 1}
    assert len(_stored()) == 1


def test_the_centre_page_shows_the_live_queue_table(hall, app):
    _load(hall, [_row(1, waiting=7)])

    html = app.get("/centre/BJ-HALL").body

    assert 'id="live-queue-table"' in html
    assert "食品经营许可" in html
    assert 'data-field="tickets_waiting">7<' in html
    assert "No appointments" not in html and "不设预约" not in html   # the service takes them: 12 left


def test_the_centre_page_says_when_there_are_no_queue_figures_today(hall, app):
    html = app.get("/centre/BJ-HALL", headers={"Accept-Language": "en"}).body

    assert 'id="live-queue-none"' in html
    assert 'id="live-queue-table"' not in html
