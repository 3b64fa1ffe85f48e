"""The demo city loaded into the test site (CKAN in-process, the test databases):
CKAN's own validation refuses each planted service for the reason
datasets/demo/README.md gives and takes the others, and the statistics loader
rejects each planted row (the same checked without CKAN:
unit/test_demo_city.py).
"""
from __future__ import annotations

import io
from collections import defaultdict

import pytest

from ckanext.govservice.tests.integration.conftest import statistics_db  # noqa: F401  (a fixture)

from demo_city import CITY


def _errors_at(error_dict: dict, field: str) -> list:
    """The messages at "channels/0/url" in CKAN's nested error dict."""
    name, *rest = field.split("/")
    errors = error_dict.get(name, [])
    if rest:
        row = errors[int(rest[0])] if len(errors) > int(rest[0]) else {}
        errors = row.get(rest[1], [])
    return errors


@pytest.fixture
def ckan_departments(with_plugins, clean_db, clean_index, monkeypatch, departments):
    import ckan.plugins.toolkit as tk
    from ckan.tests import factories
    monkeypatch.setitem(tk.config, "ckanext.govservice.catalogue.auto_rebuild", False)
    context = {"user": factories.Sysadmin()["name"]}
    fields = ("name", "title", "title_en", "level", "area", "area_code", "department_code")
    orgs = {d["name"]: factories.Organization(**{k: d[k] for k in fields}) for d in departments}
    return context, orgs


def test_ckan_refuses_each_planted_service_for_its_reason_and_takes_the_others(ckan_departments, feeds, planted):
    import ckan.plugins.toolkit as tk
    from ckan.tests import helpers
    context, orgs = ckan_departments
    wrong = {(p["department"], p["record"]): p for p in planted if p["kind"] == "service"}
    for name, records in feeds.items():
        sample = [r for r in records if (name, r["service_code"]) in wrong] + records[:1]
        for record in sample:
            data = {**record, "type": "service", "owner_org": orgs[name]["id"]}
            p = wrong.get((name, record["service_code"]))
            if p is None:
                helpers.call_action("package_create", context=dict(context), **data)
                continue
            with pytest.raises(tk.ValidationError) as e:
                helpers.call_action("package_create", context=dict(context), **data)
            assert _errors_at(e.value.error_dict, p["field"]) == [p["reason"]], e.value.error_dict
            assert len(e.value.error_dict) == 1, e.value.error_dict


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
    context, orgs = statistics_departments
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
                helpers.call_action("package_create", context=dict(context),
                                    **{**record, "type": "service", "owner_org": orgs[name]["id"]})
        body = ("\n".join(chosen) + "\n").encode("utf-8")
        report = helpers.call_action(
            "govservice_statistics_load", context=dict(context), department=name,
            upload=FileStorage(stream=io.BytesIO(body), filename="statistics.csv", content_type="text/csv"))
        assert {(r["record"], r["field"], r["reason"]) for r in report["rejections"]} == {
            (p["record"], p["field"], p["reason"]) for p in wrong}, name
        assert report["inserted"] == 1, name
