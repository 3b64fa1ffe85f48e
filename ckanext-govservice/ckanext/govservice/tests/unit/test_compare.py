"""The same item compared (core/compare.py): planted differences against the
standard and the best implementer, and the standardisation score."""
from ckanext.govservice.core import compare

ITEM = {"basic_code": "B001", "statutory_limit": 20, "statutory_limit_unit": "working_days",
        "standard_limit": 3, "standard_limit_unit": "working_days", "standard_visits": 1,
        "standard_documents": [{"code": "D-ID", "name": "居民身份证", "mandatory": True},
                               {"code": "D-AOA", "name": "公司章程", "mandatory": True}]}


def implementation(name, who_zh, who_en, documents=("D-ID", "D-AOA"), limit=3, unit="working_days",
                   visits=1, **more):
    docs = [{"code": code, "name": (code or "营业场所证明"), "mandatory": True} for code in documents]
    return {"name": name, "who": {"zh_Hans_CN": who_zh, "en": who_en}, "documents": docs,
            "documents_to_bring": len(docs), "committed_limit": limit, "committed_limit_unit": unit,
            "in_person_visits": visits, "is_free": True, "online_depth": ["registration", "application"],
            "channel_types": ["online", "in_person"], **more}


CITY = implementation("city", "滨江市", "Binjiang City")
LINJIANG = implementation("linjiang", "临江区", "Linjiang", documents=("D-ID", "D-AOA", "D-LEASE", None))
DONGCHENG = implementation("dongcheng", "东城区", "Dongcheng", limit=10)


def differences(result, name, against=None):
    impl = next(i for i in result["implementations"] if i["name"] == name)
    return [d for d in impl["differences"] if against is None or d["against"] == against]


def test_an_implementation_keeping_to_the_standard_and_the_best_has_no_differences():
    result = compare.compare(ITEM, [CITY, LINJIANG, DONGCHENG])
    assert differences(result, "city") == []


def test_two_more_documents_than_the_others_is_said_in_both_languages():
    result = compare.compare(ITEM, [CITY, LINJIANG, DONGCHENG])
    [best] = [d for d in differences(result, "linjiang", "best") if d["field"] == "documents"]
    assert best["text"] == {"en": "Linjiang asks citizens to bring 2 more documents than the others",
                            "zh_Hans_CN": "临江区比其他实施部门多要求提交 2 份材料"}


def test_documents_outside_the_standard_are_named_an_unmatched_one_among_them():
    result = compare.compare(ITEM, [CITY, LINJIANG, DONGCHENG])
    [standard] = differences(result, "linjiang", "standard")
    assert standard["field"] == "documents"
    assert standard["text"]["en"] == "Linjiang asks for 2 documents outside the standard: D-LEASE, 营业场所证明"


def test_a_longer_committed_limit_is_compared_with_the_standard_and_with_the_others():
    result = compare.compare(ITEM, [CITY, LINJIANG, DONGCHENG])
    texts = [d["text"]["en"] for d in differences(result, "dongcheng")]
    assert texts == ["Dongcheng commits 10 working days where the standard is 3 working days",
                     "Dongcheng commits 10 working days where others commit 3 working days"]
    assert differences(result, "dongcheng")[1]["text"]["zh_Hans_CN"] == "东城区承诺 10 工作日，其他实施部门承诺 3 工作日"


def test_the_best_is_named_when_the_others_differ_among_themselves():
    slow = implementation("xishan", "西山区", "Xishan", limit=5)
    result = compare.compare({}, [CITY, slow, DONGCHENG])
    [best] = differences(result, "dongcheng", "best")
    assert best["text"]["en"] == "Dongcheng commits 10 working days where Binjiang City commits 3 working days"


def test_one_more_document_is_said_in_the_singular():
    one_more = implementation("linjiang", "临江区", "Linjiang", documents=("D-ID", "D-AOA", "D-LEASE"))
    result = compare.compare(ITEM, [CITY, one_more])
    assert [d["text"]["en"] for d in differences(result, "linjiang")] == [
        "Linjiang asks for 1 document outside the standard: D-LEASE",
        "Linjiang asks citizens to bring 1 more document than the others"]
    assert differences(result, "linjiang")[1]["text"]["zh_Hans_CN"] == "临江区比其他实施部门多要求提交 1 份材料"


