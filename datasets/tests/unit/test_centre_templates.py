"""The service centres' feed templates and format page (issue 17), generated from
service_centre.yaml by make_templates.py: they read back through the
harvesters' own readers as the example centre, whose hours the platform accepts."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from ckanext.govservice.core import centres
from govharvest import formats
from govharvest.catalogues import SERVICE_CENTRES
from govharvest.normalise import normalise

DATASETS = Path(__file__).resolve().parents[2]
TEMPLATES = DATASETS / "templates"
PAGE = DATASETS / "formats" / "service-centres.md"


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("make_templates_centres", DATASETS / "make_templates.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _codes(record: dict) -> dict:
    """Counters as CKAN stores them: each counter's codes a list, whether sent as a list or JSON text."""
    return {**record, "counters": [{**c, "implementation_codes": centres.counter_services(c)}
                                   for c in record.get("counters") or []]}


def test_the_json_example_reads_back_as_the_example_centre(gen):
    expected = normalise(gen.catalogue_feed_entry("service_centre"), catalogue=SERVICE_CENTRES)
    found = [normalise(raw, catalogue=SERVICE_CENTRES) for _where, raw in
             formats.read_json_feed(TEMPLATES / "service-centres-example.json", SERVICE_CENTRES.feed_key)]
    assert [_codes(r) for r in found] == [_codes(expected)]


def test_the_csv_template_reads_back_with_the_example_centres_counters(gen):
    found, = [normalise(raw, catalogue=SERVICE_CENTRES) for _where, raw in
              formats.read_csv(TEMPLATES / "service-centres-template.csv", "service_centre")]
    assert (found["centre_code"], centres.counter_codes(found["counters"]), found["accessibility"]) == (
        "330100-DT-REAL-ESTATE", ["11330100MB0000103Q2000100012", "11330100MB0000103Q2000100027"],
        ["accessible_toilet", "priority_window", "step_free_access"])


def test_the_example_centres_hours_are_in_the_platforms_form(gen):
    hours = gen.EXAMPLE_CENTRE["opening_hours"]
    assert centres.normalise_hours(hours) == hours


def test_the_format_page_names_every_column_a_publisher_sends(gen):
    page = PAGE.read_text(encoding="utf-8")
    assert [f["govservice_column"] for f in gen.catalogue_template_fields("service_centre")
            if f"`{f['govservice_column']}`" not in page] == []
