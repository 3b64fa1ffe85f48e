"""The demo city loaded into the test site (CKAN in-process, the test databases):
its two catalogues (basic items, documents) first, then CKAN's own validation
refuses each planted service for the reason datasets/demo/README.md gives and
takes the others, implementations of a withdrawn basic item land flagged, and
the statistics loader rejects each planted row (the same checked without CKAN:
unit/test_demo_city.py).
"""
from __future__ import annotations

import io
import json
from collections import defaultdict

import pytest

from ckanext.govservice.tests.integration.conftest import statistics_db  # noqa: F401  (a fixture)

from demo_city import CITY, read_catalogues


def _errors_at(error_dict: dict, field: str) -> list:
    """The messages at "channels/0/url" in CKAN's nested error dict."""
    name, *rest = field.split("/")
    errors = error_dict.get(name, [])
    if rest:
        row = errors[int(rest[0])] if len(errors) > int(rest[0]) else {}
        errors = row.get(rest[1], [])
    return errors


@pytest.fixture(scope="module")
def office():
    return json.loads((CITY / "departments.json").read_text(encoding="utf-8"))["catalogues"]


@pytest.fixture(scope="module")
def catalogues(office):
    basic_items, documents = read_catalogues(office)
    return {b["basic_code"]: b for b in basic_items}, documents


class Network:
    """The catalogues in the test site: every document, and the basic items a test's
    services name (all 881 would take a minute), each created once."""

    def __init__(self, context, office_id, basic_items):
        self.context, self.office_id, self.basic_items, self.made = context, office_id, basic_items, set()

    def basic_item(self, code):
        from ckan.tests import helpers
        if code in self.made or code not in self.basic_items:
            return
        helpers.call_action("package_create", context=dict(self.context),
                            **{**self.basic_items[code], "type": "basic_item", "owner_org": self.office_id})
        self.made.add(code)

    def create(self, record, owner_org):
        from ckan.tests import helpers
        if record.get("basic_code"):
            self.basic_item(record["basic_code"])
        return helpers.call_action("package_create", context=dict(self.context),
                                   **{**record, "type": "service", "owner_org": owner_org})


@pytest.fixture
def ckan_departments(with_plugins, clean_db, clean_index, monkeypatch, departments, office, catalogues):
    import ckan.plugins.toolkit as tk
    from ckan.tests import factories, helpers
    monkeypatch.setitem(tk.config, "ckanext.govservice.catalogue.auto_rebuild", False)
    context = {"user": factories.Sysadmin()["name"]}
    fields = ("name", "title", "title_en", "level", "area", "area_code", "department_code")
    orgs = {d["name"]: factories.Organization(**{k: d[k] for k in fields}) for d in [office, *departments]}
    basic_items, documents = catalogues
    for doc in documents:
        helpers.call_action("package_create", context=dict(context),
                            **{**doc, "type": "document", "owner_org": orgs[office["name"]]["id"]})
    network = Network(context, orgs[office["name"]]["id"], basic_items)
    return context, orgs, network


def test_ckan_refuses_each_planted_service_for_its_reason_and_takes_the_others(ckan_departments, feeds, planted):
    import ckan.plugins.toolkit as tk
    context, orgs, network = ckan_departments
    wrong = {(p["department"], p["record"]): p for p in planted if p["kind"] == "service"}
    earlier = {(p["department"], p["first"]) for p in planted if p.get("first")}   # an implementation code's first
    for name, records in feeds.items():
        sample = records[:1] + [r for r in records if (name, r["service_code"]) in earlier] + \
            [r for r in records if (name, r["service_code"]) in wrong]
        for record in sample:
            p = wrong.get((name, record["service_code"]))
            if p is None:
                network.create(record, orgs[name]["id"])
                continue
            with pytest.raises(tk.ValidationError) as e:
                network.create(record, orgs[name]["id"])
            assert _errors_at(e.value.error_dict, p["field"]) == [p["reason"]], e.value.error_dict
            assert len(e.value.error_dict) == 1, e.value.error_dict


def test_city_and_district_implementations_of_one_basic_item_land_side_by_side(ckan_departments, feeds, planted):
    """The comparison's planted case: 食品经营许可（新办） from the city, Dongcheng and Linjiang."""
    from ckan.tests import helpers
    context, orgs, network = ckan_departments
    [code] = {p["basic_code"] for p in planted if p["kind"] == "difference"}
    for name, records in feeds.items():
        for record in records:
            if record.get("basic_code") == code:
                network.create(record, orgs[name]["id"])
    found = helpers.call_action("package_search", context=dict(context), fq=f'basic_code_ss:"{code}"', rows=10)
    assert sorted((r["organization"]["name"], int(r["committed_limit"])) for r in found["results"]) == [
        ("dongcheng-administrative-approval", 3), ("linjiang-market-regulation", 10), ("market-regulation", 3)]


