"""Combining the services of a life event (一件事): pure arithmetic, no server."""
from ckanext.govservice import life_events


def service(name, documents=(), visits=1, committed=3, unit="working_days", **extra):
    return {"name": name, "title": name, "documents": list(documents), "in_person_visits": visits,
            "committed_limit": committed, "committed_limit_unit": unit, "status": "active", **extra}


def doc(name, mandatory=True, **extra):
    return {"name": name, "mandatory": mandatory, **extra}


def test_a_document_two_services_need_is_listed_once_with_both_services():
    combined = life_events.combine([
        service("licence", [doc("居民身份证"), doc("公司章程")]),
        service("food-permit", [doc("居民身份证"), doc("食品安全管理制度")]),
    ])
    assert [d["name"] for d in combined["documents"]] == ["居民身份证", "公司章程", "食品安全管理制度"]
    assert [s["name"] for s in combined["documents"][0]["services"]] == ["licence", "food-permit"]


def test_names_match_after_trimming_spaces():
    combined = life_events.combine([service("a", [doc("身份证 ")]), service("b", [doc(" 身份证")])])
    assert len(combined["documents"]) == 1


def test_a_document_is_mandatory_when_any_service_requires_it():
    combined = life_events.combine([
        service("a", [doc("租赁合同", mandatory=False)]),
        service("b", [doc("租赁合同", mandatory=True)]),
    ])
    assert combined["documents"][0]["mandatory"] is True


def test_optional_everywhere_stays_optional_even_as_the_string_false():
    combined = life_events.combine([service("a", [doc("委托书", mandatory="false")])])
    assert combined["documents"][0]["mandatory"] is False


def test_the_english_name_is_taken_from_whichever_service_gives_one():
    combined = life_events.combine([service("a", [doc("身份证")]),
                                    service("b", [doc("身份证", name_en="ID card")])])
    assert combined["documents"][0]["name_en"] == "ID card"


def test_visits_add_up():
    combined = life_events.combine([service("a", visits=1), service("b", visits=0),
                                    service("c", visits=2)])
    assert combined["total_visits"] == 3


def test_committed_time_adds_up_in_calendar_days_across_units():
    # 5 working days = 7 calendar days; 10 calendar days; 24 hours = 1 day.
    combined = life_events.combine([service("a", committed=5, unit="working_days"),
                                    service("b", committed=10, unit="calendar_days"),
                                    service("c", committed=24, unit="hours")])
    assert combined["total_committed_days"] == 18.0
    assert combined["longest_committed_days"] == 10.0
    assert combined["longest_service"]["name"] == "b"


def test_the_derived_committed_days_is_used_when_present():
    combined = life_events.combine([service("a", committed=3, committed_days=4.2)])
    assert combined["total_committed_days"] == 4.2


def test_an_on_the_spot_service_counts_zero_days_but_counts():
    combined = life_events.combine([service("a", committed=0)])
    assert combined["total_committed_days"] == 0
    assert combined["longest_committed_days"] == 0
    assert combined["services_counted"] == 1


def test_suspended_and_withdrawn_services_are_left_out_of_the_totals():
    combined = life_events.combine([
        service("a", [doc("身份证")], visits=1, committed=5),
        service("b", [doc("营业执照")], visits=2, committed=20, status="suspended"),
        service("c", [doc("章程")], visits=1, committed=10, status="withdrawn"),
    ])
    assert combined["total_visits"] == 1
    assert combined["total_committed_days"] == 7.0
    assert [d["name"] for d in combined["documents"]] == ["身份证"]
    assert [s["name"] for s in combined["left_out"]] == ["b", "c"]
    assert combined["services_counted"] == 1


def test_no_services_combine_to_nothing():
    combined = life_events.combine([])
    assert combined == {"documents": [], "documents_to_bring": 0, "documents_not_brought": 0,
                        "total_visits": 0, "total_committed_days": 0,
                        "longest_committed_days": None, "longest_service": None,
                        "services_counted": 0, "left_out": []}
