"""Another CKAN's service datasets: paged through package_search of the test
site served over HTTP, harvested into a second department."""
from __future__ import annotations

import uuid

import pytest

from ckanext.govservice.tests import samples
from govharvest import ckan_reader, db, sources
from govharvest.compare import RECORD_ID
from govharvest.normalise import FIELDS, normalise

from test_pipeline import harvest, services_of


@pytest.fixture
def publishing_department(portal):
    """A second department on the test site, publishing services of its own."""
    return portal.action.organization_create(name=f"harvest-remote-{uuid.uuid4().hex[:8]}",
                                             title="远端发布局")


def publish(portal, department, i, **overrides):
    """Sample service ``i`` created on the portal in the department; its URL name is the portal's."""
    data = {k: v for k, v in samples.sent(i, owner_org=department["name"]).items() if k != "name"}
    return portal.action.package_create(**{**data, **overrides})


# ---------------------------------------------------------------- pure

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


# ---------------------------------------------------------------- the test site over HTTP

def test_a_remote_departments_services_are_harvested_page_by_page_and_then_unchanged(
        portal, harvest_db, department, publishing_department, monkeypatch):
    monkeypatch.setenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    monkeypatch.setattr(ckan_reader, "PAGE_ROWS", 2)       # 3 services: two pages
    remote = {i: publish(portal, publishing_department, i) for i in range(3)}
    with db.connect() as conn:
        sources.add(conn, name="province", department=department["name"], format="ckan",
                    location=f"{portal.address}/organization/{publishing_department['name']}")

    first = harvest(portal, "province")
    second = harvest(portal, "province")

    assert first["status"] == "done", first
    assert sorted(first["new"]) == [f"{publishing_department['name']}/SC-S00{i}" for i in range(3)]
    assert second["counts"]["unchanged"] == 3 and second["counts"]["new"] == 0
    here = services_of(portal, department)
    for i, theirs in remote.items():
        ours = here[theirs["service_code"]]
        assert ours["name"] == f"{department['name']}-sc-s00{i}"
        assert ours["source_record_id"] == f"{publishing_department['name']}/SC-S00{i}"
        for field in FIELDS:
            if field not in ("name", "owner_org"):
                assert ours.get(field) == theirs.get(field), (i, field)
    assert here["SC-S002"]["status"] == "withdrawn"          # as the remote says


def test_a_site_that_is_not_a_ckan_fails_the_harvest(harvest_db, department, feed_server):
    from govharvest import extract
    folder, url = feed_server
    (folder / "api" / "3" / "action").mkdir(parents=True)
    (folder / "api" / "3" / "action" / "package_search").write_text("<html>hello</html>")
    with pytest.raises(extract.ExtractError, match="not answer as a CKAN Action API"):
        ckan_reader.fetch(url)
