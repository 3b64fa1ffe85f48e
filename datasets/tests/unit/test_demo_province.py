"""The demo province (datasets/demo/province.py, issue 13) at a hundredth of its size:
its structure (a province, cities, districts; the same kinds of department in each),
one network (every service implements a basic item of the province's catalogue, the
same item at several levels with local differences, implementation codes unique),
every feed read back by the harvesters' readers and valid, the statistics' row count,
and the same bytes every time. The full province's counts are in README.md ("Province
scale"); the city's files are held unchanged by test_demo_city.py.
"""
from __future__ import annotations

import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path

import demo_city
import pytest
from demo_city import (
    DEMO,
    network_problems,
    read_catalogues,
    read_feed,
    read_statistics,
    row_problems,
    service_problems,
)

sys.path.insert(0, str(DEMO))   # datasets/demo is a folder of scripts, not a package
import province

SCALE = 0.01


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    first, second = tmp_path_factory.mktemp("province-1"), tmp_path_factory.mktemp("province-2")
    return province.generate(first, SCALE), first, second


@pytest.fixture(scope="module")
def manifest(generated):
    return generated[0]


@pytest.fixture(scope="module")
def out(generated):
    return generated[1]


@pytest.fixture(scope="module")
def feeds(manifest, out):
    """Every department's services as the harvest pipeline reads them."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(demo_city, "CITY", out)
        return {d["name"]: read_feed(d) for d in manifest["departments"]}


@pytest.fixture(scope="module")
def catalogues(manifest, out):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(demo_city, "CITY", out)
        return read_catalogues(manifest["catalogues"])


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- structure

def test_the_full_province_is_eleven_cities_of_eight_to_ten_districts_each():
    areas = province.areas(1.0)
    assert [a["level"] for a in areas].count("province") == 1
    cities = [a for a in areas if a["level"] == "city"]
    assert len(cities) == 11
    for city in cities:
        districts = [a for a in areas if a["level"] == "district" and a["area_code"][:4] == city["area_code"][:4]]
        assert 8 <= len(districts) <= 10, city["zh"]
    assert len({a["area_code"] for a in areas}) == len(areas)


def test_every_area_of_the_full_province_has_the_city_s_sixteen_kinds_of_department():
    departments = province.departments(1.0)
    assert len(departments) == 16 * len(province.areas(1.0))
    assert len({d["name"] for d in departments}) == len(departments)
    assert len({d["department_code"] for d in departments}) == len(departments)


def test_a_hundredth_is_the_province_one_city_and_one_district(manifest):
    assert [a["level"] for a in manifest["areas"]] == ["province", "city", "district"]
    assert {d["level"] for d in manifest["departments"]} == {"province", "city", "district"}


def test_a_hundredth_has_about_a_hundredth_of_the_services(manifest):
    assert 700 <= manifest["counts"]["services"] <= 1400


def test_every_department_s_count_is_what_its_feed_holds(manifest, feeds):
    for d in manifest["departments"]:
        assert len(feeds[d["name"]]) == d["services"]["count"], d["name"]


# ---------------------------------------------------------------- one network

def test_every_service_names_a_basic_item_of_the_province_s_catalogue(feeds, catalogues):
    items, _documents = catalogues
    codes = {b["basic_code"] for b in items}
    named = {s["basic_code"] for records in feeds.values() for s in records}
    assert named <= codes
    assert all(code.startswith(province.PROVINCE["area_code"] + "-") for code in codes)


def test_every_document_names_its_catalogue_code(feeds, catalogues):
    _items, documents = catalogues
    codes = {d["document_code"] for d in documents}
    demanded = [doc for records in feeds.values() for s in records for doc in s.get("documents") or []]
    assert demanded and all(doc.get("code") in codes for doc in demanded)


def test_implementation_codes_are_unique_across_the_province(feeds):
    codes = [s["implementation_code"] for records in feeds.values() for s in records]
    assert len(codes) == len(set(codes))


def test_a_basic_item_is_implemented_at_every_level_each_with_its_own_details(manifest, feeds):
    level = {d["name"]: d["level"] for d in manifest["departments"]}
    by_item = defaultdict(list)
    for name, records in feeds.items():
        for s in records:
            by_item[s["basic_code"]].append((level[name], s))
    shared = {code: impls for code, impls in by_item.items() if {lv for lv, _ in impls} == {"province", "city", "district"}}
    assert len(shared) >= 0.5 * len(by_item)

    def details(s):
        return (s["committed_limit"], json.dumps(s.get("fees"), sort_keys=True),
                tuple(doc["code"] for doc in s["documents"]), tuple(c["channel_type"] for c in s["channels"]),
                tuple(c.get("address") for c in s["channels"]))
    differing = [code for code, impls in shared.items() if len({details(s) for _, s in impls}) > 1]
    assert len(differing) >= 0.9 * len(shared)


def test_an_implementation_keeps_its_basic_item_s_statutory_limit(feeds, catalogues):
    items = {b["basic_code"]: b for b in catalogues[0]}
    for records in feeds.values():
        for s in records:
            b = items[s["basic_code"]]
            if b.get("statutory_limit") is not None:
                assert (int(s["statutory_limit"]), s["statutory_limit_unit"]) == (
                    int(b["statutory_limit"]), b.get("statutory_limit_unit") or "working_days"), s["service_code"]


def test_every_service_is_valid_and_the_network_refuses_none(manifest, feeds, catalogues):
    problems = {(name, s.get("service_code")): service_problems(s) or s.get("_error")
                for name, records in feeds.items() for s in records if service_problems(s) or s.get("_error")}
    assert problems == {}
    titles = {d["name"]: d["title"] for d in manifest["departments"]}
    assert network_problems(feeds, *catalogues, province.gen.NETWORK_REASONS, titles) == {}


def test_no_name_or_site_of_the_demo_city_is_left(out):
    for path in out.rglob("services.*"):
        text = path.read_bytes().decode("gbk" if "csv" in path.name and _gbk(path) else "utf-8-sig")
        assert "滨江" not in text and "binjiang" not in text.lower(), path


def _gbk(path: Path) -> bool:
    try:
        path.read_bytes().decode("utf-8")
        return False
    except UnicodeDecodeError:
        return True


# ---------------------------------------------------------------- statistics

def test_statistics_rows_are_services_times_channels_times_months(manifest, feeds):
    assert province.MONTHS >= 12
    expected = 0
    for d in manifest["departments"]:
        rows = sum(len(province.channels_reporting(s)) for s in feeds[d["name"]]) * province.MONTHS
        assert d["statistics"]["rows"] == rows, d["name"]
        expected += rows
    assert manifest["counts"]["statistics_rows"] == expected


def test_every_statistics_row_holds_together(manifest, out, feeds):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(demo_city, "CITY", out)
        for d in manifest["departments"][::7]:
            codes = {s["service_code"] for s in feeds[d["name"]]}
            lines = read_statistics(d)
            assert len(lines) == d["statistics"]["rows"]
            assert [(line, p) for line, row in lines if (p := row_problems(row, d["name"], codes))] == []


def test_months_run_from_2022_11_to_2026_10():
    assert province.periods()[0] == "2022-11" and province.periods()[-1] == "2026-10"


# ---------------------------------------------------------------- determinism

def test_generating_twice_writes_the_same_bytes(generated):
    _manifest, first, second = generated
    province.generate(second, SCALE)
    assert _digests(first) == _digests(second)
