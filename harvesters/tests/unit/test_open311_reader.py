"""Open311 GeoReport v2 service lists: our own platform's list, JSON and XML,
read back; what Open311 lacks comes from the source's defaults or is rejected
by field (the test site's /open311/v2/services.json harvested over HTTP:
integration/test_open311_harvest.py)."""
from __future__ import annotations

import json

import pytest

from ckanext.govservice.core import open311
from ckanext.govservice.tests import samples
from govharvest import formats, open311_reader, pipeline

from feed_samples import DEFAULTS, our_list


def records(tmp_path, body: bytes, **source) -> list[tuple[str, str, dict | None, object]]:
    path = tmp_path / "services"
    path.write_bytes(body)
    source = {"format": "open311", "mapping": {}, "defaults": {}, **source}
    return list(pipeline._records(path, source))


def test_our_json_and_xml_lists_read_back_code_name_description_and_themes(tmp_path):
    as_json = json.dumps(our_list([0, 1]), ensure_ascii=False).encode("utf-8")
    as_xml = open311.to_xml("services", "service", our_list([0, 1]))
    from_json = records(tmp_path, as_json, defaults=DEFAULTS)
    assert records(tmp_path, as_xml, defaults=DEFAULTS) == from_json
    (where, record_id, record, error), _ = from_json
    sent = samples.sent(0)
    assert (where, record_id, error) == ("service 1", "SC-S000", None)
    assert record["title"] == sent["title"] and record["notes"] == sent["notes"]
    assert record["themes"] == sorted(sent["themes"])        # keywords are theme labels
    assert record["committed_limit"] == 0                     # realtime: decided on the spot
    assert from_json[1][2]["committed_limit"] == "5"          # batch: the source's default


def test_english_keywords_are_themes_and_other_keywords_are_left_out():
    themes = open311_reader.theme_names()
    entry = {"service_code": "X", "keywords": "Tax, pothole ,Business", "group": "Sanitation"}
    assert open311_reader.record(entry, themes) == {"service_code": "X", "themes": ["business", "tax"]}


def test_a_source_may_map_the_name_to_english(tmp_path):
    body = json.dumps(our_list([1], locale="en")).encode()
    [(_, _, record, _)] = records(tmp_path, body, defaults=DEFAULTS,
                                  mapping={"service_name": "title_en", "description": None})
    assert record["title_en"] == "Sample service 1" and "title" not in record and "notes" not in record


def test_what_the_list_lacks_and_the_source_does_not_default_is_rejected_by_field(tmp_path):
    body = json.dumps(our_list([1])).encode()
    [(where, record_id, record, error)] = records(
        tmp_path, body, defaults={k: v for k, v in DEFAULTS.items() if k != "audience"})
    assert (where, record_id, record) == ("service 1", "SC-S001", None)
    assert error.field == "audience"
    assert "the open311 feed does not carry it" in error.reason and "--default audience=" in error.reason


@pytest.mark.parametrize("body, reason", [
    (b'[{"code": 404, "description": "unknown jurisdiction_id"}]', "answered with an Open311 error"),
    (b'<?xml version="1.0"?><errors><error><code>404</code><description>gone</description></error></errors>',
     "Open311 error: gone"),
    (b"<html><body>Not found</body></html>", "not <services>"),
    (b'{"service_code": "A"}', "JSON list of services"),
    (b'<!DOCTYPE services [<!ENTITY x "y">]><services/>', "DOCTYPE"),
])
def test_a_body_that_is_not_a_service_list_fails_the_whole_harvest(tmp_path, body, reason):
    with pytest.raises(formats.FormatError, match=reason):
        records(tmp_path, body)
