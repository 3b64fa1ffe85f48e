"""Documents as entities (issue 16) on the real stack: the document catalogue's
pages beside CKAN's own pages of the type, the services demanding a document,
the reuse index, the unmatched names, the documents a citizen must still bring
(材料减免率) and its daily snapshots, and a life event's documents by code."""
from __future__ import annotations

import datetime as dt
import re

import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import helpers

from ckanext.govservice import document_catalogue

from .. import factories as gov
from ..pages import checked, fetch, fetch_json

pytestmark = pytest.mark.usefixtures("clean_index")


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def document(context, publisher, code, title, **overrides):
    return helpers.call_action("package_create", context=dict(context), **{
        "type": "document", "owner_org": publisher["id"], "document_code": code,
        "title": title, **overrides})


def doc(name, code=None, mandatory="true"):
    return {"name": name, "mandatory": mandatory, **({"code": code} if code else {})}


@pytest.fixture
def office(sysadmin):
    """The government service office: publishes the document catalogue."""
    return gov.department(name="service-office", title="滨江市政务服务管理办公室",
                          title_en="Binjiang Government Service Office", level="city", area="滨江市")


@pytest.fixture
def health(sysadmin):
    return gov.department(name="health-commission", title="滨江市卫生健康委员会",
                          title_en="Binjiang Health Commission", level="city", area="滨江市")


@pytest.fixture
def catalogue(sysadmin, office):
    """居民身份证 (also called 身份证), 营业执照 (an electronic licence: no need to
    bring) and 公司章程."""
    return {
        "D-ID": document(sysadmin, office, "D-ID", "居民身份证", title_en="Resident ID card",
                         aliases=["身份证", "二代身份证"], issuing_authority="公安机关"),
        "D-LIC": document(sysadmin, office, "D-LIC", "营业执照", title_en="Business licence",
                          government_holds="electronic_licence"),
        "D-AOA": document(sysadmin, office, "D-AOA", "公司章程"),
    }


def service(context, department, name, documents, **overrides):
    return gov.service(department["id"], context=dict(context), name=name, title=name,
                       documents=documents, **overrides)


# ---------------------------------------------------------------- matching and unmatched


def test_a_document_listed_by_its_alias_counts_as_demanding_the_catalogue_entry(sysadmin, dept, catalogue):
    service(sysadmin, dept, "by-alias", [doc("身份证")])
    found = helpers.call_action("govservice_document_services", code="D-ID")
    assert [s["name"] for s in found["results"]] == ["by-alias"]


def test_a_document_matching_no_catalogue_entry_is_reported_with_its_service(sysadmin, dept, catalogue):
    service(sysadmin, dept, "odd-one", [doc("居民身份证", "D-ID"), doc("无犯罪记录证明")])
    found = helpers.call_action("govservice_documents_unmatched")
    assert [(r["name"], r["services"], [e["name"] for e in r["examples"]]) for r in found["results"]] == [
        ("无犯罪记录证明", 1, ["odd-one"])]


# ---------------------------------------------------------------- still to bring


def test_a_document_the_government_holds_is_not_counted_as_one_to_bring(sysadmin, dept, catalogue):
    service(sysadmin, dept, "licence-change", [doc("居民身份证", "D-ID"), doc("营业执照", "D-LIC")])
    found = helpers.call_action("govservice_document_burden", service="licence-change")
    assert found["service"] == {"name": "licence-change", "documents_demanded": 2,
                                "documents_to_bring": 1, "reduction_rate": 0.5}


def test_a_departments_burden_sums_its_services_in_the_index(sysadmin, dept, health, catalogue):
    service(sysadmin, dept, "svc-a", [doc("居民身份证", "D-ID"), doc("营业执照", "D-LIC")])
    service(sysadmin, dept, "svc-b", [doc("公司章程", "D-AOA"), doc("营业执照", "D-LIC"), doc("居民身份证", "D-ID")])
    service(sysadmin, health, "svc-c", [doc("居民身份证", "D-ID")])
    found = helpers.call_action("govservice_document_burden", department=dept["name"])
    assert found["figures"] == {"services": 2, "documents_demanded": 5, "documents_to_bring": 3,
                                "documents_not_brought": 2, "mean_to_bring": 1.5, "reduction_rate": 0.4}


