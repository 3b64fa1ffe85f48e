"""Service centres (办事大厅, issue 17) harvested as a catalogue kind of their own
(``service_centres``) through the one pipeline: good centres land, a malformed
one is rejected with its field and reason while the rest land, and a service
then shows the centres whose counters handle it."""
import json
import uuid

import pytest

from govharvest import catalogues, db, sources

from test_pipeline import harvest, rewrite


def codes():
    """Centre codes of this test alone: the codes are unique on the whole test site."""
    tag = uuid.uuid4().hex[:6].upper()
    return f"HALL-{tag}-A", f"HALL-{tag}-B", f"HALL-{tag}-C"


def write_centres(folder, centres):
    rewrite(folder / "service_centres.json", json.dumps({"service_centres": centres, "next": None},
                                                        ensure_ascii=False).encode("utf-8"))


@pytest.fixture
def centres_source(portal, department, harvest_db, feed_server):
    folder, url = feed_server
    with db.connect() as conn:
        sources.add(conn, name="city-centres", department=department["name"], kind="service_centres",
                    format="json", location=f"{url}/service_centres.json", withdraw_threshold=1.0)
    return folder


def test_service_centres_are_a_catalogue_harvested_before_the_services():
    assert catalogues.harvest_tier({"kind": "service_centres"}) < catalogues.harvest_tier({"kind": "services"})


def test_a_centre_lands_owned_by_its_department(portal, department, centres_source):
    a, _, _ = codes()
    write_centres(centres_source, [{"centre_code": a, "title": "滨江市民服务中心", "address": "滨江市江南大道1号",
                                    "opening_hours": "Mo-Fr 09:00-17:00; Sa 09:00-12:00",
                                    "latitude": 30.2084, "longitude": 120.2108,
                                    "counters": [{"counter_number": "A01", "implementation_codes": "NOT-YET-1"}]}])

    report = harvest(portal, "city-centres")

    assert report["counts"]["new"] == 1
    centre = portal.action.package_show(id=f"centre-{a.lower()}")
    assert (centre["type"], centre["owner_org"], centre["opening_hours"], centre["latitude"]) == (
        "service_centre", department["id"], "Mo-Fr 09:00-17:00; Sa 09:00-12:00", 30.2084)


def test_a_centre_with_bad_hours_is_rejected_with_its_reason_while_the_rest_land(portal, department, centres_source):
    a, b, c = codes()
    write_centres(centres_source, [
        {"centre_code": a, "title": "东城区政务服务中心", "opening_hours": "Mo-Fr 08:30-12:00,13:30-17:00"},
        {"centre_code": b, "title": "坏的办公时间", "opening_hours": "周一至周五 9:00-17:00"},
        {"centre_code": c, "title": "24小时自助服务区", "opening_hours": "24/7"}])

    report = harvest(portal, "city-centres")

    assert (report["counts"]["new"], report["counts"]["rejected"]) == (2, 1)
    rejected, = report["rejected"]
    assert (rejected["record"], list(rejected["errors"])) == (b, ["opening_hours"])
    assert "'周一至周五' is not a day or a range of days" in rejected["errors"]["opening_hours"][0]


def test_a_centre_placed_off_the_globe_is_rejected_naming_the_coordinate(portal, department, centres_source):
    a, b, _ = codes()
    write_centres(centres_source, [{"centre_code": a, "title": "好的大厅"},
                                   {"centre_code": b, "title": "坐标错误", "latitude": 300, "longitude": 120}])

    report = harvest(portal, "city-centres")

    rejected, = report["rejected"]
    assert rejected["errors"] == {"latitude": ["item 2: must be between -90 and 90 degrees (got 300)"]}


def test_a_service_shows_the_harvested_centre_that_handles_it(portal, department, centres_source):
    a, _, _ = codes()
    implementation = f"IMPL-{uuid.uuid4().hex[:8]}"
    service = portal.action.package_create(
        type="service", owner_org=department["id"], service_code=f"SC-{uuid.uuid4().hex[:6]}", title="婚姻登记",
        service_type="public_service", audience="citizen", committed_limit=1, in_person_visits=1,
        implementation_code=implementation)
    write_centres(centres_source, [{"centre_code": a, "title": "婚姻登记处", "address": "滨江市民政路1号",
                                    "counters": [{"counter_number": "1", "implementation_codes": [implementation]}]}])

    harvest(portal, "city-centres")

    shown = portal.action.package_show(id=service["name"])
    assert [(c["centre_code"], c["address"]) for c in shown["service_centres"]] == [(a, "滨江市民政路1号")]
