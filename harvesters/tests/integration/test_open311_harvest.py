"""Open311 GeoReport v2 service lists: the test site's own
/open311/v2/services.json harvested over HTTP into another department (reading
a list: unit/test_open311_reader.py)."""
from __future__ import annotations

from ckanext.govservice.tests import samples
from govharvest import db, sources

from feed_samples import DEFAULTS
from test_ckan_harvest import publish, publishing_department  # noqa: F401  (a fixture)
from test_pipeline import harvest, services_of


def test_the_portals_own_open311_list_is_harvested_into_another_department(
        portal, harvest_db, department, publishing_department, monkeypatch):
    monkeypatch.setenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    publish(portal, publishing_department, 0)                    # realtime (committed 0)
    publish(portal, publishing_department, 1, status="active")   # batch (committed 1)
    publish(portal, publishing_department, 2)                    # withdrawn: not listed
    with db.connect() as conn:
        sources.add(conn, name="open311", department=department["name"], format="open311",
                    location=f"{portal.address}/open311/v2/services.json"
                             f"?jurisdiction_id={publishing_department['name']}",
                    defaults=DEFAULTS)

    report = harvest(portal, "open311")

    assert report["status"] == "done" and report["new"] == ["SC-S000", "SC-S001"], report
    here = services_of(portal, department)
    assert here["SC-S000"]["title"] == "样例事项0" and here["SC-S000"]["committed_limit"] == 0
    assert here["SC-S001"]["committed_limit"] == 5 and here["SC-S001"]["audience"] == "both"
    assert sorted(here["SC-S001"]["themes"]) == sorted(samples.sent(1)["themes"])
    assert harvest(portal, "open311")["counts"]["unchanged"] == 2
