"""Services as CPSV-AP 3.2: every output validates against the official SHACL shapes."""
from __future__ import annotations

import functools
from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS as DCT, FOAF, RDF, RDFS, SKOS, XSD

from ckan.tests import helpers

from ckanext.govservice.core import cpsv as rdf, schema

from . import factories as gov
from . import samples

REPO = Path(__file__).resolve().parents[4]
DCAT_DATASET = URIRef("http://www.w3.org/ns/dcat#Dataset")
STANDARD = REPO.parent / "shared" / "standards" / "cpsv-ap-3.2.0"
BASE = "http://127.0.0.1:5000"
FORMATS = {"ttl": "turtle", "rdf": "xml", "xml": "xml", "jsonld": "json-ld"}


@functools.cache
def shapes() -> Graph:
    return Graph().parse(STANDARD / "cpsv-ap-SHACL.ttl")


def assert_conforms(g: Graph) -> None:
    conforms, _, report = pyshacl.validate(g, shacl_graph=shapes())
    assert conforms, report


def sample_graph() -> Graph:
    return rdf.services_to_graph([(samples.as_shown(i), samples.DEPARTMENT)
                                  for i in range(samples.count())], BASE)


# ---------------------------------------------------------------- pure: the mapping

class TestMapping:
    def test_the_sample_uses_every_vocabulary_value(self):
        g = sample_graph()
        for name, f in rdf._vocabulary_fields().items():
            if name == "level":
                continue  # a department's vocabulary, not a service's
            for c in schema.choices(f):
                assert (rdf.concept_uri(BASE, name, c["value"]), RDF.type, SKOS.Concept) in g, (name, c)

    @pytest.mark.parametrize("fmt", ["turtle", "xml", "json-ld"])
    def test_every_serialisation_of_the_sample_conforms_to_cpsv_ap(self, fmt):
        text = sample_graph().serialize(format=fmt)
        assert_conforms(Graph().parse(data=text, format=fmt))

    def test_a_service_without_description_or_output_name_still_conforms(self):
        service = {**samples.as_shown(1), "notes": "", "notes_en": "", "output_name": "",
                   "eligibility": "", "eligibility_en": "", "fees": [], "legal_basis": [{"title": "条例"}]}
        department = {"id": "d", "name": "d", "title": "某局"}  # no area, no English name
        assert_conforms(rdf.services_to_graph([(service, department)], BASE))

    def test_the_shapes_do_catch_a_broken_service(self):
        g = rdf.services_to_graph([(samples.as_shown(1), samples.DEPARTMENT)], BASE)
        ref = next(g.subjects(RDF.type, rdf.CPSV.PublicService))
        g.add((ref, DCT.identifier, Literal("a second identifier")))
        conforms, _, _ = pyshacl.validate(g, shacl_graph=shapes())
        assert not conforms

    def test_every_schema_field_with_a_cpsv_property_is_emitted_with_it(self):
        g = rdf.services_to_graph([(samples.as_shown(1), samples.DEPARTMENT)], BASE)
        ref = next(g.subjects(RDF.type, rdf.CPSV.PublicService))
        for f in schema.service_fields():
            if not f.get("cpsv"):
                continue
            prefix, _, local = f["cpsv"].split("@")[0].partition(":")
            spaces = {**rdf.NAMESPACES, "gs": rdf.terms_namespace(BASE)}   # gs: the platform's terms
            predicate = URIRef(str(spaces[prefix]) + local)
            assert g.value(ref, predicate) is not None, f["field_name"]

    def test_titles_and_descriptions_are_tagged_zh_and_en(self):
        g = rdf.services_to_graph([(samples.as_shown(2), samples.DEPARTMENT)], BASE)
        ref = next(g.subjects(RDF.type, rdf.CPSV.PublicService))
        assert set(g.objects(ref, DCT.title)) == {Literal("样例事项2", lang="zh"),
                                                   Literal("Sample service 2", lang="en")}
        assert Literal("Registers a company and issues its business licence.", lang="en") in set(
            g.objects(ref, DCT.description))

    def test_the_committed_limit_is_an_xsd_duration(self):
        service = {**samples.as_shown(2), "committed_limit": 5, "committed_limit_unit": "working_days",
                   "processing_time": "P7D"}
        g = rdf.services_to_graph([(service, samples.DEPARTMENT)], BASE)
        assert set(g.objects(None, rdf.CV.processingTime)) == {Literal("P7D", datatype=XSD.duration)}

    def test_the_competent_authority_has_bilingual_labels_and_an_area(self):
        g = rdf.services_to_graph([(samples.as_shown(1), samples.DEPARTMENT)], BASE)
        org = next(g.subjects(RDF.type, rdf.CV.PublicOrganisation))
        assert set(g.objects(org, SKOS.prefLabel)) == {
            Literal("滨江市市场监督管理局", lang="zh"), Literal("Binjiang Market Regulation Bureau", lang="en")}
        place = g.value(org, DCT.spatial)
        assert g.value(place, DCT.identifier) == Literal("330100")
        assert g.value(place, SKOS.prefLabel) == Literal("滨江市", lang="zh")

    def test_a_service_uri_is_its_department_and_code(self):
        g = rdf.services_to_graph([(samples.as_shown(1), samples.DEPARTMENT)], BASE)
        assert set(g.subjects(RDF.type, rdf.CPSV.PublicService)) == {
            URIRef(f"{BASE}/id/service/market-regulation/SC-S001")}

    def test_services_are_parts_of_their_catalogue_datasets(self):
        g = rdf.services_to_graph([(samples.as_shown(1), samples.DEPARTMENT)], BASE)
        service = URIRef(f"{BASE}/id/service/market-regulation/SC-S001")
        assert set(g.subjects(DCT.hasPart, service)) == {
            URIRef(f"{BASE}/dataset/market-regulation-service-catalogue"),
            URIRef(f"{BASE}/dataset/service-catalogue")}

    def test_no_placeholder_namespace_and_every_platform_term_is_declared(self):
        g = sample_graph()
        terms = rdf.terms_graph(BASE)
        gs = str(rdf.terms_namespace(BASE))
        used = {p for p in g.predicates(unique=True)} | set(g.objects(None, RDF.type))
        assert not [u for u in used if str(u).startswith("urn:")]
        ours = {u for u in used if str(u).startswith(gs)}
        assert len(ours) >= 10
        assert all((u, RDFS.label, None) in terms and (u, RDFS.comment, None) in terms for u in ours)

    def test_languages_and_currency_are_eu_authority_uris_and_close_eu_concepts_are_matched(self):
        g = rdf.services_to_graph([(samples.as_shown(1), samples.DEPARTMENT)], BASE)
        ref = next(g.subjects(RDF.type, rdf.CPSV.PublicService))
        assert set(g.objects(ref, DCT.language)) == {
            URIRef("http://publications.europa.eu/resource/authority/language/ZHO"),
            URIRef("http://publications.europa.eu/resource/authority/language/ENG")}
        health = rdf.concept_uri(BASE, "theme", "health")
        assert g.value(health, SKOS.exactMatch) == URIRef(
            "http://publications.europa.eu/resource/authority/main-activity/health")

    def test_a_fee_is_a_cost_with_a_double_value_and_an_eu_currency(self):
        g = rdf.services_to_graph([(samples.as_shown(1), samples.DEPARTMENT)], BASE)
        cost = next(g.subjects(RDF.type, rdf.CV.Cost))
        assert g.value(cost, rdf.CV.hasValue) == Literal(10.5, datatype=XSD.double)
        assert g.value(cost, rdf.CV.currency) == URIRef(
            "http://publications.europa.eu/resource/authority/currency/CNY")


