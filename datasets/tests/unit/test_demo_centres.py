"""The demo city's service centres (datasets/demo/centres.py, issue 17): every
centre is one the platform accepts, and a service's centres are exactly the
halls its in-person channels name. Pure: the city's committed files only."""
from __future__ import annotations

import json

import pytest

from ckanext.govservice.core import centres as core_centres

from demo_city import CITY


@pytest.fixture(scope="module")
def office():
    return json.loads((CITY / "departments.json").read_text(encoding="utf-8"))["catalogues"]


@pytest.fixture(scope="module")
def centres(office):
    return json.loads((CITY / office["service_centres"]["file"]).read_text(encoding="utf-8"))["service_centres"]


@pytest.fixture(scope="module")
def implementation_codes():
    """{implementation code: the hall names its in-person channels give}, from the catalogue as it should land."""
    found = {}
    for path in CITY.glob("*/services.json"):
        feed = json.loads(path.read_text(encoding="utf-8"))
        for s in feed["services"] if isinstance(feed, dict) else []:   # not the Open311 list
            found[s["implementation_code"]] = {c.get("name") for c in s.get("channels") or []
                                               if c.get("channel_type") == "in_person"}
    return found


def test_the_feed_lists_as_many_centres_as_departments_json_says(office, centres):
    assert len(centres) == office["service_centres"]["count"] == 16


def test_every_centre_code_is_its_own(centres):
    assert len({c["centre_code"] for c in centres}) == len(centres)


def test_every_centres_hours_are_in_the_platforms_form(centres):
    assert all(core_centres.normalise_hours(c["opening_hours"]) == c["opening_hours"] for c in centres)


def test_every_centres_coordinates_are_in_range(centres):
    assert [c["centre_code"] for c in centres if core_centres.check_coordinates(c["latitude"], c["longitude"])] == []


def test_the_self_service_areas_are_the_24_hour_centres(centres):
    assert sorted(c["centre_code"] for c in centres if core_centres.open_all_day(c["opening_hours"])) == sorted(
        c["centre_code"] for c in centres if c["centre_code"].endswith("-24H"))


def test_a_hall_handles_the_json_feeds_services_that_name_it(centres, implementation_codes):
    by_code = {c["title"]: set(core_centres.counter_codes(c["counters"])) for c in centres}
    for code, halls in implementation_codes.items():
        for hall in halls:
            assert code in by_code[hall], (code, hall)
