"""Service standards' arithmetic (core.standards): which applies, met, red/amber/green,
months missed in a row, and what a bad standard is refused for."""
from __future__ import annotations

from ckanext.govservice.core import standards as rules

PLATFORM = {"kpi": "on_time_rate", "department": None, "service": None, "scope": "platform",
            "target": 0.95, "period_from": None, "wording": {"zh_Hans_CN": "p", "en": "p"}}
DEPARTMENT = {**PLATFORM, "department": "tax", "scope": "department", "target": 0.97}
SERVICE = {**PLATFORM, "department": "tax", "service": "TX-1", "scope": "service", "target": 0.9,
           "period_from": "2026-03"}
ALL = [PLATFORM, DEPARTMENT, SERVICE]


def test_the_service_standard_beats_the_department_s_which_beats_the_platform_s():
    assert rules.applicable(ALL, "on_time_rate", "tax", "TX-1", "2026-05")["target"] == 0.9
    assert rules.applicable(ALL, "on_time_rate", "tax", "TX-2", "2026-05")["target"] == 0.97
    assert rules.applicable(ALL, "on_time_rate", "health", "H-1", "2026-05")["target"] == 0.95
    assert rules.applicable(ALL, "on_time_rate")["target"] == 0.95
    assert rules.applicable(ALL, "satisfaction_rate", "tax", "TX-1") is None


def test_a_standard_applies_only_from_its_first_month():
    assert rules.applicable(ALL, "on_time_rate", "tax", "TX-1", "2026-02")["target"] == 0.97


def test_red_amber_green_on_a_rate_with_a_five_point_amber_margin():
    assert rules.status(0.95, 0.95, "higher", "ratio") == "green"
    assert rules.status(0.9312, 0.95, "higher", "ratio") == "amber"
    assert rules.status(0.90, 0.95, "higher", "ratio") == "amber"
    assert rules.status(0.8999, 0.95, "higher", "ratio") == "red"
    assert rules.status(None, 0.95, "higher", "ratio") is None
    assert rules.status(4.6, 4.5, "higher", "score") == "green"
    assert rules.status(4.3, 4.5, "higher", "score") == "amber"
    assert rules.status(4.2, 4.5, "higher", "score") == "red"


def test_missed_in_a_row_counts_back_from_the_latest_reported_month():
    months = [("2026-01", 0.96), ("2026-02", 0.93), ("2026-03", 0.91), ("2026-04", 0.94)]
    assert rules.missed_in_a_row(months, 0.95, "higher") == 3
    assert rules.missed_in_a_row(months + [("2026-05", 0.99)], 0.95, "higher") == 0
    # a month nobody reported ends the run; the months after it still count
    assert rules.missed_in_a_row([("2026-01", 0.9), ("2026-02", None), ("2026-03", 0.9)], 0.95, "higher") == 1
    assert rules.missed_in_a_row([("2026-01", 0.9), ("2026-03", 0.9)], 0.95, "higher") == 1
    assert rules.missed_in_a_row([], 0.95, "higher") == 0


def test_judge_flags_three_months_missed_in_a_row():
    judged = rules.judge(0.94, DEPARTMENT, [("2026-02", 0.96), ("2026-03", 0.95), ("2026-04", 0.94)])
    assert (judged["met"], judged["status"], judged["missed_in_a_row"], judged["flagged"]) == (False, "amber", 3, True)
    assert rules.judge(0.99, None) is None


def test_good_standards_are_cleaned_with_wording_made_when_none_is_sent():
    clean, errors = rules.check(
        [{"kpi": "on_time_rate", "target": "95%"},
         {"kpi": "satisfaction_rate", "department": "tax", "service": "TX-1", "target": 0.9,
          "period_from": "2026-01", "wording": {"en": "Nine in ten satisfied"}}],
        ["tax"], [("tax", "TX-1")])
    assert errors == []
    assert clean[0] == {"kpi": "on_time_rate", "department": None, "service": None, "scope": "platform",
                        "target": 0.95, "period_from": None,
                        "wording": {"zh_Hans_CN": "按时办结率不低于 95%", "en": "On-time rate at least 95%"}}
    assert clean[1]["scope"] == "service"
    assert clean[1]["wording"] == {"zh_Hans_CN": "满意率不低于 90%", "en": "Nine in ten satisfied"}


def test_bad_standards_are_refused_naming_record_field_and_reason():
    clean, errors = rules.check(
        [{"kpi": "on_time_rate", "department": "tax", "target": 1.2},
         {"kpi": "speed", "target": 0.5},
         {"kpi": "on_time_rate", "department": "tax", "service": "TX-9", "target": 0.9},
         {"kpi": "on_time_rate", "department": "nowhere", "target": 0.9},
         {"kpi": "digital_take_up", "target": 0.6, "period_from": "2026-13"},
         {"kpi": "volume", "target": 100},
         {"kpi": "satisfaction_score", "target": 6}],
        ["tax"], [("tax", "TX-1")])
    assert clean == []
    assert [(e["record"], e["field"]) for e in errors] == [
        ("tax/on_time_rate", "target"), ("platform/speed", "kpi"), ("tax/TX-9/on_time_rate", "service"),
        ("nowhere/on_time_rate", "department"), ("platform/digital_take_up", "period_from"),
        ("platform/volume", "kpi"), ("platform/satisfaction_score", "target")]
    assert errors[0]["reason"].startswith("1.2 is outside the range of on_time_rate: a target must be between 0% and 100%")
    assert errors[2]["reason"] == "tax has no service with code 'TX-9'"
    assert errors[4]["reason"] == "'2026-13' is not a month written as YYYY-MM"


def test_data_quality_checks_and_links_of_one_service():
    from ckanext.govservice.core import quality
    service = {"documents": [{"name": "身份证"}],
               "channels": [{"channel_type": "online", "url": "https://a.example.gov.cn/x"},
                            {"channel_type": "in_person", "address": "江南大道1号"}],
               "fees": [{"name": "工本费", "amount": 10, "basis": "价格文件"}],
               "legal_basis": [{"title": "条例", "url": "https://law.example.gov.cn/1"},
                               {"title": "办法", "url": "https://a.example.gov.cn/x"}]}
    assert quality.service_checks(service) == {"documents": True, "channel_addresses": False,   # no opening hours
                                               "fee_basis": True, "legal_basis": True}
    assert quality.links(service) == [("channels", "https://a.example.gov.cn/x"),
                                      ("legal_basis", "https://law.example.gov.cn/1")]
    assert quality.department_score([])["score"] is None
