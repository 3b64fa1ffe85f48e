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
from .. import samples, strategies
from ..pages import checked, fetch

# CI draws the same services every run; a developer's run explores new ones.
# GOVSERVICE_RENDER_EXAMPLES=500 for a longer search.
EXAMPLES = int(os.environ.get("GOVSERVICE_RENDER_EXAMPLES", "30"))
RENDER_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large])

_serial = itertools.count(1)


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
    serial = next(_serial)
    sent = {**sent, "type": "service", "owner_org": dept["id"],
            "service_code": f"{sent['service_code']}-{serial}"}
    if sent.get("implementation_code"):   # unique on the platform, across the examples too
        sent["implementation_code"] = f"{sent['implementation_code']}-{serial}"
    created = helpers.call_action("package_create", context=dict(sysadmin), **sent)
    name, code = created["name"], created["service_code"]

    for page in (f"/service/{name}", f"/en/service/{name}"):
        html = fetch(app, page)
        assert 'id="performance-panel"' in html, page
    for fmt in ("ttl", "jsonld", "rdf"):
        body = fetch(app, f"/service/{name}.{fmt}")
        assert len(Graph().parse(data=body, format={"ttl": "turtle", "jsonld": "json-ld",
                                                    "rdf": "xml"}[fmt])) > 0
    for fmt in ("json", "xml"):
        checked(app, f"/open311/v2/services/{code}.{fmt}?jurisdiction_id={dept['name']}")
        checked(app, f"/open311/v2/services.{fmt}?jurisdiction_id={dept['name']}&locale=en")
    for search in ("/service/?sort=metadata_modified+desc", "/en/service/?sort=metadata_modified+desc"):
        assert f'href="/{"en/" if search.startswith("/en") else ""}service/{name}"' in fetch(app, search)

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
        checked(app, page)
    assert errors_logged() == []


@pytest.mark.usefixtures("with_request_context")
@pytest.mark.parametrize("field, path", [("themes", "theme"), ("life_events", "life-event")])
def test_every_theme_and_life_event_with_no_services_renders(app, publisher, errors_logged, field, path):
    for choice in schema.choices(schema.field(field)):
        for prefix in ("", "/en"):
            checked(app, f"{prefix}/service/{path}/{choice['value']}")
    assert errors_logged() == []


@pytest.mark.usefixtures("with_request_context")
def test_a_service_with_no_statistics_says_so(app, publisher):
    sysadmin, dept = publisher
    service = gov.service(dept["id"], context=dict(sysadmin))
    assert "尚未报送办理统计" in fetch(app, f"/service/{service['name']}")
    assert "has not reported any statistics" in fetch(app, f"/en/service/{service['name']}")


# ---------------------------------------------------------------- the complete service guide, both ways

@pytest.fixture
def guide(publisher):
    """The full sample (every guide field, a basic item, a document the government
    holds and one matched by name) and the minimal one (every optional field absent)."""
    sysadmin, dept = publisher
    for entry in samples.catalogue(dept["id"]):
        helpers.call_action("package_create", context=dict(sysadmin), **entry)
    full = helpers.call_action("package_create", context=dict(sysadmin), **samples.sent(1, dept["id"]))
    minimal = helpers.call_action("package_create", context=dict(sysadmin), **samples.minimal(0, dept["id"]))
    return full, minimal


GUIDE_SECTIONS = ('id="co-departments"', 'id="special-procedures"', 'id="intermediary-services"',
                  'id="handling-scope"', 'class="govservice-output-validity"', 'class="govservice-output-sample"',
                  'class="govservice-contact-points"', 'class="govservice-basic-item"',
                  'class="govservice-implementation-code"')


@pytest.mark.usefixtures("with_request_context")
def test_the_page_shows_every_guide_field_in_chinese(app, guide, errors_logged):
    html = fetch(app, f"/service/{guide[0]['name']}")
    for text in ("滨江市税务局", "同步办理税务登记", "滨江市公安局", "房屋安全鉴定", "具备资质的鉴定机构",
                 "城市危险房屋管理规定", "现场核查", "以下程序所需时间不计入办结时限。", "全市通办",
                 "5 个月", "查看样本", 'href="https://zwfw.example.gov.cn/samples/1.pdf"',
                 'href="mailto:zixun@scjg.example.gov.cn"', 'href="https://zwfw.example.gov.cn/zixun/1"',
                 "tousu@example.gov.cn", "咨询", "监督投诉", "330100-SC-S001"):
        assert text in html, text
    assert errors_logged() == []


@pytest.mark.usefixtures("with_request_context")
def test_the_page_shows_every_guide_field_in_english(app, guide):
    html = fetch(app, f"/en/service/{guide[0]['name']}")
    for text in ("Co-handling departments", "Intermediary services", "Special procedures",
                 "The time these take does not count toward the time limit.", "Anywhere in the city",
                 "5 months", "See a sample", "Enquiries", "Complaints", "Company registration"):
        assert text in html, text


@pytest.mark.usefixtures("with_request_context")
def test_each_step_shows_its_time_limit(app, guide):
    html = fetch(app, f"/en/service/{guide[0]['name']}")
    steps = html.split('class="govservice-steps"')[1].split("</ol>")[0]
    assert "2 hours" in steps
    assert "on the spot" in steps.lower()


@pytest.mark.usefixtures("with_request_context")
def test_the_page_links_the_basic_item_it_implements(app, guide):
    html = fetch(app, f"/service/{guide[0]['name']}")
    assert 'href="/item/BI-S001"' in html
    assert "企业设立登记" in html
    assert 'href="/en/item/BI-S001"' in fetch(app, f"/en/service/{guide[0]['name']}")


@pytest.mark.usefixtures("with_request_context")
def test_catalogue_documents_link_to_their_page_and_one_the_government_holds_needs_no_bringing(app, guide):
    html = fetch(app, f"/service/{guide[0]['name']}")
    documents = html.split('id="documents"')[1].split("</section>")[0]
    assert 'href="/document/DOC-S-ID"' in documents and 'href="/document/DOC-S-LEASE"' in documents
    assert documents.count('class="govservice-tag govservice-no-need-to-bring"') == 1
    held = documents.split('href="/document/DOC-S-ID"')[1].split("</li>")[0]
    assert "免提交" in held
    assert "必需材料共 2 份，您需提交 1 份" in documents


@pytest.mark.usefixtures("with_request_context")
def test_the_glance_counts_the_documents_to_bring(app, guide):
    html = fetch(app, f"/en/service/{guide[0]['name']}")
    glance = html.split('id="documents-to-bring"')[1].split("</div>")[0]
    assert "Documents to bring" in glance and "<strong>1</strong>" in glance


@pytest.mark.usefixtures("with_request_context")
def test_a_service_without_the_guide_fields_renders_without_their_sections(app, guide, errors_logged):
    for page in (f"/service/{guide[1]['name']}", f"/en/service/{guide[1]['name']}"):
        html = fetch(app, page)
        assert [s for s in GUIDE_SECTIONS if s in html] == [], page
    assert errors_logged() == []


@pytest.mark.usefixtures("with_request_context")
def test_a_page_without_the_network_key_still_shows_the_services_own_fields(app, guide, monkeypatch):
    from ckanext.govservice import network
    monkeypatch.setattr(network, "of", lambda service: {})
    html = fetch(app, f"/service/{guide[0]['name']}")
    assert 'href="/item/BI-S001"' in html and "现场核查" in html
    assert 'id="documents-to-bring"' not in html and "免提交" not in html