def test_implementations_of_a_withdrawn_basic_item_land_and_are_flagged(ckan_departments, feeds, planted):
    from ckan.tests import helpers
    context, orgs, network = ckan_departments
    [withdrawn] = [p for p in planted if p["kind"] == "basic_item"]
    by_code = {(name, r["service_code"]): r for name, records in feeds.items() for r in records}
    for name, service_code in withdrawn["implementations"]:
        made = network.create(by_code[(name, service_code)], orgs[name]["id"])
        shown = helpers.call_action("package_show", context=dict(context), id=made["id"])
        assert {(f["field"], f["reason"]) for f in shown["network"]["flags"]} >= {("basic_code", withdrawn["reason"])}


@pytest.fixture
def statistics_departments(with_plugins, statistics_db, ckan_departments):
    return ckan_departments


def test_the_statistics_loader_rejects_each_planted_row_for_its_reason(statistics_departments, departments,
                                                                     feeds, planted):
    """Each planted row, with the first row of its file, through the real loader
    (the services they name created first): the planted one comes back with its
    field and reason, the good one lands."""
    from werkzeug.datastructures import FileStorage
    from ckan.tests import helpers
    context, orgs, network = statistics_departments
    by_dept = defaultdict(list)
    for p in planted:
        if p["kind"] == "statistics":
            by_dept[p["department"]].append(p)
    for name, wrong in by_dept.items():
        [d] = [d for d in departments if d["name"] == name]
        lines = (CITY / d["statistics"]["file"]).read_text(encoding="utf-8").splitlines()
        chosen = [lines[0], lines[1]] + [lines[p["line"] - 1] for p in wrong]
        codes = {line.split(",")[0] for line in chosen[1:]}
        for record in feeds[name]:
            if record["service_code"] in codes:
                network.create(record, orgs[name]["id"])
        body = ("\n".join(chosen) + "\n").encode("utf-8")
        report = helpers.call_action(
            "govservice_statistics_load", context=dict(context), department=name,
            upload=FileStorage(stream=io.BytesIO(body), filename="statistics.csv", content_type="text/csv"))
        assert {(r["record"], r["field"], r["reason"]) for r in report["rejections"]} == {
            (p["record"], p["field"], p["reason"]) for p in wrong}, name
        assert report["inserted"] == 1, name


def test_a_department_that_sends_names_has_them_matched_and_the_unknown_one_reported(ckan_departments, feeds,
                                                                                     planted):
    """natural-resources lists documents by name only: 抵押权登记 (mortgage registration) names
    its ID card by an alias or the title, and 主债权合同及抵押合同, which the catalogue does not know."""
    from ckan.tests import helpers
    context, orgs, network = ckan_departments
    wrong = {p["record"] for p in planted}
    record = next(r for r in feeds["natural-resources"]
                  if r["title"].startswith("抵押权登记") and r["service_code"] not in wrong)
    made = network.create(record, orgs["natural-resources"]["id"])
    shown = helpers.call_action("package_show", context=dict(context), id=made["id"])["network"]
    by_name = {record["documents"][d["index"]]["name"]: d for d in shown["documents"]}
    assert by_name["主债权合同及抵押合同"]["matched_by"] is None
    assert by_name["主债权合同及抵押合同"]["must_bring"] is True
    assert all(d["matched_by"] in ("name", "alias") for name, d in by_name.items() if name != "主债权合同及抵押合同")
    assert "documents" in {f["field"] for f in shown["flags"]}


def test_documents_the_government_holds_are_not_counted_as_ones_to_bring(ckan_departments, feeds, catalogues):
    """企业变更登记 asks for the application form and the business licence, an electronic
    licence (免提交): two demanded, one to bring."""
    from ckan.tests import helpers
    context, orgs, network = ckan_departments
    record = next(r for r in feeds["market-regulation"] if r["title"].startswith("企业变更登记"))
    held = {d["document_code"] for d in catalogues[1] if d["government_holds"] != "no"}
    mandatory = [d for d in record["documents"] if d["mandatory"] in (True, "true")]
    made = network.create(record, orgs["market-regulation"]["id"])
    shown = helpers.call_action("package_show", context=dict(context), id=made["id"])["network"]
    assert shown["documents_demanded"] == len(mandatory) == 2
    assert shown["documents_to_bring"] == len([d for d in mandatory if d["code"] not in held]) == 1
