"""Another CKAN's service datasets: paged through package_search of the test
site served over HTTP, harvested into a second department (the reader's pure
parts: unit/test_ckan_reader.py)."""
from __future__ import annotations

import uuid

import pytest

from ckanext.govservice.tests import samples
from govharvest import ckan_reader, db, sources
from govharvest.normalise import FIELDS

from test_pipeline import harvest, services_of


@pytest.fixture
def publishing_department(portal, sample_catalogue):
    """A second department on the test site, publishing services of its own."""
    return portal.action.organization_create(name=f"harvest-remote-{uuid.uuid4().hex[:8]}",
                                             title="远端发布局")


def publish(portal, department, i, **overrides):
    """Sample service ``i`` created on the portal in the department; its URL name is the portal's.
    Without its implementation code: that is unique on the whole platform, and the
    harvest copies the service into this same test site."""
    data = {k: v for k, v in samples.sent(i, owner_org=department["name"]).items()
            if k not in ("name", "implementation_code")}
    return portal.action.package_create(**{**data, **overrides})


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
