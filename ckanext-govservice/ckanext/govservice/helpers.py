"""Template helpers for the citizen pages (h.govservice_*).

Field labels and vocabulary words come from the service schema in the page's
language; the few words that are no field's label (section headings, "Free",
visit counts) are in WORDS below.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any, Callable

from jinja2 import Undefined
from markupsafe import Markup

import ckan.model as model
import ckan.plugins.toolkit as tk

from . import schema

__all__ = [
    "govservice_lang", "govservice_label", "govservice_sublabel", "govservice_choice_label",
    "govservice_text", "govservice_title", "govservice_word", "govservice_time_limit",
    "govservice_days", "govservice_visits", "govservice_money", "govservice_percent",
    "govservice_safe_url", "govservice_department", "govservice_facet_labeler",
    "govservice_is_true", "govservice_service_sorting", "govservice_jsonld",
    "govservice_kpi_label", "govservice_kpi_definition", "govservice_kpi_value",
    "govservice_kpi_change", "govservice_kpi_rank", "govservice_performance_trend",
    "govservice_chart_json", "govservice_chart_summary", "govservice_chart_cell",
    "govservice_department_title", "govservice_charts_available",
    "govservice_home_browse", "govservice_home_kpis", "govservice_services_found",
    "govservice_error_page",
    "humanize_entity_type",
]

# The facets of the service search page, in the order people narrow down by.
SERVICE_FACETS = ("owner_org", "themes", "life_events", "audience", "channels",
                  "online_depth", "in_person_visits", "is_free", "status")

WORDS = {
    "colon": {"zh_Hans_CN": "：", "en": ": "},
    "at_a_glance": {"zh_Hans_CN": "办事指南一览", "en": "At a glance"},
    "where_how": {"zh_Hans_CN": "在哪办、怎么办", "en": "Where and how to apply"},
    "how_long": {"zh_Hans_CN": "办多久", "en": "How long"},
    "how_much": {"zh_Hans_CN": "收费标准", "en": "How much"},
    "apply_online": {"zh_Hans_CN": "在线办理", "en": "Apply online"},
    "free": {"zh_Hans_CN": "免费", "en": "Free"},
    "paid": {"zh_Hans_CN": "收费", "en": "Paid"},
    "on_the_spot": {"zh_Hans_CN": "即办", "en": "on the spot"},
    "visits_0": {"zh_Hans_CN": "零跑动", "en": "no visit"},
    "visits_1": {"zh_Hans_CN": "最多跑一次", "en": "at most one visit"},
    "visits_n": {"zh_Hans_CN": "最多跑 {n} 次", "en": "at most {n} visits"},
    "compression": {"zh_Hans_CN": "比法定时限压缩 {p}", "en": "{p} shorter than the statutory limit"},
    "calendar_days": {"zh_Hans_CN": "{d} 个自然日", "en": "{d} calendar days"},
    "suspended": {"zh_Hans_CN": "该事项已暂停办理。", "en": "This service is suspended."},
    "withdrawn": {"zh_Hans_CN": "该事项已撤销，不再受理。", "en": "This service has been withdrawn and takes no applications."},
    "performance": {"zh_Hans_CN": "办理绩效", "en": "Performance"},
    "department": {"zh_Hans_CN": "办理部门", "en": "Department"},
    "contact": {"zh_Hans_CN": "咨询与投诉", "en": "Contact and complaints"},
    "copies": {"zh_Hans_CN": "{n} 份", "en": "{n} copies"},
    "services": {"zh_Hans_CN": "事项", "en": "Services"},
    "no_services": {"zh_Hans_CN": "暂无事项。", "en": "No services yet."},
    "browse": {"zh_Hans_CN": "按主题和一件事浏览", "en": "Browse by theme and life event"},
    "combined_documents": {"zh_Hans_CN": "合并后的申请材料", "en": "All the documents, combined"},
    "needed_by": {"zh_Hans_CN": "用于", "en": "Needed for"},
    "total_visits": {"zh_Hans_CN": "合计到现场次数", "en": "In-person visits in all"},
    "total_time": {"zh_Hans_CN": "承诺时限合计", "en": "Committed time in all"},
    "longest_time": {"zh_Hans_CN": "最长承诺时限", "en": "Longest committed time"},
    "left_out": {"zh_Hans_CN": "以下事项暂停或已撤销，未计入：", "en": "Suspended or withdrawn, not counted:"},
    "all_services": {"zh_Hans_CN": "全部事项", "en": "All services"},
    "home_title": {"zh_Hans_CN": "政务服务数据开放平台", "en": "Government services open data"},
    "home_intro": {"zh_Hans_CN": "查找 {n} 项政务服务：要带什么、在哪办、多久办结、跑几次，以及办得怎么样。",
                   "en": "Find any of {n} public services: what to bring, where to apply, how long it takes, how many visits, and how well it performs."},
    "home_search_label": {"zh_Hans_CN": "搜索事项", "en": "Search services"},
    "home_search_placeholder": {"zh_Hans_CN": "例如：营业执照、社保、出生", "en": "e.g. business licence, pension, birth"},
    "home_search_button": {"zh_Hans_CN": "搜索", "en": "Search"},
    "home_kpis": {"zh_Hans_CN": "全平台绩效（{f} 至 {t}）", "en": "How the platform performs ({f} to {t})"},
    "home_dashboard": {"zh_Hans_CN": "查看绩效看板和部门排名 →", "en": "Performance dashboard and department league table →"},
    "home_open_data": {"zh_Hans_CN": "开放数据", "en": "Open data"},
    "home_catalogue_files": {"zh_Hans_CN": "政务服务事项目录（CSV、JSON、XLSX）", "en": "The service catalogue (CSV, JSON, XLSX)"},
    "home_statistics": {"zh_Hans_CN": "政务服务绩效统计（DataStore 接口）", "en": "Service performance statistics (DataStore API)"},
    "home_api": {"zh_Hans_CN": "开发者接口说明（OpenAPI）", "en": "API for developers (OpenAPI)"},
    "sort_committed": {"zh_Hans_CN": "承诺时限从短到长", "en": "Committed time, shortest first"},
    "sort_title": {"zh_Hans_CN": "名称", "en": "Name"},
    "sort_relevance": {"zh_Hans_CN": "相关度", "en": "Relevance"},
    "sort_modified": {"zh_Hans_CN": "最近更新", "en": "Last modified"},
    # the performance panel and dashboards
    "nav_performance": {"zh_Hans_CN": "绩效", "en": "Performance"},
    "platform_performance": {"zh_Hans_CN": "政务服务绩效总览", "en": "Service performance of all departments"},
    "department_performance": {"zh_Hans_CN": "{d}办理绩效", "en": "Performance of {d}"},
    "see_department_performance": {"zh_Hans_CN": "查看本部门绩效", "en": "This department's performance"},
    "see_platform_performance": {"zh_Hans_CN": "各部门绩效对比", "en": "Compare all departments"},
    "latest_months": {"zh_Hans_CN": "最近 12 个月：{f} 至 {t}", "en": "Latest 12 months: {f} to {t}"},
    "compared_with": {"zh_Hans_CN": "变化与前 12 个月（{f} 至 {t}）相比。", "en": "Changes are on the 12 months before ({f} to {t})."},
    "full_stop": {"zh_Hans_CN": "。", "en": "."},
    "headline_kpis": {"zh_Hans_CN": "主要指标", "en": "Headline KPIs"},
    "catalogue_kpis_note": {"zh_Hans_CN": "时限压缩率和各类事项占比按当前在办事项计算。",
                            "en": "Time-limit compression and the service shares are for the services as they are now."},
    "change_points": {"zh_Hans_CN": "较前期 {s} 个百分点", "en": "{s} points on the previous period"},
    "change_count": {"zh_Hans_CN": "较前期 {s}", "en": "{s} on the previous period"},
    "rank_of": {"zh_Hans_CN": "排名第 {r}（共 {n} 个部门）", "en": "ranked {r} of {n} departments"},
    "monthly_trend": {"zh_Hans_CN": "月度趋势", "en": "Monthly trend"},
    "show_figures": {"zh_Hans_CN": "查看图表数据", "en": "Show the chart's figures"},
    "month": {"zh_Hans_CN": "月份", "en": "Month"},
    "no_data": {"zh_Hans_CN": "无数据", "en": "no data"},
    "chart_summary": {"zh_Hans_CN": "折线图：{f} 至 {t} 每月的{series}。没有数据的月份为空缺。图表数据见下方表格。",
                      "en": "Line chart of {series} each month from {f} to {t}. Months with no data are gaps. The figures are in the table below."},
    "list_sep": {"zh_Hans_CN": "、", "en": ", "},
    "no_statistics_service": {"zh_Hans_CN": "该事项尚未报送办理统计，暂无绩效数据。",
                              "en": "This service has not reported any statistics yet, so there are no performance figures."},
    "no_statistics_department": {"zh_Hans_CN": "该部门尚未报送办理统计。",
                                 "en": "This department has not reported any statistics yet."},
    "no_statistics_platform": {"zh_Hans_CN": "尚无部门报送办理统计。", "en": "No department has reported statistics yet."},
    "league_table": {"zh_Hans_CN": "部门排行榜", "en": "League table of departments"},
    "league_table_note": {"zh_Hans_CN": "按按时办结率排名，括号内为名次。", "en": "Ranked by on-time rate; each figure's rank in brackets."},
    "rank": {"zh_Hans_CN": "名次", "en": "Rank"},
    "fell_most": {"zh_Hans_CN": "指标降幅最大的部门", "en": "Departments whose KPIs fell most"},
    "fell_none": {"zh_Hans_CN": "没有部门下降。", "en": "No department fell."},
    "department_services": {"zh_Hans_CN": "各事项绩效（按按时办结率从高到低）", "en": "Its services, highest on-time rate first"},
    "service": {"zh_Hans_CN": "事项", "en": "Service"},
    "error_home": {"zh_Hans_CN": "返回首页", "en": "Home page"},
    "error_search": {"zh_Hans_CN": "搜索事项", "en": "Search services"},
    "search_error": {"zh_Hans_CN": "无法按这些条件搜索，请修改后重试。",
                     "en": "The search could not be run as written; please change it and try again."},
}

# The error page's heading and message by HTTP status, for when CKAN has only
# Werkzeug's English description to show.
ERROR_PAGES = {
    400: {"zh_Hans_CN": ("请求有误", "这个地址或表单里的内容无法处理，请检查后重试。"),
          "en": ("Bad request", "The address or form could not be understood; please check it and try again.")},
    403: {"zh_Hans_CN": ("无权访问", "您没有查看这个页面的权限。"),
          "en": ("Not allowed", "You do not have permission to see this page.")},
    404: {"zh_Hans_CN": ("找不到这个页面", "地址可能输错了，或页面已经移走。可以从首页或事项搜索重新找起。"),
          "en": ("Page not found", "The address may be mistyped, or the page has moved. "
                                   "Start again from the home page or the service search.")},
    500: {"zh_Hans_CN": ("服务器出错了", "很抱歉，服务器处理时出错。请稍后再试；问题持续时请联系平台管理员。"),
          "en": ("Something went wrong", "Sorry, the server failed to handle this. Please try again "
                                         "later, and tell the platform's administrators if it persists.")},
}

# The search page's heading: (with a query, without), by how many were found.
SERVICES_FOUND = {
    "zh_Hans_CN": {"none": ("没有找到与“{q}”相关的事项", "暂无事项"),
                   "one": ("找到 {n} 项与“{q}”相关的事项", "共 {n} 项事项"),
                   "many": ("找到 {n} 项与“{q}”相关的事项", "共 {n} 项事项")},
    "en": {"none": ('No services found for "{q}"', "No services yet"),
           "one": ('{n} service found for "{q}"', "{n} service"),
           "many": ('{n} services found for "{q}"', "{n} services")},
}

# What CKAN's own pages call a service (buttons, breadcrumbs, the search box):
# CKAN builds these from the type name, "Search Services...", in English even
# on a Chinese page. Purposes not listed keep CKAN's wording.
SERVICE_TYPE_WORDS = {
    "search placeholder": {"zh_Hans_CN": "搜索事项…", "en": "Search services…"},
    "search_placeholder": {"zh_Hans_CN": "搜索事项…", "en": "Search services…"},  # CKAN's header spells it so
    "main nav": {"zh_Hans_CN": "事项", "en": "Services"},
    "breadcrumb": {"zh_Hans_CN": "事项", "en": "Services"},
    "page title": {"zh_Hans_CN": "事项", "en": "Services"},
    "content tab": {"zh_Hans_CN": "事项", "en": "Services"},
    "facet label": {"zh_Hans_CN": "事项", "en": "Services"},
    "add link": {"zh_Hans_CN": "新增事项", "en": "Add service"},
    "create label": {"zh_Hans_CN": "新增事项", "en": "Create service"},
    "create title": {"zh_Hans_CN": "新增事项", "en": "Create service"},
    "edit label": {"zh_Hans_CN": "编辑事项", "en": "Edit service"},
    "update label": {"zh_Hans_CN": "更新事项", "en": "Update service"},
    "save label": {"zh_Hans_CN": "保存事项", "en": "Save service"},
    "view label": {"zh_Hans_CN": "查看事项", "en": "View service"},
    "my label": {"zh_Hans_CN": "我的事项", "en": "My services"},
    "delete confirmation": {"zh_Hans_CN": "确定要删除这个事项吗？",
                            "en": "Are you sure you want to delete this service?"},
    "no any objects": {"zh_Hans_CN": "本站还没有事项。", "en": "There are no services on this site yet."},
}


@tk.chained_helper
def humanize_entity_type(next_helper: Callable[..., Any], entity_type: str, object_type: str,
                         purpose: str) -> Any:
    """CKAN's helper, with the service type's words in the page's language."""
    if entity_type == "package" and object_type == "service" and purpose in SERVICE_TYPE_WORDS:
        return SERVICE_TYPE_WORDS[purpose][govservice_lang()]
    return next_helper(entity_type, object_type, purpose)


