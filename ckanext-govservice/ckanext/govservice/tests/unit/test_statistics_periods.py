"""Statistics: the months a reported period may fall in (the loader's rules on the
test site are in integration/test_statistics.py)."""


def test_the_months_a_period_is_checked_against_are_the_fifty_years_up_to_this_one():
    from ckanext.govservice.statistics_store import months_up_to
    months = months_up_to("2026-02")
    assert (len(months), months[0], months[-1]) == (600, "1976-03", "2026-02")
    assert months_up_to("2026-01", years=1)[:2] == ["2025-02", "2025-03"]
