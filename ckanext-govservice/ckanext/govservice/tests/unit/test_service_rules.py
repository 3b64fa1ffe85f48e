"""The pure rules of a service record, without CKAN."""
import pytest

from ckanext.govservice.core import rules


@pytest.mark.parametrize("value, unit, expected", [
    (5, "working_days", "P7D"), (3, "working_days", "P5D"), (10, "calendar_days", "P10D"),
    (4, "hours", "PT4H"), (0, "working_days", "P0D")])
def test_iso_duration(value, unit, expected):
    assert rules.iso_duration(value, unit) == expected


def test_compression_compares_limits_in_calendar_days():
    assert rules.time_limit_compression(20, "working_days", 5, "working_days") == 0.75
    assert rules.time_limit_compression(20, "calendar_days", 5, "working_days") == 0.65
    assert rules.time_limit_compression(None, "working_days", 5, "working_days") is None
    assert rules.time_limit_compression(0, "working_days", 0, "working_days") is None


def test_a_committed_limit_longer_than_the_statutory_one_is_caught_across_units():
    assert rules.committed_exceeds_statutory(5, "working_days", 8, "calendar_days")
    assert not rules.committed_exceeds_statutory(5, "working_days", 7, "calendar_days")
    assert not rules.committed_exceeds_statutory(None, "working_days", 70, "calendar_days")


def test_free_when_no_fee_or_every_fee_is_zero():
    assert rules.is_free([])
    assert rules.is_free([{"amount": 0}, {"amount": "0.00"}])
    assert not rules.is_free([{"amount": 0}, {"amount": 12.5}])


def test_fully_online_needs_every_stage_and_no_visit():
    assert rules.fully_online(rules.ONLINE_STAGES, 0)
    assert not rules.fully_online(rules.ONLINE_STAGES, 1)
    assert not rules.fully_online(["application", "decision"], 0)


@pytest.mark.parametrize("value, reason", [
    ("-3", "must not be negative (got -3)"), ("abc", "must be an amount of money, not 'abc'"),
    ("1.234", "has more than two decimal places (got 1.234)"), ("NaN", "must be an amount of money, not 'NaN'")])
def test_bad_money_says_why(value, reason):
    with pytest.raises(ValueError) as e:
        rules.parse_money(value)
    assert str(e.value) == reason


def test_money_accepts_thousands_separators():
    assert rules.parse_money("1,200.50") == 1200.5


def test_channel_problems_name_the_channel_and_the_field():
    assert rules.channel_problems([
        {"channel_type": "online"}, {"channel_type": "in_person", "address": "x"},
        {"channel_type": "in_person"}]) == [
        (0, "url", "a channel of type online needs a web address (url)"),
        (2, "address", "a channel of type in_person needs an address")]