def absent(value: Any) -> bool:
    """Nothing to show: a field the service leaves out (a template reads it as
    Undefined), None, or empty text or list. 0 and False are values."""
    if value is None or isinstance(value, Undefined):
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, (list, tuple, dict)) and not value


def govservice_lang() -> str:
    """The page's language as the schema spells it: "en" or "zh_Hans_CN"."""
    return "en" if (tk.h.lang() or "").startswith("en") else "zh_Hans_CN"


def _plain(text: str) -> str:
    # "Who may apply (Chinese)", "事项说明（英文）": a page shows one language, so
    # the form's language marker is noise there.
    return re.sub(r"\s*[（(](Chinese|English|英文|中文)[)）]$", "", text)


def govservice_label(field_name: str) -> str:
    return _plain(schema.label(schema.field(field_name), govservice_lang()))


def govservice_sublabel(field_name: str, sub_name: str) -> str:
    return _plain(schema.label(_subfield(field_name, sub_name), govservice_lang()))


def _subfield(field_name: str, sub_name: str) -> dict[str, Any]:
    for sub in schema.field(field_name).get("repeating_subfields", []):
        if sub["field_name"] == sub_name:
            return sub
    raise KeyError(f"{field_name}.{sub_name}")


def govservice_choice_label(field_name: str, value: Any, sub_name: str | None = None) -> str:
    if absent(value):
        return ""
    f = _subfield(field_name, sub_name) if sub_name else schema.field(field_name)
    if isinstance(value, bool):
        value = "true" if value else "false"
    return schema.choice_label(f, value, govservice_lang())


