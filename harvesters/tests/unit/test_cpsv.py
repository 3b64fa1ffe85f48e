"""CPSV-AP feeds: our own output reads back field by field, the specification's
example is rejected by field (a Turtle feed harvested over real HTTP is in
integration/test_cpsv_harvest.py)."""
from __future__ import annotations

import pytest

from ckanext.govservice.tests import samples
from govharvest import cpsv, formats
from govharvest.normalise import FIELDS, normalise

from feed_samples import BASE, EXAMPLE, REQUIRED_MISSING_FROM_EXAMPLE, our_feed


def read(tmp_path, text: str, name="feed") -> list[tuple[str, dict]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return [(where, normalise(raw)) for where, raw in formats.READERS["cpsv"](path)]


@pytest.mark.parametrize("fmt", ["turtle", "json-ld"])
def test_our_output_of_every_sample_service_reads_back_into_identical_fields(tmp_path, fmt):
    indexes = range(samples.count())
    records = read(tmp_path, our_feed(indexes, fmt))
    assert len(records) == samples.count()
    compared = 0
    for i, (where, record) in zip(indexes, records):
        expected = normalise(samples.sent(i))
        assert where == f"service {BASE}/id/service/market-regulation/{expected['service_code']}"
        for field in FIELDS:
            if field in ("owner_org", "name"):   # the source decides both
                continue
            assert record.get(field) == expected.get(field), (i, field)
            compared += 1
    assert compared == samples.count() * (len(FIELDS) - 2)


def test_the_feed_does_not_take_over_department_page_name_or_derived_fields(tmp_path):
    [(_, record)] = read(tmp_path, our_feed([1]))
    assert not {"department", "uri", "name", "owner_org", "processing_time"} & set(record)


def test_the_specifications_example_reads_what_it_has_and_lacks_the_required_fields(tmp_path):
    [(where, record)] = read(tmp_path, EXAMPLE.read_text(encoding="utf-8"))
    assert where == "service http://example.com/publicService1"
    assert record["service_code"] == "Tax-on-web"
    assert record["title_en"] == "Tax-on-web"
    assert record["contact_phone"] == "+32 257 25757"
    assert record["channels"] == [{"channel_type": "b37115f83e"}]   # a Europass channel type
    assert record["documents"] == [{"mandatory": True}]   # named only in French
    required = {f["field_name"] for f in FIELDS.values() if f.get("required")} - {"owner_org", "channels"}
    assert required - set(record) == REQUIRED_MISSING_FROM_EXAMPLE


@pytest.mark.parametrize("body, reason", [
    ("<!DOCTYPE html><html><body>Not found</body></html>", "looks like XML"),
    ("@prefix dct: <http://purl.org/dc/terms/> . <http://x> dct:title \"a dataset\" .", "no cpsv:PublicService"),
    ("<http://x> a <http://purl.org/vocab/cpsv#PublicService> ; broken", "not valid Turtle"),
    ('{"@context": "https://example.org/cpsv-ap.jsonld", "@type": "PublicService"}', "does not fetch"),
])
def test_a_body_that_is_not_a_cpsv_ap_feed_fails_the_whole_harvest(tmp_path, body, reason):
    with pytest.raises(formats.FormatError, match=reason):
        read(tmp_path, body)


def test_turtle_and_json_ld_are_told_apart_by_their_first_bytes():
    assert cpsv.detect(b"\xef\xbb\xbf  {\"@graph\": []}") == "json-ld"
    assert cpsv.detect(b"@prefix cv: <http://data.europa.eu/m8g/> .") == "turtle"
    assert cpsv.detect(b"<http://example.com/s> a <http://purl.org/vocab/cpsv#PublicService> .") == "turtle"