def test_the_platform_burden_lists_each_department(sysadmin, dept, health, catalogue):
    service(sysadmin, dept, "svc-a", [doc("居民身份证", "D-ID"), doc("营业执照", "D-LIC")])
    service(sysadmin, health, "svc-c", [doc("居民身份证", "D-ID")])
    found = helpers.call_action("govservice_document_burden")
    assert [(d["department"], d["documents_demanded"], d["documents_to_bring"]) for d in found["departments"]] == [
        ("health-commission", 1, 1), ("market-regulation", 2, 1)]
    assert found["kpi"]["label"]["zh_Hans_CN"] == "材料减免率"


# ---------------------------------------------------------------- the reuse index


def test_the_document_actions_answer_get_as_every_read_action_does(app, sysadmin, dept, catalogue):
    service(sysadmin, dept, "s1", [doc("居民身份证", "D-ID")])
    for url in ("/api/3/action/govservice_document_show?code=D-ID",
                "/api/3/action/govservice_document_services?code=D-ID",
                "/api/3/action/govservice_document_reuse?limit=5",
                "/api/3/action/govservice_documents_unmatched",
                "/api/3/action/govservice_document_burden?department=market-regulation"):
        assert fetch_json(app, url)["success"] is True, url
    assert [r["code"] for r in fetch_json(app, "/api/3/action/govservice_document_reuse")["result"]["results"]] == [
        "D-ID"]


def test_the_reuse_index_puts_the_documents_most_services_demand_first(sysadmin, dept, health, catalogue):
    service(sysadmin, dept, "s1", [doc("公司章程", "D-AOA"), doc("居民身份证", "D-ID"), doc("营业执照", "D-LIC")])
    service(sysadmin, health, "s2", [doc("居民身份证", "D-ID"), doc("营业执照", "D-LIC")])
    service(sysadmin, dept, "s3", [doc("身份证")])
    found = helpers.call_action("govservice_document_reuse")
    assert [(r["code"], r["services"], r["departments"]) for r in found["results"]] == [
        ("D-ID", 3, 2), ("D-LIC", 2, 2), ("D-AOA", 1, 1)]
    assert found["results"][1]["no_need_to_bring"] is True


def test_the_reuse_index_narrows_to_a_department(sysadmin, dept, health, catalogue):
    service(sysadmin, dept, "s1", [doc("公司章程", "D-AOA")])
    service(sysadmin, health, "s2", [doc("居民身份证", "D-ID")])
    found = helpers.call_action("govservice_document_reuse", department="health-commission")
    assert [r["code"] for r in found["results"]] == ["D-ID"]


# ---------------------------------------------------------------- the pages


def test_the_document_page_lists_the_services_that_demand_it(app, sysadmin, dept, health, catalogue):
    service(sysadmin, dept, "company-registration", [doc("居民身份证", "D-ID")])
    service(sysadmin, health, "birth-certificate", [doc("身份证", mandatory="false")])
    text = text_of(fetch(app, "/document/D-ID"))
    assert "居民身份证" in text and "身份证、二代身份证" in text and "公安机关" in text
    assert "2 项事项，涉及 2 个部门" in text
    assert "company-registration 滨江市市场监督管理局 市级 必需" in text
    assert "birth-certificate 滨江市卫生健康委员会 市级 容缺/按需" in text


def test_the_document_page_says_clearly_when_there_is_no_need_to_bring_it(app, catalogue):
    page = fetch(app, "/document/D-LIC")
    assert re.search(r'id="no-need-to-bring"><strong>免提交</strong>\s*— 电子证照免提交', page)


