"""The same item compared on the real stack (issue 16): one basic item implemented
by the city and two districts with planted differences (Linjiang asks for two more
documents, Dongcheng commits 10 working days where the others commit 3), the
/item/ pages, the level and area facets, and the standardisation score on the
department dashboard and in the league table."""
from __future__ import annotations

import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import helpers

from .. import factories as gov
from ..pages import fetch
from .test_kpis import MARKET
from .test_performance_pages import section, text_of
from .test_statistics import load_csv

pytestmark = pytest.mark.usefixtures("clean_index")

CODE = "XK-0101"
STANDARD_DOCUMENTS = [("DOC-ID", "居民身份证"), ("DOC-AOA", "公司章程")]
EXTRA_DOCUMENTS = [("DOC-LEASE", "经营场所租赁合同"), ("DOC-PLAN", "经营场所平面图")]


def basic_item(context, publisher, code=CODE, **overrides):
    return helpers.call_action("package_create", context=dict(context), **{
        "type": "basic_item", "owner_org": publisher["id"], "basic_code": code,
        "title": "企业营业执照核发", "title_en": "Business licence issuance",
        "service_type": "administrative_licence",
        "statutory_limit": 15, "statutory_limit_unit": "working_days",
        "standard_limit": 3, "standard_limit_unit": "working_days", "standard_visits": 1,
        "standard_documents": [{"code": c, "name": n, "mandatory": "true"} for c, n in STANDARD_DOCUMENTS],
        **overrides})


def documents(codes_and_names):
    return [{"code": c, "name": n, "mandatory": "true", "form": "original"} for c, n in codes_and_names]


def implementation(context, dept, name, code=CODE, extra_documents=(), committed_limit=3, **overrides):
    return gov.service(dept["id"], context=dict(context), name=name, basic_code=code,
                       implementation_code=f"{name.upper()}-{code}",
                       documents=documents(STANDARD_DOCUMENTS + list(extra_documents)),
                       committed_limit=committed_limit, committed_limit_unit="working_days",
                       **overrides)


def catalogues(context, province):
    """The documents of the item and the basic item XK-0101, as the province publishes them."""
    for code, title in STANDARD_DOCUMENTS + EXTRA_DOCUMENTS:
        helpers.call_action("package_create", context=dict(context), type="document",
                            owner_org=province["id"], document_code=code, title=title)
    basic_item(context, province)


@pytest.fixture
def network(sysadmin):
    """The province publishes the catalogues; the city and two districts implement XK-0101."""
    province = gov.department(name="province-office", title="省政务服务管理办公室",
                              title_en="Province Government Service Office", level="province", area="浙东省")
    catalogues(sysadmin, province)
    city = gov.department(name="city-market", title="滨江市市场监督管理局",
                          title_en="Binjiang Market Regulation Bureau", level="city", area="滨江市")
    linjiang = gov.department(name="linjiang-market", title="临江区市场监督管理局",
                              title_en="Linjiang Market Regulation Bureau", level="district", area="临江区")
    dongcheng = gov.department(name="dongcheng-market", title="东城区市场监督管理局",
                               title_en="Dongcheng Market Regulation Bureau", level="district", area="东城区")
    implementation(sysadmin, city, "city-licence")
    implementation(sysadmin, linjiang, "linjiang-licence", extra_documents=EXTRA_DOCUMENTS)
    implementation(sysadmin, dongcheng, "dongcheng-licence", committed_limit=10)
    return {"context": sysadmin, "province": province, "city": city, "linjiang": linjiang,
            "dongcheng": dongcheng}


def compared(**params):
    return helpers.call_action("govservice_item_compare", context={"user": ""}, basic_code=CODE, **params)


def differences(answer, name):
    impl = next(i for i in answer["implementations"] if i["name"] == name)
    return [(d["field"], d["against"], d["text"]) for d in impl["differences"]]


# ---------------------------------------------------------------- the action

