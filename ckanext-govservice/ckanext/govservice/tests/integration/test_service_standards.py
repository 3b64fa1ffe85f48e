"""Service standards against real loaded statistics: which target applies, red/amber/green,
the "missed 3 months in a row" flag, the pages and the open dataset; bad standards refused."""
from __future__ import annotations

import csv
import io

import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import factories, helpers

from ckanext.govservice import standards

from .. import factories as gov
from ..pages import fetch
from .test_performance_pages import section, text_of
from .test_statistics import HEADER, load_csv

# On-time: SR-1 90%, 85%, 80%, 70% (Jan-Apr 2026); SR-2 90% in April; TX-1 50% in April.
MARKET = HEADER + """\
SR-1,2026-01,online,100,100,90,100,,,,,,,,,
SR-1,2026-02,online,100,100,85,100,,,,,,,,,
SR-1,2026-03,online,100,100,80,100,,,,,,,,,
SR-1,2026-04,online,100,100,70,100,,,,,,,,,
SR-2,2026-04,online,10,10,9,10,,,,,,,,,
"""
TAX = HEADER + "TX-1,2026-04,online,10,10,5,10,,,,,,,,,\n"
TARGETS = [{"kpi": "on_time_rate", "target": 0.95},
           {"kpi": "on_time_rate", "department": "market-regulation", "target": "80%"},
           {"kpi": "on_time_rate", "department": "market-regulation", "service": "SR-1", "target": 0.9,
            "wording": {"zh_Hans_CN": "九成按时办结", "en": "Nine in ten on time"}}]


@pytest.fixture
def figures(statistics_db, sysadmin, dept):
    gov.service(dept["id"], service_code="SR-1", name="sr-1", title="食品经营许可")
    gov.service(dept["id"], service_code="SR-2", name="sr-2")
    tax = gov.department(name="tax-bureau", title="滨江市税务局")
    gov.service(tax["id"], service_code="TX-1", name="tx-1")
    load_csv(sysadmin, "market-regulation", MARKET)
    load_csv(sysadmin, "tax-bureau", TAX)
    helpers.call_action("govservice_standards_set", context=dict(sysadmin), standards=TARGETS)
    return sysadmin


def kpis(**params):
    return helpers.call_action("govservice_kpis", context={"ignore_auth": False, "user": ""}, **params)


def on_time(answer, **keys):
    [match] = [r for r in answer["results"] if all(r.get(k) == v for k, v in keys.items())]
    return match["kpis"]["on_time_rate"]


def test_the_most_specific_target_applies_and_is_judged_red_amber_or_green(figures):
    april = dict(period_from="2026-04", period_to="2026-04")
    by_service = kpis(group_by="service", **april)
    assert on_time(by_service, service="SR-1")["standard"]["target"] == 0.9
    assert on_time(by_service, service="SR-1")["standard"]["wording"]["en"] == "Nine in ten on time"
    assert on_time(by_service, service="SR-2")["standard"]["target"] == 0.8
    assert on_time(by_service, service="TX-1")["standard"]["target"] == 0.95
    assert on_time(by_service, service="TX-1")["standard"]["scope"] == "platform"
    by_department = kpis(group_by="department", **april)
    assert on_time(by_department, department="market-regulation")["standard"]["target"] == 0.8
    assert on_time(by_department, department="tax-bureau")["standard"]["wording"] == {
        "zh_Hans_CN": "按时办结率不低于 95%", "en": "On-time rate at least 95%"}
    # no standard on digital take-up: no target, said plainly
    assert by_department["results"][0]["kpis"]["digital_take_up"]["standard"] is None
    # red, amber, green and met on known months
    months = kpis(service="SR-1", department="market-regulation", group_by="period",
                  period_from="2026-01", period_to="2026-04")
    judged = {r["period"]: r["kpis"]["on_time_rate"]["standard"] for r in months["results"]}
    assert [(p, j["met"], j["status"]) for p, j in sorted(judged.items())] == [
        ("2026-01", True, "green"),     # 90% against 90%
        ("2026-02", False, "amber"),    # 85%: 5 points short
        ("2026-03", False, "red"),      # 80%: 10 points short
        ("2026-04", False, "red")]
    assert on_time(kpis(group_by="service", period_from="2026-04", period_to="2026-04"),
                   service="SR-2")["standard"]["status"] == "green"     # 90% against 80%


