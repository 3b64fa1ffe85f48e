"""CPSV-AP feeds: a Turtle feed harvests over real HTTP into the test site, the
specification's example rejected by field (the reader alone: unit/test_cpsv.py)."""
from __future__ import annotations

from rdflib import Graph

from ckanext.govservice.core import cpsv as rdf
from ckanext.govservice.tests import samples
from govharvest import db, sources
from govharvest.normalise import normalise
from test_pipeline import harvest

from feed_samples import EXAMPLE, REQUIRED_MISSING_FROM_EXAMPLE, our_feed


def test_a_turtle_feed_is_harvested_and_the_example_rejected_by_field(portal, harvest_db, department, feed_server,
                                                                    sample_catalogue):
    folder, url = feed_server
    # two services of another GovService platform, and the specification's example
    (folder / "services.ttl").write_text(our_feed([0, 1], implementation_prefix=department["name"]) + "\n"
                                         + EXAMPLE.read_text(encoding="utf-8"),
                                         encoding="utf-8")
    assert len(list(Graph().parse(folder / "services.ttl").subjects(None, rdf.CPSV.PublicService))) == 3
    with db.connect() as conn:
        sources.add(conn, name="cpsv-feed", department=department["name"], format="cpsv",
                    location=f"{url}/services.ttl")

    report = harvest(portal, "cpsv-feed")

    assert report["status"] == "done", report
    assert report["counts"] == {"new": 2, "changed": 0, "unchanged": 0, "withdrawn": 0, "rejected": 1, "held": 0}
    [rejected] = report["rejected"]
    assert rejected["record"] == "Tax-on-web"
    assert REQUIRED_MISSING_FROM_EXAMPLE <= set(rejected["errors"]), rejected
    assert rejected["errors"]["title"][0].startswith("service http://example.com/publicService1: ")
    published = {d["service_code"]: d for d in portal.action.package_search(
        fq=f"owner_org:{department['id']} AND dataset_type:service", rows=10)["results"]}
    assert sorted(published) == ["SC-S000", "SC-S001"]
    service, sent = published["SC-S001"], normalise(samples.sent(1))
    for field in ("title_en", "documents", "channels", "fees", "legal_basis", "committed_limit", "themes"):
        assert normalise({"service_code": "x", field: service[field]})[field] == sent[field], field
    assert service["name"] == f"{department['name']}-sc-s001"   # ours, not the other platform's
    assert service["implementation_code"] == f"{department['name']}-330100-SC-S001"
    assert service["basic_code"] == samples.BASIC_CODE

    assert harvest(portal, "cpsv-feed")["counts"]["unchanged"] == 2   # the same RDF, the same records
