"""A service centre's opening hours (core/centres.py): read strictly, written back
in one form, and asked "open now" at a local time."""
import datetime as dt

import pytest

from ckanext.govservice.core import centres

WEEKDAY_WITH_LUNCH = "Mo-Fr 08:30-12:00,13:30-17:00; Sa 09:00-12:00"
# 2026-11-23 is a Monday
MONDAY = dt.date(2026, 11, 23)


def at(day_offset: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(MONDAY + dt.timedelta(days=day_offset), dt.time(hour, minute))


def test_open_in_the_morning_of_a_weekday():
    assert centres.open_at(WEEKDAY_WITH_LUNCH, at(0, 9)) is True


def test_closed_over_the_lunch_break():
    assert centres.open_at(WEEKDAY_WITH_LUNCH, at(2, 12, 30)) is False


def test_closes_at_the_closing_minute():
    week = centres.parse_hours(WEEKDAY_WITH_LUNCH)
    assert (centres.is_open(week, at(4, 16, 59)), centres.is_open(week, at(4, 17, 0))) == (True, False)


def test_saturday_morning_only_and_sunday_closed():
    assert [centres.open_at(WEEKDAY_WITH_LUNCH, at(d, h)) for d, h in ((5, 10), (5, 14), (6, 10))] == \
        [True, False, False]


def test_a_range_past_midnight_counts_on_the_next_day():
    assert [centres.open_at("Fr 20:00-02:00", at(4, 23, 59)), centres.open_at("Fr 20:00-02:00", at(5, 1, 30)),
            centres.open_at("Fr 20:00-02:00", at(5, 2, 0))] == [True, True, False]


def test_a_sunday_night_range_wraps_to_monday():
    assert centres.open_at("Su 22:00-06:00", at(0, 5, 59)) is True


def test_midnight_opens_a_day_that_starts_at_midnight():
    assert (centres.open_at("Tu 00:00-08:00", at(1, 0, 0)), centres.open_at("Tu 00:00-08:00", at(0, 23, 59))) == \
        (True, False)


def test_24_7_is_open_at_any_minute():
    week = centres.parse_hours("24/7")
    assert all(centres.is_open(week, at(d, h, m)) for d in range(7) for h in (0, 12, 23) for m in (0, 59))


def test_every_day_midnight_to_midnight_is_24_hours():
    assert centres.normalise_hours("Mo-Su 00:00-24:00") == "24/7"


def test_a_centre_closed_one_night_is_not_24_hours():
    assert centres.open_all_day("Mo-Sa 00:00-24:00; Su 00:00-23:00") is False


def test_unreadable_hours_are_never_24_hours():
    assert centres.open_all_day("always") is False


def test_a_later_rule_replaces_the_days_it_names():
    assert centres.normalise_hours("Mo-Fr 09:00-17:00; We off") == "Mo-Tu,Th-Fr 09:00-17:00"


def test_hours_are_written_back_grouped_by_day():
    assert centres.normalise_hours("sa 09:00-12:00; mo-fr 8:30-12:00,13:30-17:00") == WEEKDAY_WITH_LUNCH


def test_hours_table_lists_every_day_with_its_ranges():
    table = centres.hours_table(WEEKDAY_WITH_LUNCH)
    assert (table[0], table[5], table[6]) == (
        {"day": "Mo", "ranges": ["08:30-12:00", "13:30-17:00"]}, {"day": "Sa", "ranges": ["09:00-12:00"]},
        {"day": "Su", "ranges": []})


@pytest.mark.parametrize("text, reason", [
    ("Mo-Fr 9-17", "'9' is not a time written HH:MM"),
    ("Xx 09:00-17:00", "'Xx' is not a day"),
    ("Mo-Fr", "name the days and then the hours"),
    ("Fr-Mo 09:00-10:00", "the range Fr-Mo runs backwards"),
    ("Mo 09:00-12:00,11:00-13:00", "its time ranges overlap"),
    ("Mo 25:00-26:00", "'25:00' is not a time of day"),
    ("Mo 24:00-08:00", "'24:00' is not a time of day"),
    ("Mo 09:00", "'09:00' is not a time range"),
    ("", "no opening hours given"),
])
def test_bad_hours_are_refused_naming_the_part(text, reason):
    with pytest.raises(centres.HoursError, match=reason.replace("(", r"\(")):
        centres.parse_hours(text)


def test_counter_codes_are_read_from_lists_and_text_once_each():
    counters = [{"implementation_codes": ["B2", "A1"]}, {"implementation_codes": "A1; C3，D4"}, {"name": "咨询"}]
    assert centres.counter_codes(counters) == ["A1", "B2", "C3", "D4"]


def test_coordinates_out_of_range_are_named():
    assert centres.check_coordinates("91", 120.1) == {"latitude": "must be between -90 and 90 degrees (got 91)"}


def test_one_coordinate_alone_asks_for_the_other():
    assert list(centres.check_coordinates(30.2, None)) == ["longitude"]


def test_no_coordinates_are_fine():
    assert centres.check_coordinates(None, "") == {}


def test_schema_org_gives_one_opening_hours_specification_per_day_and_range():
    found = centres.schema_org({"centre_code": "H1", "title": "大厅", "opening_hours": "Mo 08:30-12:00,13:30-17:00"},
                               "https://example.gov.cn/centre/H1")
    assert [(s["dayOfWeek"], s["opens"], s["closes"]) for s in found["openingHoursSpecification"]] == [
        ("https://schema.org/Monday", "08:30", "12:00"), ("https://schema.org/Monday", "13:30", "17:00")]


def test_schema_org_of_a_centre_with_nothing_optional_has_no_hours_or_place():
    found = centres.schema_org({"centre_code": "H1", "title": "大厅"}, "https://example.gov.cn/centre/H1")
    assert (found["@type"], "openingHoursSpecification" in found, "geo" in found) == ("GovernmentOffice", False, False)


def test_the_map_puts_the_centre_in_the_middle_tile():
    tiles = centres.map_tiles(30.2741, 120.1551, zoom=16)
    assert (tiles["rows"][1][1], len(tiles["rows"]), 33.3 < tiles["left"] < 66.7, 33.3 < tiles["top"] < 66.7) == (
        {"z": 16, "x": 54641, "y": 26980}, 3, True, True)


def test_no_map_without_coordinates():
    assert centres.map_tiles(None, "") is None
