"""Services as CPSV-AP 3.2 from ckanext-dcat's endpoints on the test site: every
output validates against the official SHACL shapes (the mapping itself is in
unit/test_cpsv_mapping.py)."""
from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS as DCT, FOAF, RDF, RDFS, SKOS

from ckan.tests import helpers

from ckanext.govservice.core import cpsv as rdf

from .. import factories as gov
from .. import pages, samples
from ..unit.test_cpsv_mapping import BASE, DCAT_DATASET, FORMATS, assert_conforms

# ---------------------------------------------------------------- on the stack: ckanext-dcat's endpoints

@pytest.fixture
def published(clean_db, clean_index):
    sysadmin = {"user": gov.factories.Sysadmin()["name"]}
    dept = gov.department(name="market-regulation", title_en="Binjiang Market Regulation Bureau",
                          area="滨江市", area_code="330100", department_code="11330100MB0000000X")
    for entry in samples.catalogue(dept["id"]):   # the basic item and documents the samples name
        helpers.call_action("package_create", context=dict(sysadmin), **entry)
    services = [helpers.call_action("package_create", context=dict(sysadmin),
                                    **samples.sent(i, dept["id"]))
                for i in range(samples.count())]
    # the catalogue also holds ordinary DCAT datasets: a department's bulk
    # catalogue (bilingual title) and a plain one with a landing page
    gov.factories.Dataset(owner_org=dept["id"], name="market-regulation-service-catalogue",
                          title="滨江市市场监督管理局 政务服务事项目录 / Binjiang Market Regulation Bureau service catalogue",
                          notes="全部公开政务服务事项。", extras=[{"key": "govservice_catalogue", "value": "department"}])
    gov.factories.Dataset(owner_org=dept["id"], name="plain-dataset", title="Plain dataset",
                          notes="A plain dataset", url="https://data.example.gov.cn/plain")
    return dept, services


def fetch(app, url: str, fmt: str) -> Graph:
    response = app.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return Graph().parse(data=response.get_data(as_text=True), format=FORMATS[fmt])


