"""The performance pages: the service page's panel, a department's and the platform's
dashboards, drawn from real loaded statistics (the rows of test_kpis)."""
from __future__ import annotations

import html
import json
import re

import pytest

from .. import factories as gov
from .test_kpis import MARKET, TAX
from .test_statistics import load_csv
from ..pages import fetch


@pytest.fixture
def figures(statistics_db, sysadmin, dept):
    """market-regulation: SR-1 reports 2025-01, 2025-12 and 2026-01 (nothing between),
    SR-2 completes nothing; tax-bureau: TX-1 in 2026-01; SR-0 never reports."""
    gov.service(dept["id"], service_code="SR-1", name="sr-1", title="食品经营许可", themes=["business"])
    gov.service(dept["id"], service_code="SR-2", name="sr-2", themes=["business", "tax"],
                in_person_visits=0)
    tax = gov.department(name="tax-bureau", title="滨江市税务局", title_en="Binjiang Tax Bureau")
    gov.service(tax["id"], service_code="TX-1", name="tx-1", themes=["tax"], in_person_visits=2,
                committed_limit=15)
    gov.service(dept["id"], service_code="SR-0", name="sr-0", title="从未报送的事项")
    load_csv(sysadmin, "market-regulation", MARKET)
    load_csv(sysadmin, "tax-bureau", TAX)
    return sysadmin


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def table_rows(fragment: str) -> list[list[str]]:
    """The body rows of the (first) table in an HTML fragment, each cell as text."""
    return [[text_of(cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", fragment.split("<tbody>")[1], re.S)]


def chart_and_table(page: str, figure_id: str) -> tuple[dict, list[list[str]]]:
    """The chart's JSON from its canvas, and the rows of the table under it as text."""
    figure = re.search(rf'<figure[^>]*id="{figure_id}".*?</figure>', page, re.S).group(0)
    chart = json.loads(html.unescape(re.search(r'data-govservice-chart="([^"]*)"', figure).group(1)))
    return chart, table_rows(figure)


def section(page: str, section_id: str) -> str:
    return re.search(rf'<section[^>]*id="{section_id}".*?</section>', page, re.S).group(0)


def test_the_service_panel_shows_twelve_months_and_a_trend_whose_table_matches_the_chart(app, figures):
    page = fetch(app, "/service/sr-1")
    panel = text_of(section(page, "performance-panel"))
    assert "最近 12 个月：2025-12 至 2026-01" in panel
    assert "按时办结率 83%" in panel                       # (100 + 150) / (100 + 200)
    assert "受理量 310" in panel
    assert "在承诺时限内办结的件数 ÷ 办结件数" in panel      # the KPI's definition as help text
    chart, rows = chart_and_table(page, "service-trend")
    assert chart["months"][0] == "2025-01" and chart["months"][-1] == "2026-01" and len(chart["months"]) == 13
    series = {s["kpi"]: s["data"] for s in chart["series"]}
    assert list(series) == ["volume", "on_time_rate", "satisfaction_rate"]
    assert series["volume"][0] == 160 and series["on_time_rate"][-1] == 0.75
    assert series["volume"][1:11] == [None] * 10          # no report Feb-Nov 2025: gaps, not 0
    assert rows[0] == ["2025-01", "160", "93%", "90%"]
    assert rows[1] == ["2025-02", "— 无数据", "— 无数据", "— 无数据"]
    assert rows[-1] == ["2026-01", "210", "75%", "100%"]
    assert [row[0] for row in rows] == chart["months"]


def test_a_service_without_statistics_says_so(app, figures):
    panel = text_of(section(fetch(app, "/service/sr-0"), "performance-panel"))
    assert "该事项尚未报送办理统计，暂无绩效数据。" in panel
    assert "data-govservice-chart" not in panel


def test_the_department_dashboard_has_changes_ranks_trend_and_services_by_on_time_rate(app, figures):
    page = fetch(app, "/performance/market-regulation")
    headline = text_of(section(page, "headline"))
    assert "按时办结率 83% 较前期 −10 个百分点 排名第 1（共 2 个部门）" in headline   # 250/300 vs 140/150
    assert "零跑动事项占比 33%" in headline                 # SR-2 of SR-0, SR-1, SR-2
    chart, rows = chart_and_table(page, "department-trend")
    assert chart["months"][-1] == "2026-01" and rows[-1] == ["2026-01", "210", "75%", "100%"]
    assert chart["series"][0]["data"][chart["months"].index("2025-06")] is None
    assert table_rows(section(page, "services")) == [
        ["食品经营许可", "83%", "77%", "100%", "310"],
        ["企业营业执照核发", "—", "—", "—", "0"],          # SR-2: completed nothing, received nothing
        ["从未报送的事项", "—", "—", "—", "—"]]
    assert 'href="/performance/market-regulation"' in fetch(app, "/organization/market-regulation")


@pytest.mark.parametrize("page, rows, position", [
    ("1", [["食品经营许可", "83%", "77%", "100%", "310"], ["企业营业执照核发", "—", "—", "—", "0"]], "第 1–2 项，共 3 项事项"),
    ("2", [["从未报送的事项", "—", "—", "—", "—"]], "第 3–3 项，共 3 项事项"),
    ("99", [["从未报送的事项", "—", "—", "—", "—"]], "第 3–3 项，共 3 项事项"),     # past the last: the last
    ("abc", [["食品经营许可", "83%", "77%", "100%", "310"], ["企业营业执照核发", "—", "—", "—", "0"]],
     "第 1–2 项，共 3 项事项"),                                                   # not a number: the first
], ids=["first", "second", "past-the-last", "not-a-number"])
def test_a_department_lists_its_services_a_page_at_a_time(app, figures, monkeypatch, page, rows, position):
    from ... import performance_pages
    monkeypatch.setattr(performance_pages, "SERVICES_PER_PAGE", 2)
    listed = section(fetch(app, f"/performance/market-regulation?page={page}"), "services")
    assert table_rows(listed) == rows
    assert position in text_of(listed)
    on_first = rows[0][0] == "食品经营许可"
    assert ('href="/performance/market-regulation?page=2#services"' in listed) is on_first
    assert ('href="/performance/market-regulation?page=1#services"' in listed) is not on_first


def test_a_department_whose_services_fit_one_page_shows_no_pager(app, figures):
    listed = section(fetch(app, "/performance/market-regulation"), "services")
    assert "govservice-pager" not in listed and "共 3 项事项" not in listed


def test_the_platform_dashboard_ranks_departments_and_names_who_fell_most(app, figures):
    page = fetch(app, "/performance/")
    league = text_of(section(page, "league-table"))
    assert league.index("滨江市市场监督管理局") < league.index("滨江市税务局")
    assert "1 滨江市市场监督管理局 83% (1)" in league and "2 滨江市税务局 50% (2)" in league
    fell = {kpi: text_of(body) for kpi, body in re.findall(
        r'data-kpi="(\w+)">(.*?)</div>', section(page, "fell-most"), re.S)}
    assert "滨江市市场监督管理局 83% 较前期 −10 个百分点" in fell["on_time_rate"]
    assert "税务局" not in fell["on_time_rate"]                # no previous window to fall from
    assert "没有部门下降。" in fell["satisfaction_rate"]        # 90% → 100%
    assert 'href="/performance/"' in page                   # the main navigation


def test_english_dashboards_use_the_kpi_definitions_english_labels(app, figures):
    text = text_of(fetch(app, "/en/performance/tax-bureau"))
    assert "Performance of Binjiang Tax Bureau" in text
    assert "On-time rate 50%" in text and "ranked 2 of 2 departments" in text
    assert "Show the chart's figures" in text and "按时办结率" not in text
    assert "Latest 12 months: 2025-12 to 2026-01" in text_of(fetch(app, "/en/service/sr-1"))


def test_an_unknown_department_is_not_found(app, figures):
    app.get("/performance/no-such-bureau", status=404)


def test_chart_js_comes_from_our_own_server(app, figures):
    page = fetch(app, "/performance/")
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', page)
    charts = [src for src in scripts if src.endswith("_charts.js")]
    assert len(charts) == 1 and charts[0].startswith("/"), scripts
    assert not re.search(r'(src|href)="(https?:)?//', page.split("<body")[1].split("</footer>")[-1])
    assert "Chart.js v4.5.1" in fetch(app, charts[0])
