"""The whole platform's figures in the league table (the platform dashboard's
headline shows them): summed in the same reads as the departments' rows, and
equal to the platform's figures read on their own, as the dashboard read them
before, on real loaded statistics with standards and a department since removed."""
from __future__ import annotations

import pytest

from ckan.tests import helpers

from ckanext.govservice import standards, statistics_publish, statistics_store as store
from ckanext.govservice.core import kpis as stats

from .. import factories as gov
from ..pages import fetch
from .test_performance_pages import section, text_of
from .test_statistics import HEADER, load_csv

# On-time (platform): Jan 90/100, Feb 85/100, Mar (80 + 40)/140, Apr (70 + 9 + 5 + 38)/160.
MARKET = HEADER + """\
SR-1,2026-01,online,100,100,90,100,10,5,3,1,1,20,2,1,
SR-1,2026-02,online,100,100,85,100,,,,,,,,,
SR-1,2026-03,online,100,100,80,100,,,,,,,,,
SR-1,2026-04,online,100,100,70,100,20,0,0,0,0,20,0,0,
SR-2,2026-04,online,10,10,9,10,,,,,,,,,
"""
TAX = HEADER + "TX-1,2026-04,online,10,10,5,10,,,,,,,,,\n"
HOUSING = HEADER + """\
HS-1,2026-03,online,40,40,40,20,,,,,,,,,
HS-1,2026-04,online,40,40,38,20,1,0,0,0,1,2,1,1,
"""
WINDOW = {"period_from": "2026-03", "period_to": "2026-04"}


@pytest.fixture
def figures(statistics_db, sysadmin, dept):
    gov.service(dept["id"], service_code="SR-1", name="sr-1", committed_limit=7)
    gov.service(dept["id"], service_code="SR-2", name="sr-2", in_person_visits=0, themes=["business", "tax"])
    tax = gov.department(name="tax-bureau", title="滨江市税务局")
    gov.service(tax["id"], service_code="TX-1", name="tx-1", committed_limit=15, in_person_visits=2)
    housing = gov.department(name="housing-bureau", title="滨江市住房保障局")
    gov.service(housing["id"], service_code="HS-1", name="hs-1")
    load_csv(sysadmin, "market-regulation", MARKET)
    load_csv(sysadmin, "tax-bureau", TAX)
    load_csv(sysadmin, "housing-bureau", HOUSING)
    helpers.call_action("govservice_standards_set", context=dict(sysadmin), standards=[
        {"kpi": "on_time_rate", "target": 0.95}, {"kpi": "zero_visit_share", "target": 0.2},
        {"kpi": "on_time_rate", "department": "housing-bureau", "target": 0.9}])
    return sysadmin


def league(**window):
    return helpers.call_action("govservice_league_table", context={"user": ""}, **window)


def platform_read_on_its_own(table: dict) -> dict:
    """The platform's figures as the dashboard read them before: its own two KPI
    reports over every service (the window and the window before) and its
    monthly history."""
    def report(period_from, period_to, names):
        answer = statistics_publish.kpi_report({"group_by": [], "period_type": "month", "kpis": names,
                                                "period_from": period_from, "period_to": period_to})
        return answer["results"][0]["kpis"]
    now = report(table["period_from"], table["period_to"], stats.kpi_names())
    standards.add_runs(now, standards.monthly_values("platform", table["period_to"]).get((None, None)))
    before = report(table["previous_period_from"], table["previous_period_to"], stats.kpi_names("statistics"))
    for name, figure in now.items():
        figure["change_previous"] = stats.change(figure["value"], before.get(name, {}).get("value"))
    return now


def test_the_platform_s_figures_equal_the_platform_read_on_its_own(figures):
    for window in (WINDOW, {}):     # a chosen window, and the default (the latest 12 months)
        table = league(**window)
        assert table["platform"]["kpis"] == platform_read_on_its_own(table)


def test_the_platform_s_figures_add_up_every_department_s(figures):
    platform = league(**WINDOW)["platform"]["kpis"]
    assert platform["on_time_rate"]["numerator"] == 242 and platform["on_time_rate"]["denominator"] == 300
    assert platform["on_time_rate"]["value"] == 0.806667
    assert platform["on_time_rate"]["change_previous"] == -0.068333      # on 175 / 200 in Jan-Feb
    assert platform["volume"]["value"] == 300 and platform["volume"]["change_previous"] == 100
    # (0.5333 + 0.8 + 0 + 0.8) / 4: each service's compression is kept to four places
    assert platform["time_limit_compression"]["value"] == 0.533325
    assert platform["zero_visit_share"]["value"] == 0.25                # SR-2 of four services
    assert platform["zero_visit_share"]["change_previous"] is None      # no window before for the catalogue


def test_the_platform_s_figures_are_judged_against_the_platform_s_standard(figures):
    judged = league(**WINDOW)["platform"]["kpis"]["on_time_rate"]["standard"]
    assert (judged["scope"], judged["target"], judged["status"]) == ("platform", 0.95, "red")
    assert (judged["missed_in_a_row"], judged["flagged"]) == (4, True)   # every month, Jan to Apr
    assert league(**WINDOW)["platform"]["kpis"]["zero_visit_share"]["standard"]["status"] == "green"


def test_a_removed_department_leaves_the_table_but_still_counts_for_the_platform(figures):
    helpers.call_action("dataset_purge", context=dict(figures), id="hs-1")
    helpers.call_action("organization_delete", context=dict(figures), id="housing-bureau")
    table = league(**WINDOW)
    assert [d["department"] for d in table["departments"]] == ["market-regulation", "tax-bureau"]
    assert table["platform"]["kpis"]["volume"]["value"] == 300              # its 80 among them
    assert table["platform"]["kpis"] == platform_read_on_its_own(table)


def test_the_platform_dashboard_leads_with_the_platform_s_figures(app, figures):
    headline = text_of(section(fetch(app, "/performance/"), "headline"))   # the latest 12 months
    assert "按时办结率 83% 目标 95% · 未达标（红） 连续 4 个月未达标" in headline   # 417 / 500, Jan-Apr 2026
    assert "受理量 500" in headline
    assert "排名" not in headline and "较前期" not in headline   # no rank, no figures in the year before


def test_groups_that_do_not_split_the_rows_give_no_total(figures):
    with store.read_engine().connect() as conn, pytest.raises(ValueError) as e:
        store.kpi_sums(conn, "unused", group_by=["theme"], period_type="month", period_from="2026-01",
                       period_to="2026-04", with_total=True)
    assert str(e.value) == "the groups of theme do not add up to a total"
