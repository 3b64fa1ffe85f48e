"""The pages' words and figures (core.words): pure, from the compiled catalogue,
in both languages, with no site, request or database."""
import pytest

from ckanext.govservice.core import words

ZH, EN = "zh_Hans_CN", "en"
ABSENT = [None, "", "  ", [], {}]


def test_a_word_is_its_english_and_its_chinese_from_the_catalogue():
    assert words.word("How long", EN) == "How long"
    assert words.word("How long", ZH) == "办多久"


def test_placeholders_are_filled_in_either_language():
    assert words.word("Latest 12 months: {f} to {t}", EN, f="2025-02", t="2026-01") == \
        "Latest 12 months: 2025-02 to 2026-01"
    assert words.word("Latest 12 months: {f} to {t}", ZH, f="2025-02", t="2026-01") == \
        "最近 12 个月：2025-02 至 2026-01"


def test_a_context_tells_apart_one_english_word_with_two_chinese():
    assert words.word("Performance", ZH) == "办理绩效"
    assert words.word("Performance", ZH, context="navigation") == "绩效"
    assert words.word("Performance", EN, context="navigation") == "Performance"


def test_our_words_do_not_answer_for_ckans():
    # CKAN merges our catalogue into its own: a context-free "Name" or "Bad
    # request" here would replace CKAN's translation on CKAN's pages.
    catalogue = words.translations(ZH)
    assert catalogue.gettext("Bad request") == "Bad request"
    assert catalogue.gettext("Name") == "Name"
    assert words.word("Bad request", ZH) == "请求有误"


def test_a_word_not_in_the_catalogue_stays_english():
    assert words.word("Not a word of ours", ZH) == "Not a word of ours"


def test_each_language_loads_its_catalogue_once():
    assert words.translations(ZH) is words.translations(ZH)


# ---------------------------------------------------------------- time limits and visits

@pytest.mark.parametrize("lang, expected", [(ZH, "即办"), (EN, "on the spot")])
def test_a_time_limit_of_nothing_is_on_the_spot(lang, expected):
    assert words.time_limit(0, "working_days", lang) == expected


def test_a_time_limit_is_in_its_unit_from_the_schema():
    assert words.time_limit(5, "working_days", ZH) == "5 工作日"
    assert words.time_limit(5, "working_days", EN) == "5 working days"
    assert words.time_limit(24, "hours", EN) == "24 hours"


def test_a_time_limit_without_a_unit_is_in_working_days():
    assert words.time_limit(3, None, EN) == words.time_limit(3, "", EN) == "3 working days"


@pytest.mark.parametrize("value", ABSENT)
def test_a_time_limit_not_stated_shows_nothing(value):
    assert words.time_limit(value, "working_days", ZH) == ""


@pytest.mark.parametrize("n, zh, en", [
    (0, "零跑动", "no visit"),
    (1, "最多跑一次", "at most one visit"),
    (3, "最多跑 3 次", "at most 3 visits"),
    ("2", "最多跑 2 次", "at most 2 visits"),   # a facet's value is text
])
def test_visits_in_both_languages(n, zh, en):
    assert words.visits(n, ZH) == zh
    assert words.visits(n, EN) == en


@pytest.mark.parametrize("value", ABSENT)
def test_visits_not_stated_show_nothing(value):
    assert words.visits(value, EN) == ""


def test_calendar_days_count_in_english_and_not_in_chinese():
    assert words.calendar_days(1, EN) == "1 calendar day"
    assert words.calendar_days(17, EN) == "17 calendar days"
    assert words.calendar_days(1, ZH) == "1 个自然日"
    assert words.calendar_days(17.0, ZH) == "17 个自然日"


def test_a_fraction_of_a_day_is_shown_to_one_place_and_counts_as_many():
    assert words.calendar_days(7.25, EN) == "7.2 calendar days"
    assert words.calendar_days(0.5, EN) == "0.5 calendar days"
    assert words.calendar_days(0.5, ZH) == "0.5 个自然日"
    assert words.calendar_days(None, EN) == ""


# ---------------------------------------------------------------- documents and money

def test_copies_of_a_document_count_in_english():
    assert words.copies(1, EN) == "1 copy"
    assert words.copies(2, EN) == "2 copies"
    assert words.copies(2, ZH) == "2 份"
    assert words.copies(None, ZH) == ""


def test_yuan_follow_the_amount_in_chinese_and_cny_leads_in_english():
    assert words.money(1200, "CNY", ZH) == "1,200.00 元"
    assert words.money(1200, "CNY", EN) == "CNY 1,200.00"


def test_money_without_a_currency_is_in_yuan():
    assert words.money("15", None, ZH) == words.money("15", "", ZH) == "15.00 元"


def test_another_currency_is_named_by_its_code():
    assert words.money(3, "USD", ZH) == words.money(3, "USD", EN) == "3.00 USD"


def test_an_amount_that_is_no_number_is_shown_as_written():
    assert words.money("按面积计", "CNY", EN) == "CNY 按面积计"