# ---------------------------------------------------------------- the feed example in datasets/

EXAMPLE_FILE = REPO / "datasets" / "formats" / "cpsv-ap-example.ttl"


class TestFeedExample:
    def test_the_example_fills_every_field_a_department_sends(self):
        fields = [f["field_name"] for f in schema.service_fields() if not f.get("govservice_derived")
                  and f["field_name"] not in ("owner_org", "name", "source", "source_record_id",
                                              "harvested_at", "content_hash")]
        assert [f for f in fields if rdf.EXAMPLE_SERVICE.get(f) in (None, "", [])] == []

    def test_the_format_page_names_every_mapped_field_and_every_platform_term(self):
        page = (EXAMPLE_FILE.parent / "cpsv-ap.md").read_text(encoding="utf-8")
        mapped = [f["field_name"] for f in schema.service_fields()
                  if f.get("cpsv") and not f.get("govservice_derived") and f["field_name"] != "owner_org"]
        assert [f for f in mapped if f"`{f}`" not in page] == []
        assert [t for t in rdf.TERMS if f"`gs:{t}`" not in page] == []

    def test_the_example_file_is_what_the_platform_writes_and_is_valid(self):
        # regenerate: python -c "from ckanext.govservice import rdf; print(rdf.example_feed(), end='')" > …
        assert EXAMPLE_FILE.read_text(encoding="utf-8") == rdf.example_feed()
        g = Graph().parse(EXAMPLE_FILE)
        assert_conforms(g)
        [back] = rdf.services_from_cpsv(g)
        assert {k: back.get(k) for k in FIELDS_READ_BACK if k not in ("name", "processing_time")} == {
            k: rdf.EXAMPLE_SERVICE.get(k) for k in FIELDS_READ_BACK if k not in ("name", "processing_time")}


