"""The service schema file is complete: both languages everywhere, vocabularies sound."""
import pytest

from ckanext.govservice.core import schema

FIELDS = schema.service_fields()


@pytest.mark.parametrize("field", FIELDS, ids=[f["field_name"] for f in FIELDS])
def test_every_field_has_a_label_and_help_in_both_languages(field):
    for key in ("label", "help_text"):
        assert set(field[key]) == {"zh_Hans_CN", "en"}, key
        assert all(field[key].values()), key


def test_every_choice_has_both_labels_and_values_are_unique():
    for field in FIELDS:
        for f in [field, *field.get("repeating_subfields", [])]:
            values = [c["value"] for c in schema.choices(f)]
            assert len(values) == len(set(values)), f["field_name"]
            for c in schema.choices(f):
                assert set(c["label"]) == {"zh_Hans_CN", "en"}, (f["field_name"], c["value"])


def test_every_field_has_a_distinct_bulk_file_column():
    columns = [f["govservice_column"] for f in FIELDS]
    assert len(columns) == len(set(columns))
    assert "service_code" in columns


def test_facet_fields_are_typed_by_their_kind():
    facets = schema.facet_fields()
    assert facets["themes"] == "themes_ss"
    assert facets["channels"] == "channel_types_ss"
    assert facets["in_person_visits"] == "in_person_visits_i"
    assert facets["committed_days"] == "committed_days_f"
    assert facets["is_free"] == "is_free_b"
    assert facets["owner_org"] == "organization"
