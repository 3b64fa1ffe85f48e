"""A service's documents matched to the document catalogue (core/documents.py): no server."""
from __future__ import annotations

from ckanext.govservice.core import documents

ID_CARD = {"document_code": "D-ID", "title": "居民身份证", "aliases": '["身份证", "二代身份证"]',
           "government_holds": "electronic_licence"}
ARTICLES = {"document_code": "D-ART", "title": "公司章程", "aliases": [], "government_holds": "no"}
LEASE = {"document_code": "D-LEASE", "title": "房屋租赁合同", "aliases": ["租房合同"],
         "government_holds": "no"}
INDEX = documents.catalogue_index([ID_CARD, ARTICLES, LEASE])


def test_a_bracketed_remark_is_not_part_of_the_name():
    assert documents.normalise_name("居民身份证（复印件）") == "居民身份证"


def test_full_width_and_half_width_brackets_are_the_same():
    assert documents.normalise_name("营业执照(副本)") == documents.normalise_name("营业执照（副本）") == "营业执照"


def test_trailing_words_of_form_are_dropped():
    assert documents.normalise_name("身份证原件及复印件") == "身份证"


def test_spaces_inside_a_name_do_not_matter():
    assert documents.normalise_name(" 公司 章程\u3000") == "公司章程"


def test_full_width_latin_letters_are_lower_cased_half_width():
    assert documents.normalise_name("ＩＣＰ许可证") == "icp许可证"


def test_a_name_that_is_only_a_form_word_keeps_it():
    assert documents.normalise_name("原件") == "原件"


def test_a_document_is_matched_by_its_code_first():
    entry, how = documents.match({"code": "D-ART", "name": "身份证"}, INDEX)
    assert (entry["document_code"], how) == ("D-ART", "code")


def test_an_unknown_code_matches_nothing_whatever_the_name():
    assert documents.match({"code": "D-NONE", "name": "居民身份证"}, INDEX) == (None, None)


def test_a_document_is_matched_by_the_catalogue_title():
    entry, how = documents.match({"name": "公司章程（复印件）"}, INDEX)
    assert (entry["document_code"], how) == ("D-ART", "name")


def test_a_document_is_matched_by_an_alias_stored_as_json():
    entry, how = documents.match({"name": "身份证原件"}, INDEX)
    assert (entry["document_code"], how) == ("D-ID", "alias")


def test_an_alias_two_entries_share_matches_neither():
    index = documents.catalogue_index([
        {"document_code": "A", "title": "户口簿", "aliases": ["户口本"]},
        {"document_code": "B", "title": "居民户口簿", "aliases": ["户口本"]}])
    assert documents.match({"name": "户口本"}, index) == (None, None)


def test_unmatched_documents_are_listed_with_matched_by_none():
    found = documents.document_network([{"name": "无犯罪记录证明", "mandatory": True}], INDEX)
    assert found["documents"] == [{"index": 0, "code": None, "matched_by": None, "title": None,
                                   "government_holds": None, "must_bring": True}]


def test_a_document_the_government_holds_is_not_counted_as_to_bring():
    found = documents.document_network(
        [{"name": "身份证"}, {"name": "公司章程"}, {"name": "无犯罪记录证明"}], INDEX)
    assert (found["documents_demanded"], found["documents_to_bring"]) == (3, 2)


def test_documents_that_are_not_mandatory_are_not_counted():
    found = documents.document_network(
        [{"name": "公司章程", "mandatory": "false"}, {"name": "租房合同", "mandatory": False}], INDEX)
    assert (found["documents_demanded"], found["documents_to_bring"]) == (0, 0)


def test_a_service_without_documents_demands_none():
    assert documents.document_network(None, INDEX) == {
        "documents": [], "documents_demanded": 0, "documents_to_bring": 0}


def test_unmatched_names_are_gathered_across_spellings_most_listed_first():
    services = [
        {"name": "a", "documents": [{"name": "无犯罪记录证明"}, {"name": "身份证"}]},
        {"name": "b", "documents": [{"name": "无犯罪记录证明（原件）"}, {"name": "健康证明"}]},
        {"name": "c", "documents": [{"name": "无犯罪记录证明"}]},
    ]
    found = documents.unmatched(services, INDEX)
    assert [(r["name"], r["count"], [s["name"] for s in r["services"]]) for r in found] == [
        ("无犯罪记录证明", 3, ["a", "b", "c"]), ("健康证明", 1, ["b"])]