def govservice_text(record: dict[str, Any], field_name: str) -> str:
    """A text in the page's language: `<field>_en` in English when there is one."""
    if govservice_lang() == "en" and record.get(f"{field_name}_en"):
        return record[f"{field_name}_en"]
    return record.get(field_name) or ""


def govservice_title(record: dict[str, Any]) -> str:
    return govservice_text(record, "title") or record.get("name") or ""


def govservice_word(key: str, **values: Any) -> str:
    return WORDS[key][govservice_lang()].format(**values)


def govservice_services_found(count: int, query: str | None) -> str:
    """"共 1,512 项事项" / "1,512 services"; with the query when there is one."""
    how_many = "none" if not count else "one" if count == 1 else "many"
    with_query, without = SERVICES_FOUND[govservice_lang()][how_many]
    return (with_query if query else without).format(n=f"{count or 0:,}", q=query)


def govservice_error_page(code: Any, content: Any) -> dict[str, str]:
    """The error page's heading and message. CKAN passes the status (a list
    [500] for an unhandled error) and the exception's description: Werkzeug's
    English default, or a message CKAN gave itself, which is kept."""
    from werkzeug.exceptions import default_exceptions
    status = (code[0] if isinstance(code, (list, tuple)) else code) or 500
    exception = default_exceptions.get(status)
    own = content and content != "Internal server error" and (
        exception is None or str(content) != exception.description)
    heading, message = ERROR_PAGES[status if status in ERROR_PAGES
                                   else 500 if status >= 500 else 400][govservice_lang()]
    return {"heading": f"{status} {heading}", "message": str(content) if own else message}