def test_the_implementations_are_listed_by_level_then_area(network):
    answer = compared()
    assert [i["name"] for i in answer["implementations"]] == [
        "city-licence", "dongcheng-licence", "linjiang-licence"]          # 市级, then 东城区 before 临江区
    assert [i["department"]["level"] for i in answer["implementations"]] == ["city", "district", "district"]
    assert answer["basic_item"]["basic_code"] == CODE and answer["basic_item"]["standard"]["limit"] == 3


def test_an_implementation_carries_its_document_codes_limit_and_department(network):
    linjiang = compared()["implementations"][2]
    assert linjiang["documents"] == ["DOC-ID", "DOC-AOA", "DOC-LEASE", "DOC-PLAN"]
    assert linjiang["documents_to_bring"] == 4
    assert linjiang["committed_days"] == 4.2                            # 3 working days in calendar days
    assert linjiang["implementation_code"] == f"LINJIANG-LICENCE-{CODE}"
    assert linjiang["department"] == {"name": "linjiang-market", "title": "临江区市场监督管理局",
                                      "title_en": "Linjiang Market Regulation Bureau",
                                      "level": "district", "area": "临江区"}


def test_two_more_documents_are_a_difference_against_the_standard_and_the_others(network):
    assert differences(compared(), "linjiang-licence") == [
        ("documents", "standard", {
            "zh_Hans_CN": "临江区要求提交标准以外的 2 份材料：经营场所租赁合同、经营场所平面图",
            "en": "Linjiang Market Regulation Bureau asks for 2 documents outside the standard: "
                  "经营场所租赁合同, 经营场所平面图"}),
        ("documents", "best", {
            "zh_Hans_CN": "临江区比其他实施部门多要求提交 2 份材料",
            "en": "Linjiang Market Regulation Bureau asks citizens to bring 2 more documents than the others"})]


def test_ten_working_days_where_the_others_commit_three_is_a_difference(network):
    assert differences(compared(), "dongcheng-licence") == [
        ("committed_limit", "standard", {
            "zh_Hans_CN": "东城区承诺 10 工作日，标准为 3 工作日",
            "en": "Dongcheng Market Regulation Bureau commits 10 working days where the standard is 3 working days"}),
        ("committed_limit", "best", {
            "zh_Hans_CN": "东城区承诺 10 工作日，其他实施部门承诺 3 工作日",
            "en": "Dongcheng Market Regulation Bureau commits 10 working days where others commit 3 working days"})]


def test_the_city_keeping_to_the_standard_has_no_difference(network):
    answer = compared()
    assert differences(answer, "city-licence") == []
    assert answer["implementations"][0]["matches_standard"] == {"documents": True, "limit": True, "visits": True}
    assert answer["best"]["committed_limit"] == {"value": 4.2, "names": ["city-licence", "linjiang-licence"]}


def test_the_comparison_filters_by_level_and_area(network):
    assert [i["name"] for i in compared(level="district")["implementations"]] == [
        "dongcheng-licence", "linjiang-licence"]
    assert [i["name"] for i in compared(area="临江区")["implementations"]] == ["linjiang-licence"]


def test_an_unknown_code_is_not_found_by_its_code(network):
    with pytest.raises(tk.ObjectNotFound) as e:
        helpers.call_action("govservice_item_compare", context={"user": ""}, basic_code="XK-9999")
    assert "no basic item has code XK-9999" in str(e.value)


def test_a_level_that_is_not_one_is_refused(network):
    with pytest.raises(tk.ValidationError) as e:
        compared(level="county")
    assert "level" in e.value.error_dict


def test_a_basic_item_nobody_implements_has_an_empty_list(network):
    basic_item(network["context"], network["province"], code="XK-0202", title="食品经营许可")
    answer = helpers.call_action("govservice_item_compare", context={"user": ""}, basic_code="XK-0202")
    assert answer["implementations"] == []


