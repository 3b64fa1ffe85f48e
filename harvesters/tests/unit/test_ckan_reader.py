"""Another CKAN's service datasets: where its pages are, how the next page is asked
for, what a remote dataset keeps (harvested from the test site served over HTTP
into a second department: integration/test_ckan_harvest.py)."""
from __future__ import annotations

import pytest

from ckanext.govservice.tests import samples
from govharvest import ckan_reader
from govharvest.compare import RECORD_ID
from govharvest.normalise import normalise


@pytest.mark.parametrize("location, expected", [
    ("https://data.example.gov.cn", ("https://data.example.gov.cn", None)),
    ("https://data.example.gov.cn/portal/", ("https://data.example.gov.cn/portal", None)),
    ("https://data.example.gov.cn/organization/tax-bureau", ("https://data.example.gov.cn", "tax-bureau")),
])
def test_the_location_is_a_site_or_one_of_its_organisation_pages(location, expected):
    assert ckan_reader.site_and_organization(location) == expected


def test_pages_after_the_first_continue_from_the_last_name_seen():
    url = ckan_reader.search_url("https://d.example", "tax", "tax-sc-0100", 100)
    assert "fq=dataset_type%3Aservice+AND+organization%3A%22tax%22+AND+name%3A%7B%22tax-sc-0100%22+TO+%2A%5D" in url
    assert "sort=name+asc" in url and "rows=100" in url


def test_a_remote_dataset_keeps_its_fields_but_not_its_name_organisation_or_derived_values():
    shown = {**samples.as_shown(1), "committed_days": 3.0, "is_free": False,
             "source": "their-feed", "content_hash": "abc"}
    record = ckan_reader.record(shown)
    assert record[RECORD_ID] == "market-regulation/SC-S001"
    assert normalise(record) == {k: v for k, v in normalise(samples.sent(1)).items() if k != "name"}