def test_the_document_page_is_found_by_its_code_in_another_case_and_by_its_url_name(app, catalogue):
    assert "居民身份证" in fetch(app, "/document/d-id")
    assert "居民身份证" in fetch(app, "/document/document-d-id")


def test_an_unknown_document_code_is_a_404_page_naming_it(app, catalogue):
    page = fetch(app, "/document/D-NOPE", status=404)
    assert "材料目录中没有编码为 D-NOPE 的材料。" in text_of(page)


def test_an_unknown_document_code_is_a_404_page_in_english_on_an_english_page(app, catalogue):
    page = fetch(app, "/en/document/D-NOPE", status=404)
    assert "No document of the document catalogue has the code D-NOPE." in text_of(page)


def test_the_document_page_in_english_names_it_in_english(app, sysadmin, dept, catalogue):
    service(sysadmin, dept, "company-registration", [doc("居民身份证", "D-ID")])
    text = text_of(fetch(app, "/en/document/D-ID"))
    assert "Resident ID card" in text and "1 service in 1 department" in text
    assert "Business licence issuance Binjiang Market Regulation Bureau City Mandatory" in text


def test_an_unknown_document_code_is_not_found_by_the_action_naming_it(catalogue):
    with pytest.raises(tk.ObjectNotFound, match="document D-NOPE"):
        helpers.call_action("govservice_document_show", code="D-NOPE")


def test_publishers_still_edit_a_document_on_ckans_edit_page(app, sysadmin, catalogue):
    from ckan.tests import factories
    user = factories.Sysadmin()
    page = fetch(app, "/document/edit/document-d-id", headers={"Authorization": factories.APIToken(user=user["name"])["token"]})
    assert 'name="document_code"' in page and 'value="D-ID"' in page


def test_publishers_still_add_a_document_on_ckans_new_page_linked_from_the_catalogue(app, catalogue):
    from ckan.tests import factories
    auth = {"Authorization": factories.APIToken(user=factories.Sysadmin()["name"])["token"]}
    assert 'id="add-document" href="/document/new"' in fetch(app, "/document/", headers=auth)
    assert 'name="document_code"' in fetch(app, "/document/new", headers=auth)


def test_a_withdrawn_document_says_so_on_its_page(app, sysadmin, office):
    document(sysadmin, office, "D-OLD", "旧版户口簿", status="withdrawn")
    assert "状态：已撤销" in text_of(fetch(app, "/document/D-OLD")).replace(" ", "")


def test_the_catalogue_page_finds_a_document_by_an_alias(app, catalogue):
    text = text_of(fetch(app, "/document/?q=二代身份证"))
    assert "居民身份证" in text and "公司章程" not in text


def test_part_of_an_alias_finds_the_document(app, catalogue):
    text = text_of(fetch(app, "/document/?q=二代"))       # of 二代身份证, an alias of 居民身份证
    assert "居民身份证" in text and "公司章程" not in text


def test_the_catalogue_page_filters_the_documents_the_government_holds(app, catalogue):
    text = text_of(fetch(app, "/document/?held=1"))
    assert "营业执照" in text and "居民身份证" not in text


def test_the_catalogue_page_shows_the_reuse_index_on_top(app, sysadmin, dept, catalogue):
    service(sysadmin, dept, "s1", [doc("公司章程", "D-AOA")])
    page = fetch(app, "/document/")
    assert re.findall(r'class="govservice-reuse-row" data-code="([^"]+)"', page) == ["D-AOA"]


def test_the_catalogue_pages_reuse_index_narrows_to_a_level(app, sysadmin, dept, catalogue):
    district = gov.department(name="linjiang-market", title="临江区市场监督管理局", level="district", area="临江区")
    service(sysadmin, dept, "s1", [doc("公司章程", "D-AOA")])
    service(sysadmin, district, "s2", [doc("居民身份证", "D-ID")])
    page = fetch(app, "/document/?level=district")
    assert re.findall(r'class="govservice-reuse-row" data-code="([^"]+)"', page) == ["D-ID"]


