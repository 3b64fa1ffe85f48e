"""Services as CPSV-AP 3.2, the pure mapping: every output validates against the official
SHACL shapes and reads back (the served endpoints are in integration/test_cpsv_endpoints.py)."""
from __future__ import annotations

import functools
from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS as DCT, RDF, RDFS, SKOS, XSD

from ckanext.govservice.core import cpsv as rdf, schema

from .. import samples

REPO = Path(__file__).resolve().parents[5]
DCAT_DATASET = URIRef("http://www.w3.org/ns/dcat#Dataset")
STANDARD = REPO / "datasets" / "standards" / "cpsv-ap-3.2.0"   # the official files, CC-BY 4.0
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
            # on the service, or on the node its field is (the output's validity)
            holders = {ref, *(o for _, o in g.predicate_objects(ref))}
            assert any(g.value(h, predicate) is not None for h in holders), f["field_name"]

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
        # regenerate: python -c "from ckanext.govservice.core import cpsv; print(cpsv.example_feed(), end='')" > …
        assert EXAMPLE_FILE.read_text(encoding="utf-8") == rdf.example_feed()
        g = Graph().parse(EXAMPLE_FILE)
        assert_conforms(g)
        [back] = rdf.services_from_cpsv(g)
        assert {k: back.get(k) for k in FIELDS_READ_BACK if k not in ("name", "processing_time")} == {
            k: rdf.EXAMPLE_SERVICE.get(k) for k in FIELDS_READ_BACK if k not in ("name", "processing_time")}


# ---------------------------------------------------------------- pure: reading back

FIELDS_READ_BACK = ["service_code", "basic_code", "implementation_code", "version", "title", "title_en", "notes", "notes_en",
                    "service_type", "audience", "legal_basis", "eligibility", "eligibility_en",
                    "documents", "process_steps", "statutory_limit", "statutory_limit_unit",
                    "committed_limit", "committed_limit_unit", "fees", "channels", "in_person_visits",
                    "output_type", "output_name", "contact_phone", "complaint_phone", "status",
                    "valid_from", "valid_to", "processing_time", "name",
                    "co_departments", "intermediary_services", "special_procedures", "handling_scope",
                    "output_validity", "output_validity_unit", "output_sample_url", "contact_points"]


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
