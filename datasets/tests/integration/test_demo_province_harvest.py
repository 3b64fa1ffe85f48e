"""The demo province loaded as `make demo-province` loads it (stack/demo.py --province
--serve): a small province generated into a folder, served by the reference feed
server, its departments and sources registered by stack/demo.py's own register(),
then harvested in its order (catalogues, services, statistics) through the
harvesters' pipeline into the test site (CKAN in-process, the test databases).

The same item at three levels: the province's, a city's and a district's
departments of one kind, each landing every service it sends, every statistics
row, and each implementing the same basic items under the province's codes.
"""
from __future__ import annotations

import os
import sys
import time

import demo_city
import pytest
from demo_city import DEMO, ROOT, read_feed, service_name
from test_demo_harvest import harvest_db  # noqa: F401  (the harvest test database, emptied)

sys.path[:0] = [str(DEMO), str(ROOT / "stack")]   # folders of scripts, not packages
import demo
import province

SCALE = 0.001
KIND = "public-security"


@pytest.fixture(scope="module")
def small_province(tmp_path_factory):
    """A thousandth of the province (the province, a city and a district), cut to the
    catalogues and the departments of KIND at the three levels."""
    folder = tmp_path_factory.mktemp("province")
    manifest = province.generate(folder, SCALE)
    manifest["departments"] = [d for d in manifest["departments"] if d["kind"] == KIND]
    return folder, manifest


@pytest.fixture
def loaded(with_plugins, clean_db, clean_index, monkeypatch, harvest_db, small_province):  # noqa: F811
    """stack/demo.py's register() and harvest_in_order() on the served folder."""
    import ckan.plugins.toolkit as tk
    from ckan.tests import factories
    from ckanapi import LocalCKAN
    monkeypatch.setenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    monkeypatch.setitem(tk.config, "ckanext.govservice.catalogue.auto_rebuild", False)
    folder, manifest = small_province
    server = demo.serve(folder, "http://127.0.0.1:0")
    try:
        feed_url = f"http://127.0.0.1:{server.server_port}"
        ckan = LocalCKAN(username=factories.Sysadmin()["name"])
        stages = demo.register(ckan, manifest, feed_url)
        reports = demo.harvest_in_order(ckan, stages, 1, "admin")
    finally:
        server.shutdown()
    return ckan, manifest, stages, reports


@pytest.mark.timeout(900)
def test_the_province_s_catalogues_services_and_statistics_land_in_that_order(loaded):
    _ckan, manifest, stages, reports = loaded
    office = manifest["catalogues"]
    assert stages == [[f"{office['name']}-basic-items", f"{office['name']}-documents"],
                      [f"{d['name']}-services" for d in manifest["departments"]],
                      [f"{d['name']}-statistics" for d in manifest["departments"]]]
    assert {d["level"] for d in manifest["departments"]} == {"province", "city", "district"}
    got = {name: (r["status"], r["counts"].get("new", r["counts"].get("inserted")), r["counts"]["rejected"])
           for name, r in reports.items()}
    expected = {f"{office['name']}-basic-items": ("done", office["basic_items"]["count"], 0),
                f"{office['name']}-documents": ("done", office["documents"]["count"], 0)}
    for d in manifest["departments"]:
        expected[f"{d['name']}-services"] = ("done", d["services"]["count"], 0)
        expected[f"{d['name']}-statistics"] = ("done", d["statistics"]["rows"], 0)
    assert got == expected


@pytest.mark.timeout(900)
def test_the_same_basic_item_is_implemented_at_the_three_levels_in_ckan(loaded, small_province, monkeypatch):
    ckan, manifest, _stages, _reports = loaded
    monkeypatch.setattr(demo_city, "CITY", small_province[0])   # read the feeds as the harvesters do
    by_code: dict[str, list[tuple[str, str]]] = {}
    for d in manifest["departments"]:
        for s in read_feed(d):
            by_code.setdefault(s["basic_code"], []).append((d["name"], s["service_code"]))
    code, implementations = next((c, i) for c, i in sorted(by_code.items()) if len(i) == 3)
    landed = [ckan.action.package_show(id=service_name(dept, service_code)) for dept, service_code in implementations]
    assert [(p["basic_code"], p["organization"]["name"]) for p in landed] == [
        (code, dept) for dept, _ in implementations]
    assert len({p["implementation_code"] for p in landed}) == 3


@pytest.mark.skipif(not os.environ.get("GOVSERVICE_PROVINCE_SCALE"),
                    reason="the whole province at a scale, end to end: GOVSERVICE_PROVINCE_SCALE=0.01 (minutes)")
@pytest.mark.timeout(7200)
def test_the_whole_province_at_a_scale_lands_every_service_and_row(
        with_plugins, clean_db, clean_index, monkeypatch, harvest_db, tmp_path):  # noqa: F811
    """Every department of the province at GOVSERVICE_PROVINCE_SCALE, as make demo-province
    loads it: nothing failed, rejected or lost."""
    import ckan.plugins.toolkit as tk
    from ckan.tests import factories
    from ckanapi import LocalCKAN
    monkeypatch.setenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    monkeypatch.setitem(tk.config, "ckanext.govservice.catalogue.auto_rebuild", False)
    manifest = province.generate(tmp_path, float(os.environ["GOVSERVICE_PROVINCE_SCALE"]))
    server = demo.serve(tmp_path, "http://127.0.0.1:0")
    try:
        ckan = LocalCKAN(username=factories.Sysadmin()["name"])
        started = time.monotonic()
        stages = demo.register(ckan, manifest, f"http://127.0.0.1:{server.server_port}")
        registered = time.monotonic()
        # one at a time: in-process, two first statistics harvests race to create the
        # service-statistics dataset (package_name_key), and a thread's session stays broken
        reports = demo.harvest_in_order(ckan, stages, 1, "admin")
    finally:
        server.shutdown()
    print(f"{manifest['counts']}: registered in {registered - started:.0f} s, "
          f"harvested in {time.monotonic() - registered:.0f} s")
    assert {n: r["status"] for n, r in reports.items() if r["status"] != "done" or r["counts"]["rejected"]} == {}
    assert sum(r["counts"].get("new", 0) for n, r in reports.items() if n.endswith("-services")) == \
        manifest["counts"]["services"]
    assert sum(r["counts"].get("inserted", 0) for n, r in reports.items() if n.endswith("-statistics")) == \
        manifest["counts"]["statistics_rows"]
    assert ckan.action.package_search(fq="dataset_type:service", rows=0)["count"] == manifest["counts"]["services"]
