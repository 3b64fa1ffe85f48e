"""Whatever passes validation renders everywhere.

A property-based test draws valid services from service.yaml (every optional
field present, absent or empty; repeating fields empty, one or many; every
choice; long, mixed-script and awkward text), publishes each on the test
site, and asks for it everywhere the platform shows a service: its page in
Chinese and English, its RDF in three formats, its Open311 entries, the
service search and its row in the bulk files. Every answer must be 200 with
no error logged. Departments, themes and life events with no services, and
services with no statistics, are pinned the same way.
"""
from __future__ import annotations

import itertools
import json
import os

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from rdflib import Graph

from ckan.tests import helpers

from ckanext.govservice.core import schema, tabular

from .. import factories as gov
from .. import strategies

# CI draws the same services every run; a developer's run explores new ones.
# GOVSERVICE_RENDER_EXAMPLES=500 for a longer search.
EXAMPLES = int(os.environ.get("GOVSERVICE_RENDER_EXAMPLES", "30"))
RENDER_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large])

_serial = itertools.count(1)


def get_ok(app, url: str):
    response = app.get(url, status=None)
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    return response


@pytest.fixture
def publisher(clean_db, clean_index):
    sysadmin = {"user": gov.factories.Sysadmin()["name"]}
    return sysadmin, gov.department(name="market-regulation")


@pytest.mark.usefixtures("with_request_context")
@RENDER_SETTINGS
@given(sent=strategies.services())
def test_every_valid_service_renders_everywhere(app, publisher, tmp_path, caplog, errors_logged, sent):
    sysadmin, dept = publisher
    caplog.clear()
    sent = {**sent, "type": "service", "owner_org": dept["id"],
            "service_code": f"{sent['service_code']}-{next(_serial)}"}
    created = helpers.call_action("package_create", context=dict(sysadmin), **sent)
    name, code = created["name"], created["service_code"]

    for page in (f"/service/{name}", f"/en/service/{name}"):
        html = get_ok(app, page).body
        assert 'id="performance-panel"' in html, page
    for fmt in ("ttl", "jsonld", "rdf"):
        body = get_ok(app, f"/service/{name}.{fmt}").body
        assert len(Graph().parse(data=body, format={"ttl": "turtle", "jsonld": "json-ld",
                                                    "rdf": "xml"}[fmt])) > 0
    for fmt in ("json", "xml"):
        get_ok(app, f"/open311/v2/services/{code}.{fmt}?jurisdiction_id={dept['name']}")
        get_ok(app, f"/open311/v2/services.{fmt}?jurisdiction_id={dept['name']}&locale=en")
    for search in ("/service/?sort=metadata_modified+desc", "/en/service/?sort=metadata_modified+desc"):
        assert f'href="/{"en/" if search.startswith("/en") else ""}service/{name}"' in get_ok(app, search).body

    shown = helpers.call_action("package_show", id=name)
    tabular.write_csv([tabular.service_row(shown)], tmp_path / "services.csv")
    tabular.write_xlsx([tabular.service_row(shown)], tmp_path / "services.xlsx")
    tabular.write_json([shown], tmp_path / "services.json", scope="test")
    assert openpyxl.load_workbook(tmp_path / "services.xlsx")["services"].max_row == 2
    assert json.loads((tmp_path / "services.json").read_text("utf-8"))["count"] == 1

    assert errors_logged() == []


# ---------------------------------------------------------------- nothing to show yet

@pytest.mark.usefixtures("with_request_context")
def test_a_department_with_no_services_renders(app, publisher, errors_logged):
    _, dept = publisher
    for page in (f"/organization/{dept['name']}", f"/en/organization/{dept['name']}",
                 f"/performance/{dept['name']}", f"/en/performance/{dept['name']}",
                 "/performance/", "/", "/en/", "/service/", "/service/theme/", "/open311/v2/services.json"):
        get_ok(app, page)
    assert errors_logged() == []


@pytest.mark.usefixtures("with_request_context")
@pytest.mark.parametrize("field, path", [("themes", "theme"), ("life_events", "life-event")])
def test_every_theme_and_life_event_with_no_services_renders(app, publisher, errors_logged, field, path):
    for choice in schema.choices(schema.field(field)):
        for prefix in ("", "/en"):
            get_ok(app, f"{prefix}/service/{path}/{choice['value']}")
    assert errors_logged() == []


@pytest.mark.usefixtures("with_request_context")
def test_a_service_with_no_statistics_says_so(app, publisher):
    sysadmin, dept = publisher
    service = gov.service(dept["id"], context=dict(sysadmin))
    assert "尚未报送办理统计" in get_ok(app, f"/service/{service['name']}").body
    assert "has not reported any statistics" in get_ok(app, f"/en/service/{service['name']}").body
