"""When a service becomes due: core/due.py's calendar arithmetic, rule rows and events."""
from __future__ import annotations

import datetime as dt

import pytest

from ckanext.govservice.core import due

D = dt.date


def licence(**reminder):
    return {"name": "driving-licence-renewal", "title": "机动车驾驶证换证", "basic_code": "BI-DL",
            "output_name": "机动车驾驶证", "output_validity": 6, "output_validity_unit": "years",
            "reminders": [{"trigger": "output_expiry", "offset": 90, "offset_unit": "days",
                           "direction": "before", **reminder}]}


def test_a_licence_issued_on_2_march_2021_valid_6_years_is_due_90_days_before_2_march_2027():
    rules = due.rule_rows([licence()])
    [found] = due.due(rules, [{"output": "BI-DL", "issued": D(2021, 3, 2)}], today=D(2026, 11, 29))
    assert found["trigger_date"] == "2027-03-02"
    assert found["due_date"] == "2026-12-02"
    assert found["days_left"] == 3


def test_an_overdue_renewal_has_negative_days_left():
    rules = due.rule_rows([licence()])
    [found] = due.due(rules, [{"output": "driving-licence-renewal", "issued": D(2020, 1, 10)}],
                      today=D(2026, 11, 29))
    assert (found["due_date"], found["days_left"]) == ("2025-10-12", -413)


def test_a_month_later_than_31_january_is_the_last_day_of_february():
    assert due.shift(D(2026, 1, 31), 1, "months") == D(2026, 2, 28)
    assert due.shift(D(2028, 1, 31), 1, "months") == D(2028, 2, 29)


def test_a_year_after_29_february_is_28_february():
    assert due.shift(D(2024, 2, 29), 1, "years") == D(2025, 2, 28)
    assert due.shift(D(2024, 2, 29), 4, "years") == D(2028, 2, 29)


def test_months_before_cross_the_year_back():
    assert due.due_date(D(2027, 1, 15), 3, "months", "before") == D(2026, 10, 15)


def test_a_life_event_rule_falls_due_after_the_event():
    service = {"name": "birth-registration", "reminders": [
        {"trigger": "birth", "offset": 1, "offset_unit": "months", "direction": "after",
         "prepare": "出生医学证明"}]}
    [found] = due.due(due.rule_rows([service]), [{"event": "birth", "date": D(2026, 11, 1)}],
                      today=D(2026, 11, 1))
    assert (found["due_date"], found["days_left"], found["prepare"]) == ("2026-12-01", 30, "出生医学证明")


def test_a_renewal_of_another_services_output_takes_that_outputs_validity():
    issuing = {"name": "passport", "basic_code": "BI-PP", "output_name": "护照",
               "output_validity": 10, "output_validity_unit": "years"}
    renewal = {"name": "passport-renewal", "reminders": [
        {"trigger": "output_expiry", "offset": 6, "offset_unit": "months", "renews_basic_code": "BI-PP"}]}
    [rule] = due.rule_rows([issuing, renewal])
    assert (rule["service"], rule["renews"], rule["output_validity"]) == ("passport-renewal", "BI-PP", 10)
    [found] = due.due([rule], [{"output": "BI-PP", "issued": D(2017, 8, 31)}], today=D(2026, 11, 29))
    assert found["due_date"] == "2027-02-28"


def test_an_expiry_rule_whose_output_has_no_validity_on_the_platform_is_left_out():
    renewal = {"name": "r", "reminders": [{"trigger": "output_expiry", "renews_basic_code": "BI-NONE"}]}
    assert due.rule_rows([renewal]) == []


def test_an_expiry_reminder_on_a_service_whose_output_has_no_validity_and_renews_nothing_is_refused():
    [(index, field, reason)] = due.reminder_problems([{"trigger": "output_expiry"}], None)
    assert (index, field) == (0, "trigger")
    assert "output_validity" in reason and "renews_basic_code" in reason


def test_a_life_event_reminder_cannot_renew_an_output():
    [(index, field, _)] = due.reminder_problems(
        [{"trigger": "birth"}, {"trigger": "marriage", "renews_basic_code": "BI-X"}], 5)
    assert (index, field) == (1, "renews_basic_code")


@pytest.mark.parametrize("event, field", [
    ({"event": "birth", "date": "2026-02-30"}, "events[0].date"),
    ({"event": "birth", "date": "01/11/2026"}, "events[0].date"),
    ({"event": "hatching", "date": "2026-01-01"}, "events[0].event"),
    ({"output": "BI-DL", "issued": "2027-01-01"}, "events[0].issued"),
    ({"output": "BI-DL", "issued": "2025-13-01"}, "events[0].issued"),
    ({"date": "2026-01-01"}, "events[0]"),
])
def test_an_impossible_event_names_its_field(event, field):
    with pytest.raises(due.EventError) as caught:
        due.read_events([event], today=D(2026, 11, 29))
    assert caught.value.field == field


def test_no_events_is_refused_naming_events():
    with pytest.raises(due.EventError) as caught:
        due.read_events([], today=D(2026, 11, 29))
    assert caught.value.field == "events"


def test_the_triggers_are_the_schemas_and_include_the_life_event_kinds():
    assert due.triggers()[0] == "output_expiry"
    assert {"birth", "marriage", "moving_home", "retirement_age", "business_start",
            "business_close", "annual_report_date"} <= set(due.life_event_triggers())


# ---------------------------------------------------------------- the rules rendered (pure)

def test_a_reminders_timing_reads_in_both_languages():
    rule = {"trigger": "output_expiry", "offset": 90, "offset_unit": "days", "direction": "before"}
    assert due.when(rule, "zh_Hans_CN") == "证照到期前90日"
    assert due.when(rule, "en") == "90 days before an output expires"
    assert due.when({"trigger": "birth", "offset": 1, "offset_unit": "months", "direction": "after"},
                    "en") == "1 month after a birth"


def test_reminders_are_in_cpsv_ap_and_read_back():
    from ckanext.govservice.core import cpsv
    from .. import samples
    from .test_cpsv_mapping import BASE, assert_conforms
    service = samples.as_shown(0)
    g = cpsv.services_to_graph([(service, samples.DEPARTMENT)], BASE)
    assert_conforms(g)
    [back] = cpsv.services_from_cpsv(g)
    assert back["reminders"] == service["reminders"]


def test_reminders_are_schema_org_actions():
    from ckanext.govservice.core import schemaorg
    from .. import samples
    doc = schemaorg.service_jsonld(samples.as_shown(0))
    assert doc["potentialAction"][0] == {"@type": "Action", "name": "证照到期当天",
                                         "alternateName": "on the day: an output expires",
                                         "description": "原证照"}
