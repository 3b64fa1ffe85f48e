"""Change detection: hashes, field-by-field diffs, new/changed/unchanged/missing."""
from govharvest.compare import (Comparison, FieldChange, compare, content_hash, duplicates,
                                field_changes, withdrawal_needs_confirmation)


def test_the_hash_ignores_key_order():
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})


def test_a_one_field_change_is_reported_as_exactly_that_field():
    old = {"title": "企业营业执照核发", "committed_limit": 5, "themes": ["business"]}
    new = {"title": "企业营业执照核发", "committed_limit": 3, "themes": ["business"]}
    assert field_changes(old, new) == [FieldChange("committed_limit", 5, 3)]


def test_an_empty_value_and_an_absent_field_are_the_same():
    assert field_changes({"fees": []}, {"fees": None, "notes": ""}) == []


def test_records_are_sorted_into_new_changed_unchanged_and_missing():
    result = compare(previous={"a": "1", "b": "2", "c": "3"}, current={"a": "1", "b": "9", "d": "4"})
    assert result == Comparison(new=["d"], changed=["b"], unchanged=["a"], missing=["c"])


def test_withdrawing_more_than_the_threshold_needs_a_person():
    assert withdrawal_needs_confirmation(Comparison(unchanged=["a"] * 7, missing=["x", "y", "z"]))
    assert not withdrawal_needs_confirmation(Comparison(unchanged=["a"] * 8, missing=["x", "y"]))
    assert not withdrawal_needs_confirmation(Comparison(new=["a"]))


def test_duplicate_source_ids_are_found():
    assert duplicates(["a", "b", "a", "c", "b"]) == ["a", "b"]


def test_a_record_seen_but_unreadable_is_not_missing():
    result = compare(previous={"a": "1", "b": "2"}, current={"a": "1"}, unreadable={"b"})
    assert result == Comparison(unchanged=["a"])