@pytest.mark.parametrize("value", ABSENT)
def test_no_amount_shows_nothing(value):
    assert words.money(value, "CNY", ZH) == ""


def test_zero_is_an_amount():
    assert words.money(0, "CNY", EN) == "CNY 0.00"


def test_a_ratio_in_percent():
    assert words.percent(0.754) == "75%"
    assert words.percent(0) == "0%"
    assert words.percent(None) == words.percent("") == ""


# ---------------------------------------------------------------- the search page's heading

def test_services_found_without_a_query():
    assert words.services_found(1512, None, ZH) == "共 1,512 项事项"
    assert words.services_found(1512, None, EN) == "1,512 services"
    assert words.services_found(1, None, EN) == "1 service"
    assert words.services_found(1, None, ZH) == "共 1 项事项"


def test_services_found_for_a_query():
    assert words.services_found(3, "执照", ZH) == "找到 3 项与“执照”相关的事项"
    assert words.services_found(3, "licence", EN) == '3 services found for "licence"'
    assert words.services_found(1, "licence", EN) == '1 service found for "licence"'


def test_no_services_found():
    assert words.services_found(0, "x", ZH) == "没有找到与“x”相关的事项"
    assert words.services_found(0, "x", EN) == 'No services found for "x"'
    assert words.services_found(None, "", EN) == "No services yet"
    assert words.services_found(0, None, ZH) == "暂无事项"


# ---------------------------------------------------------------- error pages and CKAN's words

def test_an_error_page_says_what_happened_in_the_pages_language():
    assert words.error_page(404, None, ZH) == {
        "heading": "404 找不到这个页面",
        "message": "地址可能输错了，或页面已经移走。可以从首页或事项搜索重新找起。"}
    assert words.error_page(404, "", EN)["heading"] == "404 Page not found"


def test_an_error_page_keeps_the_message_it_was_given():
    assert words.error_page(404, "找不到这个数据集", EN)["message"] == "找不到这个数据集"


def test_an_unlisted_status_is_worded_as_its_class():
    assert words.error_page(418, None, EN)["heading"] == "418 Bad request"
    assert words.error_page(503, None, ZH)["heading"] == "503 服务器出错了"
    assert words.error_page(None, None, EN)["heading"] == "500 Something went wrong"


def test_what_ckans_pages_call_a_service():
    assert words.service_type_word("breadcrumb", ZH) == "事项"
    assert words.service_type_word("search_placeholder", EN) == "Search services…"
    assert words.service_type_word("create label", ZH) == "新增事项"
    assert words.service_type_word("some purpose of CKAN's", ZH) is None


# ---------------------------------------------------------------- performance

def test_a_kpi_figure_by_its_unit():
    assert words.kpi_value(0.754, "ratio") == "75%"
    assert words.kpi_value(4.08, "score") == "4.1"
    assert words.kpi_value(1234.4, "count") == "1,234"
    assert words.kpi_value(0, "count") == "0"
    assert words.kpi_value(None, "ratio") == "—"


def test_a_change_in_a_ratio_is_in_points():
    assert words.kpi_change(0.034, "ratio", ZH) == "较前期 +3 个百分点"
    assert words.kpi_change(-0.034, "ratio", EN) == "−3 points on the previous period"
    assert words.kpi_change(0.01, "ratio", EN) == "+1 point on the previous period"
    assert words.kpi_change(0.0, "ratio", EN) == "±0 points on the previous period"


def test_a_change_in_a_count_or_a_score_is_in_its_units():
    assert words.kpi_change(1200, "count", EN) == "+1,200 on the previous period"
    assert words.kpi_change(-0.25, "score", ZH) == "较前期 −0.2"


def test_no_change_shows_nothing():
    assert words.kpi_change(None, "ratio", EN) == ""
    assert words.kpi_change(True, "count", EN) == ""


def test_a_departments_rank():
    assert words.kpi_rank(2, 5, ZH) == "排名第 2（共 5 个部门）"
    assert words.kpi_rank(2, 5, EN) == "ranked 2 of 5 departments"
    assert words.kpi_rank(1, 1, EN) == "ranked 1 of 1 department"
    assert words.kpi_rank(None, 5, EN) == ""


def test_a_charts_summary_lists_its_series_in_the_languages_way():
    assert words.chart_summary(["受理量", "按时办结率"], "2025-02", "2026-01", ZH) == (
        "折线图：2025-02 至 2026-01 每月的受理量、按时办结率。没有数据的月份为空缺。图表数据见下方表格。")
    assert words.chart_summary(["Applications", "On-time rate"], "2025-02", "2026-01", EN).startswith(
        "Line chart of Applications, On-time rate each month from 2025-02 to 2026-01.")


# ---------------------------------------------------------------- absent values

@pytest.mark.parametrize("value", [None, "", " \n", [], (), {}])
def test_nothing_is_absent(value):
    assert words.absent(value)


@pytest.mark.parametrize("value", [0, 0.0, False, "0", [0]])
def test_zero_and_false_are_values(value):
    assert not words.absent(value)