def test_the_catalogue_counts_implementations(network):
    basic_item(network["context"], network["province"], code="XK-0202", title="食品经营许可")
    answer = helpers.call_action("govservice_item_list", context={"user": ""})
    assert [(i["basic_code"], i["implementations"]) for i in answer["items"]] == [(CODE, 3), ("XK-0202", 0)]


# ---------------------------------------------------------------- the pages

def test_the_page_shows_the_standard_and_the_planted_differences(app, network):
    page = fetch(app, f"/item/{CODE}")
    standard = text_of(section(page, "standard"))
    assert "3 工作日" in standard and "最多跑一次" in standard and "居民身份证" in standard
    differences_shown = text_of(section(page, "differences"))
    assert "临江区比其他实施部门多要求提交 2 份材料" in differences_shown
    assert "东城区承诺 10 工作日，其他实施部门承诺 3 工作日" in differences_shown
    assert 'href="/document/DOC-LEASE"' in page
    assert 'href="/performance/linjiang-market"' in page and 'href="/service/linjiang-licence"' in page


def test_the_page_highlights_the_cells_that_differ(app, network):
    page = fetch(app, f"/item/{CODE}")
    row = page.split('data-implementation="dongcheng-licence"')[1].split("</tr>")[0]
    assert 'data-field="committed_limit" class="govservice-differs"' in row
    assert 'data-field="documents" class="govservice-differs"' not in row


def test_the_page_in_english(app, network):
    page = text_of(fetch(app, f"/en/item/{CODE}"))
    assert "Linjiang Market Regulation Bureau asks citizens to bring 2 more documents than the others" in page
    assert "Business licence issuance" in page and "Province Government Service Office" in page


def test_the_page_filters_by_level(app, network):
    page = fetch(app, f"/item/{CODE}?level=city")
    assert 'data-implementation="city-licence"' in page
    assert 'data-implementation="linjiang-licence"' not in page
    assert "共 3 项实施，显示 1 项。" in text_of(page)


def test_an_implementation_stating_only_what_it_must_renders(app, network):
    township = gov.department(name="township-office", title="江南街道便民服务中心", level="township")
    gov.service(township["id"], context=dict(network["context"]), name="bare-licence", basic_code=CODE,
                documents=[], committed_limit=None, fees=[], channels=[], online_depth=[],
                in_person_visits=None, title_en=None)
    page = fetch(app, f"/item/{CODE}")
    row = page.split('data-implementation="bare-licence"')[1].split("</tr>")[0]
    assert "江南街道便民服务中心" in row and "乡镇街道" in row
    bare = next(i for i in compared()["implementations"] if i["name"] == "bare-licence")
    assert bare["matches_standard"] == {"documents": True, "limit": False, "visits": False}
    assert bare["documents"] == [] and bare["kpis"] == {}


def test_a_withdrawn_basic_item_says_so_on_its_page(app, network):
    helpers.call_action("package_patch", context=dict(network["context"]), id=f"item-{CODE.lower()}",
                        status="withdrawn")
    assert '<span class="govservice-status govservice-status-withdrawn">已撤销</span>' in fetch(app, f"/item/{CODE}")


def test_an_unknown_code_is_a_404_page_naming_it(app, network):
    assert "没有编码为 XK-9999 的基本目录事项。" in fetch(app, "/item/XK-9999", status=404)


def test_a_basic_item_nobody_implements_says_so(app, network):
    basic_item(network["context"], network["province"], code="XK-0202", title="食品经营许可")
    assert "尚无部门实施本事项。" in fetch(app, "/item/XK-0202")


def test_the_catalogue_page_links_each_item_to_its_comparison(app, network):
    page = fetch(app, "/item/")
    assert f'href="/item/{CODE}"' in page and 'data-implementations="3"' in page


def test_the_basic_item_read_page_leads_to_the_comparison(app, network):
    response = app.get(f"/basic_item/item-{CODE.lower()}", follow_redirects=False)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/item/{CODE}")