# ---------------------------------------------------------------- snapshots


@pytest.fixture
def snapshots(statistics_db, sysadmin, dept, catalogue):
    """The service svc-a demanding two documents, one held by the government."""
    service(sysadmin, dept, "svc-a", [doc("居民身份证", "D-ID"), doc("营业执照", "D-LIC")])


def _rows():
    import sqlalchemy as sa
    from ckanext.govservice.statistics_store import tables
    with tables.engine().connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            f"SELECT department, day::text, services, documents_demanded, documents_to_bring "
            f"FROM {tables.SCHEMA}.document_burden_day ORDER BY day, department"))]


def test_a_snapshot_run_twice_the_same_day_keeps_one_row_per_department(snapshots):
    document_catalogue.snapshot(dt.date(2026, 9, 30))
    document_catalogue.snapshot(dt.date(2026, 9, 30))
    assert _rows() == [("market-regulation", "2026-09-30", 1, 2, 1)]


def test_the_burden_series_is_monthly_from_the_snapshots(snapshots, sysadmin):
    document_catalogue.snapshot(dt.date(2026, 9, 30))
    helpers.call_action("package_patch", context=dict(sysadmin), id="svc-a",
                        documents=[doc("居民身份证", "D-ID"), doc("营业执照", "D-LIC"), doc("公司章程", "D-AOA")])
    document_catalogue.snapshot(dt.date(2026, 10, 31))
    series = document_catalogue.series("market-regulation", months=12, today=dt.date(2026, 11, 15))
    assert [(p["month"], p["documents_demanded"], p["documents_to_bring"], p["reduction_rate"], p["change"])
            for p in series] == [("2026-09", 2, 1, 0.5, None), ("2026-10", 3, 2, 0.3333, -0.1667)]


def test_the_department_section_shows_the_rate_and_its_months(app, snapshots):
    document_catalogue.snapshot(dt.date.today())
    with app.flask_app.test_request_context():
        figures = helpers.call_action("govservice_document_burden", department="market-regulation")
        html = tk.render_snippet("govservice/snippets/department_documents.html", {
            "figures": figures["figures"], "series": figures["series"], "trend": figures["trend"]})
    assert 'id="document-reduction-rate">50%<' in html.replace(" ", "")
    assert dt.date.today().strftime("%Y-%m") in html


def test_the_dashboards_helper_gives_a_departments_figures_and_series(snapshots):
    document_catalogue.snapshot(dt.date.today())
    found = document_catalogue.govservice_department_documents("market-regulation")
    assert (found["figures"]["reduction_rate"], [p["month"] for p in found["series"]]) == (
        0.5, [dt.date.today().strftime("%Y-%m")])


def test_the_department_dashboard_carries_the_section(app, snapshots):
    document_catalogue.snapshot(dt.date.today())
    page = fetch(app, "/performance/market-regulation")
    assert 'id="department-documents"' in page
    assert 'id="document-reduction-rate">50%<' in page.replace(" ", "")


# ---------------------------------------------------------------- life events


def test_a_life_event_combines_documents_by_code_and_marks_the_held_ones(app, sysadmin, dept, health, catalogue):
    service(sysadmin, dept, "birth-registration", [doc("居民身份证", "D-ID"), doc("营业执照", "D-LIC")],
            life_events=["having_a_baby"])
    service(sysadmin, health, "birth-certificate", [doc("二代身份证"), doc("出生医学证明")],
            life_events=["having_a_baby"])
    page = fetch(app, "/service/life-event/having_a_baby")
    assert page.count('data-code="D-ID"') == 1
    row = re.search(r'<li data-code="D-ID">(.*?)</li>', page, re.S).group(1)
    assert "birth-registration" in row and "birth-certificate" in row
    assert "需提交材料：2·免提交：1" in text_of(page).replace(" ", "")