def govservice_time_limit(value: Any, unit: str | None) -> str:
    """"3 工作日" / "3 working days"; 0 is "即办" / "on the spot"; "" when not stated."""
    if absent(value):
        return ""
    if int(value) == 0:
        return govservice_word("on_the_spot")
    unit_label = schema.choice_label(schema.field("committed_limit_unit"),
                                     "working_days" if absent(unit) else unit,
                                     govservice_lang())
    return f"{value} {unit_label}"


def govservice_days(days: Any) -> str:
    if absent(days):
        return ""
    d = round(float(days), 1)
    return govservice_word("calendar_days", d=int(d) if d == int(d) else d)


def govservice_visits(n: Any) -> str:
    if absent(n):
        return ""
    n = int(n)
    return govservice_word("visits_0" if n == 0 else "visits_1" if n == 1 else "visits_n", n=n)


def govservice_money(amount: Any, currency: str | None = "CNY") -> str:
    if absent(amount):
        return ""
    if absent(currency):
        currency = "CNY"
    try:
        text = f"{float(amount):,.2f}"
    except (TypeError, ValueError):
        text = str(amount)
    if (currency or "CNY") == "CNY":
        return f"{text} 元" if govservice_lang() != "en" else f"CNY {text}"
    return f"{text} {currency}"