def test_the_basic_item_list_of_ckan_leads_to_the_catalogue(app, network):
    response = app.get("/basic_item/", follow_redirects=False)
    assert response.status_code == 302 and response.headers["Location"].endswith("/item/")


def test_the_basic_item_edit_page_still_opens(app, network):
    from ckan.tests import factories
    token = factories.APIToken(user=network["context"]["user"])["token"]
    page = fetch(app, f"/basic_item/edit/item-{CODE.lower()}", headers={"Authorization": token})
    assert f'value="{CODE}"' in page


# ---------------------------------------------------------------- the facets

def test_the_service_search_has_level_and_area_facets(app, network):
    page = fetch(app, "/service/")
    assert "level_ss=district" in page and "area_ss=" in page
    district = fetch(app, "/service/?level_ss=district")
    assert "/service/linjiang-licence" in district and "/service/city-licence" not in district


def test_the_level_facet_names_levels_in_the_pages_language(app, network):
    page = text_of(fetch(app, "/service/"))
    assert "行使层级" in page and "区县级" in page and "市级" in page
    assert "District" in text_of(fetch(app, "/en/service/"))


def test_the_service_search_filters_by_basic_item_code(app, network):
    other = gov.department(name="tax-bureau", title="滨江市税务局", level="city", area="滨江市")
    gov.service(other["id"], context=dict(network["context"]), name="unrelated")
    page = fetch(app, f"/service/?basic_code_ss={CODE}")
    assert "/service/dongcheng-licence" in page and "/service/unrelated" not in page


# ---------------------------------------------------------------- the standardisation score

@pytest.fixture
def linjiang_three(network):
    """Linjiang implements three basic items: two to the standard, one (XK-0101) with extra documents."""
    for code in ("XK-0202", "XK-0303"):
        basic_item(network["context"], network["province"], code=code)
        implementation(network["context"], network["linjiang"], f"linjiang-{code.lower()}", code=code)
    return network


def test_the_standardisation_score_is_the_share_matching(linjiang_three):
    answer = helpers.call_action("govservice_standardisation", context={"user": ""}, department="linjiang-market")
    assert answer["departments"] == [{"department": "linjiang-market",
                                      "title": {"zh_Hans_CN": "临江区市场监督管理局",
                                                "en": "Linjiang Market Regulation Bureau"},
                                      "score": 0.667, "matching": 2, "implementations": 3}]


def test_every_department_with_implementations_is_scored(linjiang_three):
    answer = helpers.call_action("govservice_standardisation", context={"user": ""})
    assert [(d["department"], d["score"]) for d in answer["departments"]] == [
        ("city-market", 1.0), ("linjiang-market", 0.667), ("dongcheng-market", 0.0)]
    assert "no more in-person visits" in answer["definition"]["en"]


def test_the_department_dashboard_shows_its_score_and_its_definition(app, statistics_db, linjiang_three):
    shown = text_of(section(fetch(app, "/performance/linjiang-market"), "standardisation"))
    assert "67%" in shown and "其 3 项基本目录事项的实施中，2 项符合统一标准。" in shown
    assert "标准化得分是部门实施的基本目录事项中三方面均符合统一标准的比例" in shown


def test_the_league_table_carries_the_score(app, statistics_db, sysadmin, dept):
    catalogues(sysadmin, gov.department(name="province-office", level="province", area="浙东省"))
    implementation(sysadmin, dept, "sr-1", service_code="SR-1")
    implementation(sysadmin, dept, "sr-2", service_code="SR-2", committed_limit=10)
    load_csv(sysadmin, "market-regulation", MARKET)
    league = helpers.call_action("govservice_league_table", context={"user": ""})
    [row] = league["departments"]
    assert row["standardisation"] == {"score": 0.5, "matching": 1, "implementations": 2}
    assert "50% (1/2)" in text_of(section(fetch(app, "/performance/"), "league-table"))