def test_limits_in_different_units_compare_in_calendar_days():
    # 5 calendar days is less than 5 working days (7 calendar days)
    calendar = implementation("city", "滨江市", "Binjiang City", limit=5, unit="calendar_days")
    working = implementation("dongcheng", "东城区", "Dongcheng", limit=5)
    result = compare.compare({"standard_limit": 5, "standard_limit_unit": "calendar_days"}, [calendar, working])
    assert [i["matches_standard"]["limit"] for i in result["implementations"]] == [True, False]
    assert result["best"]["committed_limit"] == {"value": 5.0, "names": ["city"]}


def test_without_a_standard_limit_the_statutory_limit_is_the_standard():
    item = {"statutory_limit": 5, "statutory_limit_unit": "working_days"}
    assert compare.standard_limit(item) == (5, "working_days")
    assert compare.matches_standard(DONGCHENG, item)["limit"] is False
    assert compare.matches_standard(CITY, item)["limit"] is True


def test_more_visits_than_the_standard_do_not_match():
    twice = implementation("linjiang", "临江区", "Linjiang", visits=2)
    result = compare.compare(ITEM, [CITY, twice])
    assert result["implementations"][1]["matches_standard"] == {"documents": True, "limit": True, "visits": False}
    assert [d["text"]["zh_Hans_CN"] for d in differences(result, "linjiang")] == [
        "临江区最多跑 2 次，标准为最多跑一次", "临江区最多跑 2 次，其他实施部门最多跑一次"]


def test_a_fee_where_the_others_are_free_is_a_difference():
    paid = implementation("linjiang", "临江区", "Linjiang", is_free=False)
    result = compare.compare(ITEM, [CITY, paid])
    assert [d["text"]["en"] for d in differences(result, "linjiang")] == [
        "Linjiang charges a fee where others are free"]


def test_a_channel_every_other_implementation_offers_is_missed():
    no_online = implementation("linjiang", "临江区", "Linjiang", channel_types=["in_person"])
    result = compare.compare(ITEM, [CITY, DONGCHENG, no_online])
    assert [d["text"]["en"] for d in differences(result, "linjiang")] == [
        "Linjiang offers no Online channel where others do"]


def test_fewer_online_stages_than_the_best():
    deep = implementation("city", "滨江市", "Binjiang City",
                          online_depth=["registration", "authentication", "application", "decision"])
    result = compare.compare(ITEM, [deep, DONGCHENG])
    assert "Dongcheng offers 2 of 6 stages online where others offer 4" in [
        d["text"]["en"] for d in differences(result, "dongcheng")]


def test_an_implementation_stating_nothing_renders_and_matches_only_what_the_standard_leaves_open():
    bare = {"name": "bare", "who": {"zh_Hans_CN": "某部门", "en": "Some department"}}
    result = compare.compare(ITEM, [bare, CITY])
    impl = result["implementations"][0]
    assert impl["matches_standard"] == {"documents": True, "limit": False, "visits": False}
    assert [d["field"] for d in impl["differences"] if d["against"] == "standard"] == [
        "committed_limit", "in_person_visits"]


def test_a_basic_item_without_a_standard_is_matched_by_every_implementation():
    assert compare.matches_standard(LINJIANG, {}) == {"documents": True, "limit": True, "visits": True}


def test_one_implementation_has_no_best_to_be_compared_with():
    result = compare.compare(ITEM, [DONGCHENG])
    assert [d["against"] for d in result["implementations"][0]["differences"]] == ["standard"]


def test_the_standardisation_score_is_the_share_matching_on_all_three():
    matched = [("district", {"documents": True, "limit": True, "visits": True}),
               ("district", {"documents": True, "limit": True, "visits": True}),
               ("district", {"documents": False, "limit": True, "visits": True}),
               ("city", {"documents": True, "limit": True, "visits": True})]
    assert compare.standardisation(matched) == {
        "district": {"score": 0.667, "matching": 2, "implementations": 3},
        "city": {"score": 1.0, "matching": 1, "implementations": 1}}
