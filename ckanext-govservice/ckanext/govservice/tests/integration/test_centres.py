"""Service centres (办事大厅, issue 17) on the real stack: the dataset type and its
validation, "open now" and "24 hours" at a fixed time, the centres a service
derives from their counters (package_show and the Solr facet field, kept in step
when a centre changes), and the centre pages."""
from __future__ import annotations

import re
import types

import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import helpers

from ckanext.govservice import centres

from .. import factories as gov
from ..pages import fetch

pytestmark = pytest.mark.usefixtures("clean_index")

# 2026-11-23 is a Monday; the platform's clock is Asia/Shanghai (+08:00).
MONDAY_10 = "2026-11-23T10:00:00+08:00"
MONDAY_LUNCH = "2026-11-23T12:30:00+08:00"
SUNDAY_3AM = "2026-11-29T03:00:00+08:00"


@pytest.fixture(autouse=True)
def jobs(monkeypatch):
    """The job queue, run when the test says (as the worker would); none reaches Redis."""
    queued = []

    def enqueue(fn, args=None, **kwargs):
        queued.append((fn, args or []))
        return types.SimpleNamespace(id=f"test-{len(queued)}")
    monkeypatch.setattr(tk, "enqueue_job", enqueue)
    monkeypatch.setitem(tk.config, "ckan.display_timezone", "Asia/Shanghai")

    def run():
        while queued:
            fn, args = queued.pop(0)
            fn(*args)
    return run


@pytest.fixture
def office(sysadmin):
    return gov.department(name="service-office", title="滨江市政务服务管理办公室",
                          title_en="Binjiang Government Service Office")


def centre(context, publisher, code, **overrides):
    return helpers.call_action("package_create", context=dict(context), **{
        "type": "service_centre", "owner_org": publisher["id"], "centre_code": code,
        "title": f"{code} 政务服务中心", **overrides})


def refused(context, publisher, code, **overrides) -> dict:
    with pytest.raises(tk.ValidationError) as e:
        centre(context, publisher, code, **overrides)
    return e.value.error_dict


def codes(result: dict) -> list[str]:
    return [c["centre_code"] for c in result["results"]]


@pytest.fixture
def three(sysadmin, office):
    """A weekday hall with a lunch break, a 24-hour self-service area, a night desk."""
    centre(sysadmin, office, "HALL-DAY", opening_hours="Mo-Fr 08:30-12:00,13:30-17:00; Sa 09:00-12:00")
    centre(sysadmin, office, "HALL-24", opening_hours="24/7")
    centre(sysadmin, office, "HALL-NIGHT", opening_hours="Fr-Sa 20:00-04:00")


def test_a_centre_is_named_from_its_code(sysadmin, office):
    assert centre(sysadmin, office, "BJ-Hall.01")["name"] == "centre-bj-hall-01"


def test_opening_hours_are_written_back_in_one_form(sysadmin, office):
    found = centre(sysadmin, office, "HALL-1", opening_hours="sa 09:00-12:00; mo-fr 8:30-17:00")
    assert (found["opening_hours"], found["open_all_day"]) == ("Mo-Fr 08:30-17:00; Sa 09:00-12:00", False)


def test_bad_opening_hours_are_refused_naming_the_part(sysadmin, office):
    assert refused(sysadmin, office, "HALL-1", opening_hours="周一至周五 9:00-17:00")["opening_hours"] == [
        "'周一至周五 9:00-17:00': '周一至周五' is not a day or a range of days "
        "(write Mo Tu We Th Fr Sa Su, or a range such as Mo-Fr)"]


def test_a_latitude_out_of_range_is_refused(sysadmin, office):
    assert refused(sysadmin, office, "HALL-1", latitude="120.5", longitude="30.2")["latitude"] == [
        "must be between -90 and 90 degrees (got 120.5)"]


def test_a_second_centre_with_the_same_code_is_refused(sysadmin, office):
    centre(sysadmin, office, "HALL-1")
    assert refused(sysadmin, office, "HALL-1", name="another")["centre_code"] == [
        "centre code HALL-1 is already used by centre-hall-1"]


def test_open_now_on_a_monday_morning(three):
    found = helpers.call_action("govservice_centres", open_now=True, at=MONDAY_10)
    assert codes(found) == ["HALL-24", "HALL-DAY"]