def govservice_percent(ratio: Any) -> str:
    if absent(ratio):
        return ""
    return f"{round(float(ratio) * 100)}%"


def govservice_safe_url(url: Any) -> str | None:
    """The URL when it is a web address; None for anything else (javascript:, data:…)."""
    if isinstance(url, str) and re.match(r"^https?://", url.strip(), re.IGNORECASE):
        return url.strip()
    return None


def govservice_is_true(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def govservice_department(org: dict[str, Any] | str | None) -> dict[str, str] | None:
    """{name, title} of a department in the page's language (title_en is a scheming extra)."""
    if not org:
        return None
    group = model.Group.get(org["id"] if isinstance(org, dict) else org)
    if group is None:
        return None
    title = group.title or group.name
    if govservice_lang() == "en":
        title = group.extras.get("title_en") or title
    return {"name": group.name, "title": title}


def govservice_facet_labeler(facet: str) -> Callable[[dict[str, Any]], str] | None:
    """How the search page names the values of a facet: vocabulary codes as
    words, 0/1 visits as "零跑动"/"最多跑一次", true/false as free/paid."""
    solr_to_field = {solr: name for name, solr in schema.facet_fields().items()}
    name = solr_to_field.get(facet)
    if name is None:
        return None
    if name == "owner_org":
        def department_title(item):
            dept = govservice_department(item.get("name"))
            return dept["title"] if dept else item.get("display_name")
        return department_title
    if name == "in_person_visits":
        return lambda item: govservice_visits(item["name"])
    if name == "is_free":
        return lambda item: govservice_word("free" if govservice_is_true(item["name"]) else "paid")
    f = schema.field(name)
    vocab = f if schema.choices(f) else schema.vocabulary_field(f)
    if vocab is None:
        return None
    return lambda item: schema.choice_label(vocab, item["name"], govservice_lang())


def govservice_service_sorting() -> list[tuple[str, str]]:
    """The search page's sort options: (label, Solr sort)."""
    return [
        (govservice_word("sort_relevance"), "score desc, metadata_modified desc"),
        (govservice_word("sort_committed"), "committed_days_f asc, title_string asc"),
        (govservice_word("sort_title"), "title_string asc"),
        (govservice_word("sort_modified"), "metadata_modified desc"),
    ]


def service_facets() -> "OrderedDict[str, str]":
    """{Solr field: title in the page's language} for the service search page."""
    solr = schema.facet_fields()
    return OrderedDict((solr[name], govservice_label(name)) for name in SERVICE_FACETS)


def govservice_jsonld(pkg: dict) -> Markup:
    """The service as schema.org GovernmentService JSON-LD, safe inside <script>:
    harvested text can never close the script element."""
    import json as _json
    from . import jsonld
    data = jsonld.service_jsonld(pkg, url=tk.url_for("service.read", id=pkg["name"], _external=True))
    text = _json.dumps(data, ensure_ascii=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


# ---------------------------------------------------------------- performance

def _kpi(name: str) -> dict[str, Any]:
    from . import statistics as stats
    for kpi in stats.kpi_definitions():
        if kpi["name"] == name:
            return kpi
    raise KeyError(name)


def govservice_kpi_label(name: str) -> str:
    """A KPI's label in the page's language, from kpis.yaml."""
    from . import statistics as stats
    return stats.label(_kpi(name), govservice_lang())


def govservice_kpi_definition(name: str) -> str:
    """How a KPI is computed, in the page's language, from kpis.yaml."""
    definition = _kpi(name).get("definition") or {}
    return definition.get(govservice_lang()) or definition.get("en") or ""


def govservice_kpi_value(name: str, value: Any) -> str:
    """A KPI's figure as a reader wants it: "75%", "4.1", "1,234"; "—" for no data."""
    if absent(value):
        return "—"
    unit = _kpi(name)["unit"]
    if unit == "ratio":
        return govservice_percent(value)
    if unit == "score":
        return f"{float(value):.1f}"
    return f"{round(float(value)):,}"


def govservice_kpi_change(name: str, change: Any) -> str:
    """A change on the previous period: ratios in percentage points, counts in units; "" when unknown."""
    if isinstance(change, bool) or not isinstance(change, (int, float)):
        return ""   # None, or no change given at all (a service's panel)
    unit = _kpi(name)["unit"]
    amount = float(change) * 100 if unit == "ratio" else float(change)
    amount = round(amount) if unit != "score" else round(amount, 1)
    if amount == 0:
        text = "±0"
    else:
        text = f"{'+' if amount > 0 else '−'}{abs(amount):,}"
    return govservice_word("change_points" if unit == "ratio" else "change_count", s=text)


def govservice_kpi_rank(figure: dict[str, Any] | None) -> str:
    if not figure or not figure.get("rank"):
        return ""
    return govservice_word("rank_of", r=figure["rank"], n=figure["of"])


def govservice_performance_trend(pkg: dict[str, Any]) -> dict[str, Any] | None:
    """The service's monthly volume, on-time rate and satisfaction (up to 36 months) as a chart, or None."""
    from . import performance_pages
    return performance_pages.service_trend(pkg, govservice_lang())


def govservice_chart_json(chart: dict[str, Any]) -> str:
    """The chart for a data-govservice-chart attribute (autoescaped there), with the
    axis words charts.js needs in the page's language."""
    import json as _json
    return _json.dumps({**chart, "lang": govservice_lang()}, ensure_ascii=False,
                       separators=(",", ":"))


def govservice_chart_summary(chart: dict[str, Any]) -> str:
    """The canvas's aria-label: what is drawn, over which months; the figures follow in a table."""
    series = govservice_word("list_sep").join(s["label"] for s in chart["series"])
    return govservice_word("chart_summary", series=series, f=chart["months"][0], t=chart["months"][-1])


def govservice_chart_cell(series: dict[str, Any], index: int) -> str:
    return govservice_kpi_value(series["kpi"], series["data"][index])


def govservice_department_title(entry: dict[str, Any]) -> str:
    """A league-table row's department title in the page's language."""
    title = entry.get("title") or {}
    return title.get(govservice_lang()) or title.get("zh_Hans_CN") or entry.get("department") or ""


def govservice_charts_available() -> bool:
    """Whether Chart.js is in assets/vendor (stack.sh install, or the image, copies it there
    from node_modules). Without it a page keeps its figures tables and draws no chart,
    rather than failing on the missing asset."""
    import os
    return os.path.exists(os.path.join(os.path.dirname(__file__), "assets", "vendor", "chart.umd.min.js"))


def govservice_home_browse() -> dict[str, Any]:
    """Themes and life events with their service counts, for the home page."""
    from . import home
    return home.browse_counts()


def govservice_home_kpis() -> dict[str, Any] | None:
    """The platform's headline KPIs (latest 12 months), or None without statistics."""
    from . import home
    return home.headline_kpis()
