"""When the demo city's services become due (issue 17): the reminder rules a
department would declare (service.yaml's ``reminders``), from what a service is —
its life events, a renewal of an output that expires, an annual report. No
randomness: the rest of the city comes out the same."""
from __future__ import annotations

from typing import Any

# A service grouped under a life event falls due after (or before) that event.
LIFE_EVENT_RULES: dict[str, tuple[str, int, str, str, str, str]] = {
    "having_a_baby": ("birth", 1, "months", "after", "出生医学证明、父母身份证和户口簿",
                      "The birth certificate, the parents' ID cards and the household register"),
    "getting_married": ("marriage", 30, "days", "after", "结婚证、双方身份证",
                        "The marriage certificate and both ID cards"),
    "moving_house": ("moving_home", 30, "days", "after", "新住址的房产证明或租赁合同",
                     "Proof of the new address: title deed or tenancy agreement"),
    "retiring": ("retirement_age", 3, "months", "before", "身份证、社会保障卡",
                 "ID card and social security card"),
    "starting_a_business": ("business_start", 30, "days", "after", "营业执照",
                            "The business licence"),
    "closing_a_business": ("business_close", 30, "days", "after", "清算报告、营业执照",
                           "The liquidation report and the business licence"),
}
RENEWAL_WORDS = ("延续", "换证", "换发", "有效期满")
ANNUAL_REPORT_WORDS = ("年报", "年度报告")


def add(s: dict[str, Any]) -> None:
    """Give service ``s`` (as a department sends it) the reminders its kind calls for."""
    rows = []
    for event in s.get("life_events") or []:
        if event in LIFE_EVENT_RULES:
            trigger, offset, unit, direction, zh, en = LIFE_EVENT_RULES[event]
            rows.append({"trigger": trigger, "offset": offset, "offset_unit": unit, "direction": direction,
                         "prepare": zh, "prepare_en": en})
    title = s.get("title") or ""
    if s.get("output_validity") and any(w in title for w in RENEWAL_WORDS):
        rows.append({"trigger": "output_expiry", "offset": 90, "offset_unit": "days", "direction": "before",
                     "prepare": f"原{s.get('output_name') or '证照'}", "prepare_en": "The output about to expire"})
    if any(w in title for w in ANNUAL_REPORT_WORDS):
        rows.append({"trigger": "annual_report_date", "offset": 30, "offset_unit": "days", "direction": "before",
                     "prepare": "上一年度财务报表", "prepare_en": "Last year's accounts"})
    if rows:
        s["reminders"] = rows
