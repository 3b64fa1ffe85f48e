"""Documents a citizen must still bring, the reduction rate (材料减免率) and its
monthly series, and a life event's documents combined by catalogue code: pure
arithmetic, no server."""
from ckanext.govservice import life_events
from ckanext.govservice.core import reuse


def test_the_reduction_rate_is_the_share_of_demanded_documents_not_brought():
    assert reuse.reduction_rate(8, 6) == 0.25


def test_nothing_demanded_has_no_reduction_rate():
    assert reuse.reduction_rate(0, 0) is None


def test_a_departments_burden_gives_the_mean_still_brought_per_service():
    assert reuse.burden(4, 10, 6) == {"services": 4, "documents_demanded": 10, "documents_to_bring": 6,
                                      "documents_not_brought": 4, "mean_to_bring": 1.5,
                                      "reduction_rate": 0.4}


def test_a_department_without_services_has_no_mean():
    assert reuse.burden(0, 0, 0)["mean_to_bring"] is None


def test_the_monthly_series_takes_each_months_last_snapshot():
    series = reuse.monthly_series([
        {"department": "a", "day": "2026-09-01", "services": 2, "documents_demanded": 10, "documents_to_bring": 10},
        {"department": "a", "day": "2026-09-30", "services": 2, "documents_demanded": 10, "documents_to_bring": 8},
        {"department": "a", "day": "2026-10-15", "services": 2, "documents_demanded": 10, "documents_to_bring": 5},
    ])
    assert [(p["month"], p["day"], p["reduction_rate"], p["change"]) for p in series] == [
        ("2026-09", "2026-09-30", 0.2, None), ("2026-10", "2026-10-15", 0.5, 0.3)]


def test_the_platform_series_sums_the_departments_of_the_same_day():
    series = reuse.monthly_series([
        {"department": "a", "day": "2026-10-31", "services": 1, "documents_demanded": 4, "documents_to_bring": 4},
        {"department": "b", "day": "2026-10-31", "services": 3, "documents_demanded": 6, "documents_to_bring": 1},
    ])
    assert (series[0]["services"], series[0]["documents_demanded"], series[0]["documents_to_bring"],
            series[0]["reduction_rate"]) == (4, 10, 5, 0.5)


def test_the_trend_is_the_rates_change_from_first_to_last_month():
    assert reuse.trend([{"reduction_rate": 0.2}, {"reduction_rate": None}, {"reduction_rate": 0.35}]) == 0.15


def _service(name, documents, network=None):
    return {"name": name, "title": name, "status": "active", "documents": documents,
            "in_person_visits": 1, "committed_limit": 1, "committed_limit_unit": "working_days",
            **({"network": network} if network else {})}


def test_a_life_event_combines_documents_of_one_code_named_differently():
    combined = life_events.combine([
        _service("birth-registration", [{"name": "居民身份证", "code": "D-ID"}]),
        _service("hukou", [{"name": "身份证"}], network={"documents": [
            {"index": 0, "code": "D-ID", "matched_by": "alias", "government_holds": "no"}]}),
    ], catalogue={"D-ID": {"title": "居民身份证", "title_en": "Resident ID card", "government_holds": "no"}})
    assert [(d["code"], d["name"], [s["name"] for s in d["services"]]) for d in combined["documents"]] == [
        ("D-ID", "居民身份证", ["birth-registration", "hukou"])]


def test_a_life_event_does_not_count_documents_the_government_holds():
    combined = life_events.combine([
        _service("a", [{"name": "户口簿", "code": "D-HK"}, {"name": "出生医学证明", "code": "D-BC"}]),
    ], catalogue={"D-HK": {"title": "户口簿", "government_holds": "shared_data"},
                  "D-BC": {"title": "出生医学证明", "government_holds": "no"}})
    assert (combined["documents_to_bring"], combined["documents_not_brought"]) == (1, 1)
    assert [d["must_bring"] for d in combined["documents"]] == [False, True]


def test_a_life_event_falls_back_to_the_name_for_unmatched_documents():
    combined = life_events.combine([
        _service("a", [{"name": "租赁合同"}], network={"documents": [{"index": 0, "code": None}]}),
        _service("b", [{"name": "租赁合同"}]),
    ])
    assert [(d["code"], d["name"], len(d["services"])) for d in combined["documents"]] == [(None, "租赁合同", 2)]


def test_the_codes_a_life_event_needs_come_from_the_documents_and_the_network():
    assert life_events.document_codes([
        _service("a", [{"name": "x", "code": "D-1"}, {"name": "y"}],
                 network={"documents": [{"index": 1, "code": "D-2"}]}),
        _service("b", [{"name": "x", "code": "D-1"}]),
    ]) == ["D-1", "D-2"]
