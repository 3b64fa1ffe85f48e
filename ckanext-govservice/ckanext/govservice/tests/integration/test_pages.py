"""The citizen pages: a service's page, the service search, themes and life events."""
import re

import pytest

from ckan.tests import factories

from .. import factories as gov
from ..pages import fetch


@pytest.fixture
def other_dept(sysadmin):
    return gov.department(name="health-commission", title="滨江市卫生健康委员会",
                          title_en="Binjiang Health Commission")


def create(dept, sysadmin, **overrides):
    return gov.service(dept["id"], context=dict(sysadmin), **overrides)


def text_of(html: str) -> str:
    """The page as a reader sees it: tags out, whitespace folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.usefixtures("clean_index")
class TestServicePage:
    @pytest.fixture
    def page(self, app, dept, sysadmin):
        service = create(dept, sysadmin, name="business-licence", statutory_limit=20,
                         committed_limit=5, contact_phone="0571-88880000",
                         complaint_phone="12345",
                         process_steps=[{"name": "受理"}, {"name": "审核"}, {"name": "发证"}],
                         fees=[{"name": "工本费", "amount": "10"}])
        return fetch(app, f"/service/{service['name']}")

    def test_it_lists_the_documents_with_how_and_who(self, page):
        text = text_of(page)
        assert "申请材料" in text
        assert "居民身份证 必需 原件" in text
        assert "公司章程 必需 复印件" in text
        assert "材料来源：申请人自备" in text

    def test_the_online_channel_is_a_button_to_its_address(self, page):
        assert re.search(r'<a class="btn btn-primary govservice-apply" href="https://zwfw.binjiang.gov.cn/yyzz"',
                         page)

    def test_the_hall_shows_address_hours_and_phone(self, page):
        text = text_of(page)
        assert "地址 滨江市江南大道1号" in text
        assert "办公时间 周一至周五 9:00-17:00" in text
        assert 'href="tel:0571-12345"' in page

    def test_committed_and_statutory_limits_and_the_compression(self, page):
        text = text_of(page)
        assert "承诺办结时限 5 工作日" in text
        assert "法定办结时限 20 工作日" in text
        assert "比法定时限压缩 75%" in text

    def test_the_fee(self, page):
        assert "工本费 10.00 元" in text_of(page)

    def test_the_visits_in_words(self, page):
        assert "最多跑一次" in text_of(page)

    def test_process_contact_and_complaints(self, page):
        text = text_of(page)
        assert "办理流程" in text and "受理" in text and "发证" in text
        assert "咨询电话 0571-88880000" in text
        assert "监督投诉电话 12345" in text

    def test_the_department_is_named(self, page):
        assert "办理部门： 滨江市市场监督管理局" in text_of(page)

    def test_the_performance_panel_placeholder_is_there_and_empty(self, page):
        panel = re.search(r'<section[^>]*id="performance-panel".*?</section>', page, re.S)
        assert panel
        assert "办理绩效" in panel.group(0)


@pytest.mark.usefixtures("clean_index")
class TestServicePageVariants:
    def test_a_free_service_says_free(self, app, dept, sysadmin):
        service = create(dept, sysadmin, fees=[])
        assert "收费标准 免费" in text_of(fetch(app, f"/service/{service['name']}"))

    def test_a_zero_visit_service_says_no_visit(self, app, dept, sysadmin):
        service = create(dept, sysadmin, in_person_visits=0)
        assert "零跑动" in text_of(fetch(app, f"/service/{service['name']}"))

    def test_an_on_the_spot_service(self, app, dept, sysadmin):
        service = create(dept, sysadmin, committed_limit=0)
        assert "承诺办结时限 即办" in text_of(fetch(app, f"/service/{service['name']}"))

    @pytest.mark.parametrize("status,words", [("suspended", "该事项已暂停办理"),
                                              ("withdrawn", "该事项已撤销")])
    def test_a_suspended_or_withdrawn_service_is_marked_at_the_top(self, app, dept, sysadmin,
                                                                   status, words):
        service = create(dept, sysadmin, status=status)
        page = fetch(app, f"/service/{service['name']}")
        banner = re.search(r'<div class="govservice-status-banner[^"]*" role="alert">(.*?)</div>', page, re.S)
        assert banner and words in banner.group(1)

    def test_an_active_service_has_no_banner(self, app, dept, sysadmin):
        service = create(dept, sysadmin)
        assert "govservice-status-banner" not in fetch(app, f"/service/{service['name']}")

    def test_english_labels_and_texts_at_en(self, app, dept, sysadmin):
        service = create(dept, sysadmin, notes_en="Registers a company and issues its licence.",
                         fees=[])
        text = text_of(fetch(app, f"/en/service/{service['name']}"))
        assert "Business licence issuance" in text
        assert "Registers a company and issues its licence." in text
        assert "Documents to bring" in text
        assert "ID card Mandatory Original" in text
        assert "Committed time limit 3 working days" in text
        assert "Statutory time limit 15 working days" in text
        assert "How much Free" in text
        assert "at most one visit" in text
        assert "Department: Binjiang Market Regulation Bureau" in text
        assert "申请材料" not in text

    def test_harvested_markup_is_shown_as_text(self, app, dept, sysadmin):
        service = create(dept, sysadmin,
                         notes="<script>alert('notes')</script> [点我](javascript:alert(1))",
                         eligibility="<img src=x onerror=alert(2)>依法设立的企业",
                         documents=[{"name": "<b>身份证</b>"}])
        page = fetch(app, f"/service/{service['name']}")
        assert "<script>alert(" not in page
        assert "&lt;script&gt;alert(&#39;notes&#39;)&lt;/script&gt;" in page
        assert 'href="javascript:' not in page
        assert "[点我](javascript:alert(1))" in page
        assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
        assert "<b>身份证</b>" not in page


@pytest.mark.usefixtures("clean_index")
class TestSearchPage:
    @pytest.fixture
    def services(self, dept, other_dept, sysadmin):
        create(dept, sysadmin, title="企业营业执照核发", committed_limit=5, in_person_visits=1)
        create(dept, sysadmin, title="食品经营许可", committed_limit=1, in_person_visits=0,
               themes=["business", "health"], fees=[{"name": "工本费", "amount": "5"}])
        create(other_dept, sysadmin, title="医师执业注册", committed_limit=10, themes=["health"],
               life_events=[], status="suspended")

    def test_the_facets_are_titled_from_the_schema(self, app, services):
        text = text_of(fetch(app, "/service/"))
        for title in ("实施主体", "主题分类", "一件事", "服务对象", "办理渠道", "网上办理深度",
                      "到办事现场次数", "是否免费", "事项状态"):
            assert title in text

    def test_facet_values_are_words_with_counts(self, app, services):
        page = fetch(app, "/service/")
        def count(label):
            m = re.search(r'class="item-label">' + re.escape(label) + r'</span>.*?class="item-count badge">(\d+)',
                          page, re.S)
            return int(m.group(1)) if m else None
        assert count("企业经营") == 2
        assert count("医疗卫生") == 2
        assert count("开办餐饮店一件事") == 2
        assert count("零跑动") == 1
        assert count("最多跑一次") == 2
        assert count("免费") == 2
        assert count("收费") == 1
        assert count("暂停") == 1
        assert count("滨江市卫生健康委员会") == 1

    def test_the_search_box_and_breadcrumb_speak_the_pages_language(self, app, services):
        page = fetch(app, "/service/")
        assert 'placeholder="搜索事项…"' in page
        assert "Search Services" not in page and ">Services<" not in page
        assert '<a href="/service/">事项</a>' in page
        assert re.search(r"<title>\s*事项 ", page)
        english = fetch(app, "/en/service/")
        assert 'placeholder="Search services…"' in english

    def test_the_heading_counts_services_in_the_pages_language(self, app, services):
        assert "<h1>共 3 项事项</h1>" in fetch(app, "/service/")
        page = fetch(app, "/service/", query_string={"q": "医师执业"})
        assert re.search(r"<h1>.*</h1>", page).group(0) == "<h1>找到 1 项与“医师执业”相关的事项</h1>"
        assert "<h1>没有找到与“火星”相关的事项</h1>" in fetch(app, "/service/", query_string={"q": "火星"})
        assert "<h1>3 services</h1>" in fetch(app, "/en/service/")
        assert 'found for "Mars"' not in fetch(app, "/en/service/", query_string={"q": "Mars"})

    def test_english_facet_titles_and_values(self, app, services):
        text = text_of(fetch(app, "/en/service/"))
        assert "Themes" in text and "Life events" in text and "In-person visits" in text
        assert "Opening a restaurant" in text and "no visit" in text
        assert "Binjiang Health Commission" in text

    def test_sorting_by_committed_time_puts_the_quickest_first(self, app, services):
        page = fetch(app, "/service/", query_string={"sort": "committed_days_f asc, title_string asc"})
        assert 'value="committed_days_f asc, title_string asc" selected' in page
        titles = re.findall(r'class="govservice-service-title">\s*<a href="[^"]+">([^<]+)</a>', page)
        assert titles == ["食品经营许可", "企业营业执照核发", "医师执业注册"]

    def test_a_facet_filter_narrows_the_list(self, app, services):
        page = fetch(app, "/service/", query_string={"themes_ss": "health"})
        titles = re.findall(r'class="govservice-service-title">\s*<a href="[^"]+">([^<]+)</a>', page)
        assert sorted(titles) == ["医师执业注册", "食品经营许可"]


@pytest.mark.usefixtures("clean_index")
class TestThemeAndLifeEventPages:
    @pytest.fixture
    def services(self, dept, other_dept, sysadmin):
        return {
            "licence": create(dept, sysadmin, name="licence", title="企业营业执照核发",
                              title_en="Business licence",
                              themes=["business"], life_events=["opening_a_restaurant"],
                              committed_limit=5, in_person_visits=1),
            "food": create(other_dept, sysadmin, name="food", title="食品经营许可",
                           title_en="Food business permit",
                           themes=["business", "health"], life_events=["opening_a_restaurant"],
                           committed_limit=10, committed_limit_unit="calendar_days",
                           in_person_visits=1,
                           documents=[{"name": "居民身份证", "name_en": "ID card"},
                                      {"name": "食品安全管理制度", "mandatory": "false"}]),
            "tax": create(dept, sysadmin, name="tax", title="税务登记", title_en="Tax registration",
                          themes=["tax"],
                          life_events=["starting_a_business"]),
        }

    def titles(self, page):
        return re.findall(r'class="govservice-service-title">\s*<a href="[^"]+">([^<]+)</a>', page)

    def test_a_theme_lists_its_services_across_departments(self, app, services):
        page = fetch(app, "/service/theme/business")
        assert sorted(self.titles(page)) == ["企业营业执照核发", "食品经营许可"]
        assert "<h1>企业经营</h1>" in page

    def test_a_theme_page_in_english(self, app, services):
        page = fetch(app, "/en/service/theme/health")
        assert "<h1>Health</h1>" in page
        assert self.titles(page) == ["Food business permit"]

    def test_a_life_event_lists_its_services(self, app, services):
        page = fetch(app, "/service/life-event/opening_a_restaurant")
        assert sorted(self.titles(page)) == ["企业营业执照核发", "食品经营许可"]
        assert "<h1>开办餐饮店一件事</h1>" in page

    def test_a_life_event_combines_the_documents(self, app, services):
        page = fetch(app, "/service/life-event/opening_a_restaurant")
        section = re.search(r'id="combined-documents".*?</section>', page, re.S).group(0)
        docs = re.findall(r'class="govservice-doc-name">([^<]+)<', section)
        assert docs == ["居民身份证", "公司章程", "食品安全管理制度"]
        id_card = text_of(section.split("公司章程")[0])
        assert "企业营业执照核发" in id_card and "食品经营许可" in id_card

    def test_a_life_event_totals_visits_and_time(self, app, services):
        page = fetch(app, "/service/life-event/opening_a_restaurant")
        assert re.search(r'id="total-visits">最多跑 2 次<', page)
        # 5 working days = 7 calendar days, plus 10 calendar days
        assert re.search(r'id="total-time">17 个自然日<', page)
        assert re.search(r'id="longest-time">10 个自然日<', page)

    def test_the_index_lists_themes_and_life_events_with_counts(self, app, services):
        text = text_of(fetch(app, "/service/theme/"))
        assert "企业经营 2" in text
        assert "开办餐饮店一件事 2" in text
        assert "税费缴纳 1" in text

    @pytest.mark.parametrize("url", ["/service/theme/space_travel",
                                     "/service/life-event/going_to_mars"])
    def test_an_unknown_value_is_not_found(self, app, url):
        assert app.get(url).status_code == 404


@pytest.mark.usefixtures("clean_index")
class TestStructuredData:
    def test_the_service_page_embeds_government_service_json_ld(self, app, dept, sysadmin):
        import json
        create(dept, sysadmin, name="licence-ld", title="营业执照</script><script>alert(1)</script>")
        page = fetch(app, "/service/licence-ld")

        blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
        assert len(blocks) == 1
        data = json.loads(blocks[0])
        assert data["@type"] == "GovernmentService"
        assert "alert(1)</script>" in json.dumps(data, ensure_ascii=False)   # as data…
        assert "<script>alert(1)" not in page                                 # …never as markup


@pytest.mark.usefixtures("clean_index")
def test_a_harvested_service_shows_its_source_and_last_harvest(app, dept, sysadmin):
    create(dept, sysadmin, name="harvested", source="market-feed",
           harvested_at="2026-11-28T06:00:00+00:00")
    text = text_of(fetch(app, "/service/harvested"))
    assert "数据来源 market-feed" in text
    assert "采集时间 2026-11-28T06:00:00+00:00" in text