# ---------------------------------------------------------------- pure: reading back

FIELDS_READ_BACK = ["service_code", "local_code", "version", "title", "title_en", "notes", "notes_en",
                    "service_type", "audience", "legal_basis", "eligibility", "eligibility_en",
                    "documents", "process_steps", "statutory_limit", "statutory_limit_unit",
                    "committed_limit", "committed_limit_unit", "fees", "channels", "in_person_visits",
                    "output_type", "output_name", "contact_phone", "complaint_phone", "status",
                    "valid_from", "valid_to", "processing_time", "name"]


class TestReader:
    @pytest.mark.parametrize("fmt", ["turtle", "xml", "json-ld"])
    def test_our_output_reads_back_to_the_same_field_values(self, fmt):
        text = sample_graph().serialize(format=fmt)
        read = rdf.services_from_cpsv(Graph().parse(data=text, format=fmt))
        assert len(read) == samples.count()
        for i, back in enumerate(read):
            original = samples.as_shown(i)
            for key in FIELDS_READ_BACK:
                assert back.get(key) == original[key], (i, key)
            for key in ("themes", "life_events", "online_depth"):
                assert back[key] == sorted(original[key]), (i, key)
            assert back["department"] == {k: samples.DEPARTMENT[k] for k in (
                "title", "title_en", "department_code", "level", "area", "area_code")}

    def test_the_specifications_example_parses_and_reads(self):
        g = Graph().parse(STANDARD / "example-rdf_public_service.ttl")
        service = URIRef("http://example.com/publicService1")
        assert (service, RDF.type, rdf.CPSV.PublicService) in g
        authority = g.value(service, rdf.CV.hasCompetentAuthority)
        assert Literal("Federal Public Service FINANCE", lang="en") in set(g.objects(authority, SKOS.prefLabel))
        assert g.value(g.value(service, rdf.CV.contactPoint), rdf.CV.telephone) == Literal("+32 257 25757")

        [read] = rdf.services_from_cpsv(g)
        assert read["service_code"] == "Tax-on-web"
        assert read["title_en"] == "Tax-on-web"
        assert read["contact_phone"] == "+32 257 25757"
        assert read["department"]["title_en"] == "Federal Public Service FINANCE"
        assert read["channels"] == [{"channel_type": "b37115f83e"}]
        assert read["documents"][0]["mandatory"] is True  # it supports the service's requirement


# ---------------------------------------------------------------- on the stack: ckanext-dcat's endpoints

@pytest.fixture
def published(clean_db, clean_index):
    sysadmin = {"user": gov.factories.Sysadmin()["name"]}
    dept = gov.department(name="market-regulation", title_en="Binjiang Market Regulation Bureau",
                          area="滨江市", area_code="330100", department_code="11330100MB0000000X")
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
        items = n + 2
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
        page = app.get(f"/service/{service['name']}").get_data(as_text=True)
        assert f'"@id": "{uri}"' in page
        # Open311 names the service by the same two parts
        listed = app.get("/open311/v2/services.json?jurisdiction_id=market-regulation").json
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