def test_open_now_over_the_lunch_break(three):
    assert codes(helpers.call_action("govservice_centres", open_now=True, at=MONDAY_LUNCH)) == ["HALL-24"]


def test_open_now_in_the_night_after_saturday(three):
    assert codes(helpers.call_action("govservice_centres", open_now="true", at=SUNDAY_3AM)) == [
        "HALL-24", "HALL-NIGHT"]


def test_a_time_without_offset_is_the_platforms_wall_clock(three):
    assert codes(helpers.call_action("govservice_centres", open_now=True, at="2026-11-23T12:30")) == ["HALL-24"]


def test_24_hours_lists_the_centres_that_never_close(three):
    assert codes(helpers.call_action("govservice_centres", open_all_day=True)) == ["HALL-24"]


def test_open_now_that_is_not_a_time_is_refused_naming_the_field(three):
    with pytest.raises(tk.ValidationError) as e:
        helpers.call_action("govservice_centres", at="monday")
    assert list(e.value.error_dict) == ["at"]


def test_a_withdrawn_centre_is_not_listed(sysadmin, office):
    centre(sysadmin, office, "HALL-OLD", opening_hours="24/7", status="withdrawn")
    assert helpers.call_action("govservice_centres")["count"] == 0


def test_the_centre_shows_whether_it_is_open_at_a_time(three):
    shown = helpers.call_action("govservice_centre_show", code="hall-day", at=MONDAY_LUNCH)
    assert (shown["centre_code"], shown["open_now"], shown["hours"][0]["ranges"]) == (
        "HALL-DAY", False, ["08:30-12:00", "13:30-17:00"])


@pytest.fixture
def licence(sysadmin, dept):
    return gov.service(dept["id"], context=dict(sysadmin), implementation_code="330100-XK-0001")


def test_a_service_lists_the_centres_whose_counters_handle_it(sysadmin, office, licence):
    centre(sysadmin, office, "HALL-A", address="滨江市江南大道1号", opening_hours="24/7",
           counters=[{"counter_number": "A01", "implementation_codes": ["330100-XK-0001"]}])
    centre(sysadmin, office, "HALL-B", counters=[{"counter_number": "B01", "implementation_codes": "OTHER-1"}])
    shown = helpers.call_action("package_show", id=licence["name"])
    assert [(c["centre_code"], c["address"], c["open_now"]) for c in shown["service_centres"]] == [
        ("HALL-A", "滨江市江南大道1号", True)]


def test_a_services_index_names_its_centres_once_the_centre_is_saved(sysadmin, office, licence, jobs):
    centre(sysadmin, office, "HALL-A", counters=[{"implementation_codes": "330100-XK-0001"}])
    jobs()
    found = helpers.call_action("package_search", fq='dataset_type:service AND service_centres_ss:"HALL-A"')
    assert [d["name"] for d in found["results"]] == [licence["name"]]


def test_a_service_leaves_the_index_of_a_centre_that_stops_handling_it(sysadmin, office, licence, jobs):
    hall = centre(sysadmin, office, "HALL-A", counters=[{"implementation_codes": "330100-XK-0001"}])
    jobs()
    helpers.call_action("package_patch", context=dict(sysadmin), id=hall["id"], counters=[])
    jobs()
    found = helpers.call_action("package_search", fq='dataset_type:service AND service_centres_ss:"HALL-A"')
    assert found["count"] == 0


def test_a_code_no_service_has_is_flagged_not_refused(sysadmin, office, licence):
    centre(sysadmin, office, "HALL-A", counters=[{"implementation_codes": ["330100-XK-0001", "NOT-YET-1"]}])
    shown = helpers.call_action("govservice_centre_show", code="HALL-A")
    assert shown["unknown_implementation_codes"] == ["NOT-YET-1"]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_centre_page_renders_with_every_optional_field_absent(app, sysadmin, office):
    centre(sysadmin, office, "HALL-BARE")
    page = text_of(fetch(app, "/centre/HALL-BARE"))
    assert "HALL-BARE 政务服务中心" in page and "HALL-BARE" in page


def test_the_centre_page_links_the_services_its_counters_handle(app, sysadmin, office, licence):
    centre(sysadmin, office, "HALL-A", opening_hours="24/7", appointment_url="https://yuyue.example.gov.cn/a",
           accessibility=["step_free_access", "hearing_loop"], latitude="30.27", longitude="120.15",
           counters=[{"counter_number": "A01", "counter_name": "综合受理", "implementation_codes": ["330100-XK-0001"]}])
    page = fetch(app, "/centre/HALL-A")
    assert f'href="/service/{licence["name"]}"' in page and "https://yuyue.example.gov.cn/a" in page