@pytest.mark.usefixtures("with_request_context")
class TestEndpoints:
    # One stack fixture per test is the cost here (seven services and two datasets),
    # so each test walks every format rather than being parametrised by it.
    def test_each_service_is_valid_cpsv_ap_in_every_format_at_both_its_addresses(self, app, published):
        _, services = published
        for fmt in ("ttl", "rdf", "jsonld"):
            for service in services:
                g = fetch(app, f"/dataset/{service['name']}.{fmt}", fmt)
                assert_conforms(g)
                [read] = rdf.services_from_cpsv(g)
                assert read["service_code"] == service["service_code"]
                assert read["department"]["title_en"] == "Binjiang Market Regulation Bureau"
                assert not set(g.subjects(RDF.type, DCAT_DATASET))   # a service, not a dataset
            g = fetch(app, f"/service/{services[0]['name']}.{'xml' if fmt == 'rdf' else fmt}", fmt)
            assert_conforms(g)
            assert rdf.services_from_cpsv(g)[0]["title"] == services[0]["title"]

    def test_the_whole_catalogue_with_datasets_and_services_is_valid_cpsv_ap(self, app, published):
        _, services = published
        for fmt in ("ttl", "rdf", "jsonld"):
            g = fetch(app, f"/catalog.{fmt}", fmt)
            assert_conforms(g)
            codes = [s["service_code"] for s in rdf.services_from_cpsv(g)]
            assert codes == sorted(s["service_code"] for s in services)
            datasets = set(g.subjects(RDF.type, DCAT_DATASET))
            assert len(datasets) == 2
            catalogue = URIRef(f"{BASE}/dataset/market-regulation-service-catalogue")
            assert catalogue in datasets
            assert len(set(g.objects(catalogue, DCT.hasPart))) == len(services)
            # the network's catalogues: listed, described, never as datasets
            root = URIRef(BASE)
            entries = set(g.objects(root, DCAT.resource)) - set(g.subjects(RDF.type, rdf.CPSV.PublicService))
            assert entries == {URIRef(f"{BASE}/id/item/BI-S001"), URIRef(f"{BASE}/id/document/DOC-S-ID"),
                               URIRef(f"{BASE}/id/document/DOC-S-LEASE")}
            assert set(g.objects(catalogue, DCT.title)) == {Literal(
                "滨江市市场监督管理局 政务服务事项目录 / Binjiang Market Regulation Bureau service catalogue", lang="zh")}
            publisher = g.value(catalogue, DCT.publisher)
            assert (publisher, RDF.type, FOAF.Agent) in g
            assert g.value(publisher, DCT.identifier) == Literal("11330100MB0000000X")

    @pytest.mark.ckan_config("ckanext.dcat.datasets_per_page", "2")
    def test_the_catalogue_is_paged_and_every_page_is_valid_on_its_own(self, app, published):
        n = samples.count()
        query = "/catalog.ttl?fq=dataset_type:service&page="
        pages = [rdf.services_from_cpsv(fetch(app, f"{query}{page}", "ttl"))
                 for page in range(1, (n + 1) // 2 + 1)]
        assert [len(p) for p in pages] == [2] * (n // 2) + [1] * (n % 2)
        codes = sorted(s["service_code"] for page in pages for s in page)
        assert codes == sorted(s["service_code"] for s in published[1])
        g = fetch(app, f"{query}1", "ttl")
        hydra = URIRef("http://www.w3.org/ns/hydra/core#totalItems")
        assert int(next(g.objects(None, hydra))) == n
        # the whole catalogue: a catalogue dataset and the services it has as parts
        # may fall on different pages
        items = n + 2 + len(samples.catalogue(""))
        for page in range(1, (items + 1) // 2 + 1):
            assert_conforms(fetch(app, f"/catalog.ttl?page={page}", "ttl"))

    def test_other_datasets_are_still_dcat_ap(self, app, published):
        dataset = helpers.call_action("package_show", id="plain-dataset")
        g = fetch(app, f"/dataset/{dataset['name']}.ttl", "ttl")
        ref = URIRef(f"{BASE}/dataset/{dataset['id']}")
        assert (ref, RDF.type, DCAT_DATASET) in g
        assert g.value(ref, DCT.title) == Literal("Plain dataset", lang="en")
        assert not set(g.subjects(RDF.type, rdf.CPSV.PublicService))
        assert_conforms(g)

    def test_the_uri_is_stable_and_the_same_in_rdf_json_ld_and_open311(self, app, published):
        service = published[1][0]  # active: Open311 lists it
        uri = f"{BASE}/id/service/market-regulation/{service['service_code']}"
        g = fetch(app, f"/service/{service['name']}.ttl", "ttl")
        assert set(g.subjects(RDF.type, rdf.CPSV.PublicService)) == {URIRef(uri)}
        # an edit (as a re-harvest makes) keeps the URI
        helpers.call_action("package_patch", context={"user": gov.factories.Sysadmin()["name"]},
                            id=service["id"], notes_en="Changed.")
        g = fetch(app, f"/dataset/{service['id']}.ttl", "ttl")
        assert set(g.subjects(RDF.type, rdf.CPSV.PublicService)) == {URIRef(uri)}
        page = pages.fetch(app, f"/service/{service['name']}")
        assert f'"@id": "{uri}"' in page
        # Open311 names the service by the same two parts
        listed = pages.fetch_json(app, "/open311/v2/services.json?jurisdiction_id=market-regulation")
        assert service["service_code"] in {s["service_code"] for s in listed}
        # and the URI answers: the page for a browser, RDF for an RDF client
        resolved = app.get(uri.replace(BASE, ""), follow_redirects=False)
        assert resolved.status_code == 303 and resolved.location.endswith(f"/service/{service['name']}")
        resolved = app.get(uri.replace(BASE, ""), headers={"Accept": "text/turtle"}, follow_redirects=False)
        assert resolved.location.endswith(f"/service/{service['name']}.ttl")

    def test_the_platform_terms_and_vocabularies_are_served(self, app):
        terms = fetch(app, "/ns/govservice", "ttl")
        assert (rdf.terms_namespace(BASE).inPersonVisits, RDFS.label, Literal("in-person visits", lang="en")) in terms
        scheme = fetch(app, "/vocabulary/channel_type", "ttl")
        online = rdf.concept_uri(BASE, "channel_type", "online")
        assert scheme.value(online, SKOS.prefLabel) is not None
        assert app.get("/vocabulary/channel_type/online").status_code == 200
        assert app.get("/vocabulary/channel_type/teleport").status_code == 404

    def test_a_service_serves_its_basic_item_and_catalogue_documents(self, app, published):
        service = published[1][1]
        g = fetch(app, f"/service/{service['name']}.ttl", "ttl")
        ref = next(g.subjects(RDF.type, rdf.CPSV.PublicService))
        item = g.value(ref, rdf.CV.isClassifiedBy)
        assert item == URIRef(f"{BASE}/id/item/BI-S001")
        assert Literal("企业设立登记", lang="zh") in set(g.objects(item, SKOS.prefLabel))
        evidence = URIRef(f"{ref}#document-1")
        assert g.value(evidence, DCT.identifier) == Literal("DOC-S-ID")
        assert g.value(evidence, rdf.terms_namespace(BASE).noNeedToBring) == Literal(True)
        assert g.value(URIRef(f"{ref}#document-3"), DCT.conformsTo) == URIRef(f"{BASE}/id/document/DOC-S-LEASE")

    def test_a_service_serves_the_rest_of_its_guide(self, app, published):
        service = published[1][1]
        g = fetch(app, f"/service/{service['name']}.jsonld", "jsonld")
        [read] = rdf.services_from_cpsv(g)
        for key in ("basic_code", "implementation_code", "co_departments", "intermediary_services",
                    "special_procedures", "handling_scope", "output_validity", "output_validity_unit",
                    "output_sample_url", "contact_points", "process_steps"):
            assert read[key] == service[key], key

    def test_a_basic_item_and_a_document_are_served_as_concept_and_evidence_type(self, app, published):
        item = fetch(app, "/dataset/item-bi-s001.ttl", "ttl")
        ref = URIRef(f"{BASE}/id/item/BI-S001")
        assert (ref, RDF.type, SKOS.Concept) in item and not set(item.subjects(RDF.type, DCAT_DATASET))
        document = fetch(app, "/dataset/document-doc-s-id.ttl", "ttl")
        ref = URIRef(f"{BASE}/id/document/DOC-S-ID")
        assert (ref, RDF.type, rdf.CV.EvidenceType) in document
        assert document.value(ref, rdf.terms_namespace(BASE).governmentHolds) == rdf.concept_uri(
            BASE, "government_holds", "electronic_licence")
        assert_conforms(item + document)

    def test_a_basic_items_and_a_documents_uri_answer_with_their_page_or_rdf(self, app, published):
        resolved = app.get("/id/item/BI-S001", follow_redirects=False)
        assert resolved.status_code == 303 and resolved.location.endswith("/item/BI-S001")
        resolved = app.get("/id/document/DOC-S-ID", headers={"Accept": "text/turtle"}, follow_redirects=False)
        assert resolved.status_code == 303 and resolved.location.endswith("/dataset/document-doc-s-id.ttl")
        assert app.get("/id/item/NO-SUCH-ITEM", follow_redirects=False).status_code == 404