def test_missed_three_months_in_a_row_is_flagged_in_the_api_the_service_page_and_the_dashboards(app, figures):
    months = kpis(service="SR-1", department="market-regulation", group_by="period",
                  period_from="2026-01", period_to="2026-04")
    runs = [(r["period"], r["kpis"]["on_time_rate"]["standard"]["missed_in_a_row"],
             r["kpis"]["on_time_rate"]["standard"]["flagged"]) for r in months["results"]]
    assert runs == [("2026-01", 0, False), ("2026-02", 1, False), ("2026-03", 2, False), ("2026-04", 3, True)]
    shown = helpers.call_action("package_show", id="sr-1")["performance"]["standards"]["on_time_rate"]
    assert (shown["target"], shown["met"], shown["status"], shown["missed_in_a_row"]) == (0.9, False, "red", 3)
    panel = text_of(section(fetch(app, "/service/sr-1"), "performance-panel"))
    assert "按时办结率 81% 目标 90% · 未达标（红） 连续 3 个月未达标" in panel    # 325 / 400
    english = text_of(section(fetch(app, "/en/service/sr-1"), "performance-panel"))
    assert "Target 90% · missed (red) Missed 3 months in a row" in english
    # the league table and both dashboards
    league = helpers.call_action("govservice_league_table", context={"user": ""},
                                 period_from="2026-01", period_to="2026-04")
    rows = {d["department"]: d["kpis"]["on_time_rate"] for d in league["departments"]}
    assert (rows["market-regulation"]["value"], rows["market-regulation"]["standard"]["status"]) == (0.814634, "green")    # 334 / 410
    assert rows["tax-bureau"]["standard"]["status"] == "red"
    assert rows["tax-bureau"]["standard"]["missed_in_a_row"] == 1
    platform = text_of(section(fetch(app, "/performance/"), "league-table"))
    assert "50% (2) 目标 95% · 未达标（红）" in platform
    department = fetch(app, "/performance/market-regulation")
    services = text_of(section(department, "services"))
    assert "70%" not in services and "81% 目标 90% · 未达标（红） 连续 3 个月未达标" in services
    assert "目标 80% · 达标（绿）" in text_of(section(department, "headline"))


def test_results_are_published_and_bad_standards_are_refused_changing_nothing(figures):
    answer = standards.publish()
    assert answer["rows"] == 6        # SR-1 x 4 months, SR-2 and TX-1 in April
    dataset = helpers.call_action("package_show", id="service-standards")
    assert dataset["organization"]["name"] == "govservice-platform" and not dataset["private"]
    results = helpers.call_action("govservice_standard_results", context={"user": ""},
                                  department="market-regulation", service="SR-1", period_to="2026-04", months=4)
    assert [(r["period"], r["value"], r["target"], r["met"], r["status"], r["missed_in_a_row"])
            for r in results["results"]] == [
        ("2026-01", 0.9, 0.9, "true", "green", 0), ("2026-02", 0.85, 0.9, "false", "amber", 1),
        ("2026-03", 0.8, 0.9, "false", "red", 2), ("2026-04", 0.7, 0.9, "false", "red", 3)]
    assert results["results"][0]["standard_en"] == "Nine in ten on time"
    # bad standards: refused naming record, field and reason; nothing changes
    before = helpers.call_action("govservice_standards", context={"user": ""})["standards"]
    with pytest.raises(tk.ValidationError) as refused:
        helpers.call_action("govservice_standards_set", context=dict(figures), standards=[
            {"kpi": "on_time_rate", "target": 0.5},                           # good, but not alone
            {"kpi": "on_time_rate", "department": "market-regulation", "target": 1.5},
            {"kpi": "punctuality", "department": "market-regulation", "target": 0.9},
            {"kpi": "satisfaction_rate", "department": "market-regulation", "service": "SR-404", "target": 0.9},
            {"kpi": "digital_take_up", "department": "tax-bureau", "target": 0.6, "period_from": "2026/04"}])
    assert refused.value.error_dict["standards"] == [
        {"record": "market-regulation/on_time_rate", "field": "target",
         "reason": "1.5 is outside the range of on_time_rate: a target must be between 0% and 100% (0 to 1, or a percentage)"},
        {"record": "market-regulation/punctuality", "field": "kpi",
         "reason": "'punctuality' is not a KPI; the KPIs are on_time_rate, digital_take_up, satisfaction_rate, "
                   "satisfaction_score, rectification_rate, volume, appointment_keep_rate, "
                   "served_within_30_minutes_share, mean_wait_minutes, time_limit_compression, zero_visit_share, "
                   "one_visit_share, fully_online_share"},
        {"record": "market-regulation/SR-404/satisfaction_rate", "field": "service",
         "reason": "market-regulation has no service with code 'SR-404'"},
        {"record": "tax-bureau/digital_take_up", "field": "period_from",
         "reason": "'2026/04' is not a month written as YYYY-MM"}]
    assert helpers.call_action("govservice_standards", context={"user": ""})["standards"] == before
    assert on_time(kpis(group_by="department", period_from="2026-04", period_to="2026-04"),
                   department="tax-bureau")["standard"]["target"] == 0.95


def test_a_department_sets_its_own_standards_but_not_the_platform_s_or_another_s(figures):
    editor = factories.User()
    helpers.call_action("organization_member_create", id="market-regulation", username=editor["name"],
                        role="editor")
    mine = {"user": editor["name"], "ignore_auth": False}
    helpers.call_action("govservice_standards_set", context=dict(mine), kpi="satisfaction_rate",
                        department="market-regulation", target=0.92)
    set_ = helpers.call_action("govservice_standards", context={"user": ""}, department="market-regulation")
    ours = [s for s in set_["standards"] if s["kpi"] == "satisfaction_rate"]
    assert [(s["scope"], s["target"], s["source"]) for s in ours] == [("department", 0.92, "department")]
    for other in ({"kpi": "satisfaction_rate", "target": 0.9},
                  {"kpi": "satisfaction_rate", "department": "tax-bureau", "target": 0.9}):
        with pytest.raises(tk.NotAuthorized):
            helpers.call_action("govservice_standards_set", context=dict(mine), **other)