def test_the_centre_page_carries_schema_org_opening_hours(app, sysadmin, office):
    centre(sysadmin, office, "HALL-A", opening_hours="Mo 09:00-12:00")
    page = fetch(app, "/centre/HALL-A")
    assert '"dayOfWeek": "https://schema.org/Monday", "opens": "09:00", "closes": "12:00"' in page


def test_the_map_is_drawn_from_the_configured_tiles(app, sysadmin, office, monkeypatch):
    monkeypatch.setitem(tk.config, "ckanext.govservice.map_tiles_url", "https://tiles.example.gov.cn/{z}/{x}/{y}.png")
    centre(sysadmin, office, "HALL-A", latitude="30.2741", longitude="120.1551")
    assert "https://tiles.example.gov.cn/16/54641/26980.png" in fetch(app, "/centre/HALL-A")


def test_the_centre_list_filters_24_hours(app, three):
    page = fetch(app, "/centre/?all_day=1")
    assert re.findall(r'data-centre="([^"]+)"', page) == ["HALL-24"]


def test_an_unknown_centre_is_a_404_naming_it(app, sysadmin):
    assert "HALL-NOPE" in fetch(app, "/centre/HALL-NOPE", status=404)


def test_service_search_offers_the_centres_as_a_facet_named_in_words(app, sysadmin, office, licence, jobs):
    centre(sysadmin, office, "HALL-A", title="江南市民中心", counters=[{"implementation_codes": "330100-XK-0001"}])
    jobs()
    page = fetch(app, "/service/", headers={"Accept-Language": "zh-CN"})
    assert re.search(r'service_centres_ss=HALL-A[^>]*>.*?江南市民中心', page, re.S)


def test_the_service_page_says_where_to_go(app, sysadmin, office, licence):
    centre(sysadmin, office, "HALL-A", title="江南市民中心", address="滨江市江南大道1号",
           counters=[{"implementation_codes": "330100-XK-0001"}])
    page = fetch(app, f"/service/{licence['name']}")
    where = page[page.index('id="where-to-go"'):]
    assert 'href="/centre/HALL-A"' in where and "滨江市江南大道1号" in where


def test_a_misspelt_filter_is_refused_naming_it(three):
    with pytest.raises(tk.ValidationError) as e:
        helpers.call_action("govservice_centres", opennow="true")
    assert list(e.value.error_dict) == ["opennow"]


def test_a_code_with_a_nul_byte_is_not_found_rather_than_a_server_error(three):
    with pytest.raises(tk.ObjectNotFound):
        helpers.call_action("govservice_centre_show", code="HALL\x00DAY")


def test_a_sysadmin_sees_the_link_to_edit_the_centre(app, sysadmin, office):
    from ckan.tests import factories
    centre(sysadmin, office, "HALL-A")
    auth = {"Authorization": factories.APIToken(user=factories.Sysadmin()["name"])["token"]}
    assert 'href="/service_centre/edit/centre-hall-a"' in fetch(app, "/centre/HALL-A", headers=auth)


def test_the_centre_page_is_in_english_on_an_english_page(app, sysadmin, office):
    centre(sysadmin, office, "HALL-A", title_en="Riverside Hall", opening_hours="Mo 09:00-12:00")
    page = text_of(fetch(app, "/en/centre/HALL-A"))
    assert "Riverside Hall" in page and "Opening hours" in page


def test_the_services_cpsv_ap_names_its_centre_as_a_channel(app, sysadmin, office, licence):
    from rdflib import Graph, URIRef
    from ckanext.govservice.core import cpsv
    centre(sysadmin, office, "HALL-A", opening_hours="24/7", counters=[{"implementation_codes": "330100-XK-0001"}])
    g = Graph().parse(data=fetch(app, f"/service/{licence['name']}.ttl"), format="turtle")
    channels = [str(c) for c in g.objects(None, cpsv.CV.hasChannel) if str(c).endswith("/centre/HALL-A")]
    assert len(channels) == 1 and (URIRef(channels[0]), cpsv.CV.openingHours, None) in g
