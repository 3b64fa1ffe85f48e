"""Services as CPSV-AP 3.2, the pure mapping: every output validates against the official
SHACL shapes and reads back (the served endpoints are in integration/test_cpsv_endpoints.py)."""
from __future__ import annotations

import functools
from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS as DCT, FOAF, RDF, RDFS, SKOS, XSD

from ckanext.govservice.core import cpsv as rdf, dcat_ap, schema

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


# ---------------------------------------------------------------- pure: the network and the rest of the guide

DCAT_AP_SHAPES = REPO / "datasets" / "standards" / "dcat-ap-3.0.0" / "dcat-ap-SHACL.ttl"
FOAF_DOCUMENT = URIRef("http://xmlns.com/foaf/0.1/Document")


@functools.cache
def dcat_ap_shapes() -> Graph:
    return Graph().parse(DCAT_AP_SHAPES)


def one_service(service: dict) -> tuple[Graph, URIRef]:
    g = rdf.services_to_graph([(service, samples.DEPARTMENT)], BASE)
    return g, next(g.subjects(RDF.type, rdf.CPSV.PublicService))


def minimal_as_shown() -> dict:
    return {**samples.minimal(), "organization": {k: samples.DEPARTMENT[k] for k in ("id", "name", "title")},
            "processing_time": "P0D"}


class TestNetworkAndGuide:
    def test_a_service_with_every_optional_field_absent_conforms_and_reads_back_without_them(self):
        g, _ = one_service(minimal_as_shown())
        assert_conforms(g)
        [back] = rdf.services_from_cpsv(g)
        assert {k: back[k] for k in ("co_departments", "intermediary_services", "special_procedures",
                                     "contact_points", "documents", "process_steps")} == {
            "co_departments": [], "intermediary_services": [], "special_procedures": [], "contact_points": [],
            "documents": [], "process_steps": []}
        assert not {"basic_code", "implementation_code", "handling_scope", "output_validity",
                    "output_sample_url"} & set(back)

    def test_the_basic_item_is_a_concept_of_the_basic_catalogue_labelled_by_its_title(self):
        g, ref = one_service(samples.as_shown(1))
        item = g.value(ref, rdf.CV.isClassifiedBy)
        assert item == URIRef(f"{BASE}/id/item/BI-S001")
        assert (item, RDF.type, SKOS.Concept) in g and (item, RDF.type, rdf.terms_namespace(BASE).BasicItem) in g
        assert g.value(item, SKOS.inScheme) == URIRef(f"{BASE}/id/item")
        assert g.value(item, SKOS.notation) == Literal("BI-S001")
        assert set(g.objects(item, SKOS.prefLabel)) == {Literal("企业设立登记", lang="zh"),
                                                         Literal("Company registration", lang="en")}

    def test_without_the_network_the_basic_item_is_labelled_by_its_code(self):
        g, ref = one_service({**samples.as_shown(1), "network": None})
        assert set(g.objects(g.value(ref, rdf.CV.isClassifiedBy), SKOS.prefLabel)) == {Literal("BI-S001")}
        assert_conforms(g)

    def test_the_implementation_code_is_the_adms_identifier(self):
        g, ref = one_service(samples.as_shown(1))
        assert g.value(g.value(ref, rdf.ADMS.identifier), SKOS.notation) == Literal("330100-SC-S001")

    def test_a_document_with_a_catalogue_code_is_identified_by_it_and_conforms_to_its_evidence_type(self):
        g, ref = one_service(samples.as_shown(1))
        evidence = URIRef(f"{ref}#document-1")
        assert g.value(evidence, DCT.identifier) == Literal("DOC-S-ID")
        kind = g.value(evidence, DCT.conformsTo)
        assert kind == URIRef(f"{BASE}/id/document/DOC-S-ID")
        assert (kind, RDF.type, rdf.CV.EvidenceType) in g
        assert list(g.objects(kind, DCT.identifier)) == [Literal("DOC-S-ID")]

    def test_a_document_the_government_holds_is_marked_no_need_to_bring(self):
        g, ref = one_service(samples.as_shown(1))
        gs = rdf.terms_namespace(BASE)
        held = URIRef(f"{ref}#document-1")
        assert g.value(held, gs.noNeedToBring) == Literal(True)
        assert g.value(g.value(held, DCT.conformsTo), gs.governmentHolds) == rdf.concept_uri(
            BASE, "government_holds", "electronic_licence")
        assert [d for d in g.subjects(gs.noNeedToBring, None)] == [held]

    def test_a_document_matched_by_name_conforms_to_its_type_but_keeps_its_own_identifier(self):
        g, ref = one_service(samples.as_shown(1))
        evidence = URIRef(f"{ref}#document-3")
        assert g.value(evidence, DCT.conformsTo) == URIRef(f"{BASE}/id/document/DOC-S-LEASE")
        assert g.value(evidence, DCT.identifier) == Literal("SC-S001/document/3")
        assert "code" not in rdf.services_from_cpsv(g)[0]["documents"][2]

    def test_co_departments_are_participations_with_a_role_and_a_named_agent(self):
        g, ref = one_service(samples.as_shown(1))
        first = URIRef(f"{ref}#participation-1")
        assert (ref, rdf.CV.hasParticipation, first) in g
        assert g.value(first, rdf.CV.role) == rdf.concept_uri(BASE, "participation_role", "co_handling")
        assert g.value(first, DCT.description) == Literal("同步办理税务登记", lang="zh")
        assert g.value(g.value(first, rdf.CV.hasParticipant), DCT.title) == Literal("滨江市税务局", lang="zh")

    def test_intermediary_services_are_requirements_beside_the_eligibility(self):
        g, ref = one_service(samples.as_shown(1))
        titles = {g.value(r, DCT.title) for r in g.objects(ref, rdf.CV.holdsRequirement)}
        assert titles == {Literal("受理条件", lang="zh"), Literal("房屋安全鉴定", lang="zh"), Literal("测绘", lang="zh")}
        back = rdf.services_from_cpsv(g)[0]
        assert back["eligibility"] == "依法设立的企业"
        assert back["intermediary_services"][0] == {"name": "房屋安全鉴定", "provider": "具备资质的鉴定机构",
                                                    "legal_basis": "城市危险房屋管理规定"}

    def test_special_procedures_and_steps_carry_their_time_limits(self):
        g, ref = one_service(samples.as_shown(1))
        gs = rdf.terms_namespace(BASE)
        procedure = URIRef(f"{ref}#special-procedure-1")
        assert (ref, gs.specialProcedure, procedure) in g
        assert g.value(procedure, gs.timeLimit) == Literal(5)
        step = URIRef(f"{ref}#step-2")
        assert g.value(step, gs.timeLimit) == Literal(2)
        assert g.value(step, gs.timeLimitUnit) == rdf.concept_uri(BASE, "time_unit", "hours")

    def test_the_output_carries_its_validity_and_sample(self):
        g, ref = one_service(samples.as_shown(1))
        gs = rdf.terms_namespace(BASE)
        output = g.value(ref, rdf.CPSV.produces)
        assert g.value(output, gs.outputValidity) == Literal(5)
        assert g.value(output, gs.outputValidityUnit) == rdf.concept_uri(BASE, "validity_unit", "months")
        sample = URIRef("https://zwfw.example.gov.cn/samples/1.pdf")
        assert g.value(output, FOAF.page) == sample and (sample, RDF.type, FOAF_DOCUMENT) in g

    def test_contact_points_carry_their_purpose_email_page_address_and_hours(self):
        g, ref = one_service(samples.as_shown(1))
        gs = rdf.terms_namespace(BASE)
        enquiry = URIRef(f"{ref}#contact-point-1")
        assert g.value(enquiry, gs.contactPurpose) == rdf.concept_uri(BASE, "contact_purpose", "enquiry")
        assert g.value(enquiry, rdf.CV.email) == Literal("zixun@scjg.example.gov.cn")
        assert g.value(enquiry, rdf.CV.contactPage) == URIRef("https://zwfw.example.gov.cn/zixun/1")
        assert g.value(g.value(enquiry, rdf.LOCN.address), rdf.LOCN.fullAddress) == Literal("滨江市江南大道1号", lang="zh")
        assert g.value(g.value(enquiry, rdf.CV.openingHours), DCT.description) == Literal("周一至周五 9:00-17:00", lang="zh")
        # the enquiries phone keeps its own contact point, told apart by having no purpose
        assert rdf.services_from_cpsv(g)[0]["contact_phone"] == "0571-12345"

    def test_a_feed_of_someone_elses_evidence_identifiers_gives_no_catalogue_code(self):
        g, ref = one_service(samples.as_shown(1))
        evidence = URIRef(f"{ref}#document-1")
        g.remove((evidence, DCT.conformsTo, None))
        assert "code" not in rdf.services_from_cpsv(g)[0]["documents"][0]


class TestVocabularies:
    @pytest.mark.parametrize("vocabulary, code, zh", [
        ("participation_role", "co_handling", "联办部门"),
        ("requirement_type", "intermediary_service", "中介服务"),
        ("government_holds", "electronic_licence", "电子证照免提交"),
        ("handling_scope", "cross_province", "跨省通办"),
    ])
    def test_every_concept_the_network_and_the_guide_use_is_served_in_its_scheme(self, vocabulary, code, zh):
        g = rdf.vocabulary_graph(BASE, vocabulary)
        concept = rdf.concept_uri(BASE, vocabulary, code)
        assert (URIRef(f"{BASE}/vocabulary/{vocabulary}"), SKOS.hasTopConcept, concept) in g
        assert Literal(zh, lang="zh") in set(g.objects(concept, SKOS.prefLabel))


class TestCatalogueEntries:
    def entries(self) -> Graph:
        g = Graph()
        rdf.bind_namespaces(g, BASE)
        for entry in (samples.BASIC_ITEM, *samples.DOCUMENTS):
            rdf.catalogue_entry_graph(g, {**entry, "name": "x"}, BASE)
        return g

    def test_a_basic_item_is_a_concept_and_a_document_an_evidence_type(self):
        g = self.entries()
        item, document = URIRef(f"{BASE}/id/item/BI-S001"), URIRef(f"{BASE}/id/document/DOC-S-ID")
        assert (item, RDF.type, SKOS.Concept) in g
        assert g.value(item, DCT.type) == rdf.concept_uri(BASE, "service_type", "administrative_licence")
        assert (document, RDF.type, rdf.CV.EvidenceType) in g
        assert set(g.objects(document, SKOS.altLabel)) == {Literal("身份证", lang="zh")}
        assert not set(g.subjects(RDF.type, DCAT_DATASET))

    @pytest.mark.parametrize("dataset_type, entry, ref", [
        ("basic_item", samples.BASIC_ITEM, f"{BASE}/id/item/BI-S001"),
        ("document", samples.DOCUMENTS[0], f"{BASE}/id/document/DOC-S-ID")])
    def test_every_catalogue_field_with_a_cpsv_property_is_emitted_with_it(self, dataset_type, entry, ref):
        g = self.entries()
        for f in schema.load(dataset_type)["dataset_fields"]:
            # a basic item's legal basis is its implementations' (cv:hasLegalResource is a service's)
            if not f.get("cpsv") or f["field_name"] == "legal_basis":
                continue
            prefix, _, local = f["cpsv"].split("@")[0].partition(":")
            predicate = URIRef(str({**rdf.NAMESPACES, "gs": rdf.terms_namespace(BASE)}[prefix]) + local)
            assert g.value(URIRef(ref), predicate) is not None, f["field_name"]

    def test_catalogue_entries_conform_to_cpsv_ap_and_dcat_ap(self):
        g = self.entries()
        assert_conforms(g)
        assert dcat_ap.validate(g, dcat_ap_shapes()).violations == []

    def test_a_service_and_its_catalogue_entries_in_one_graph_keep_one_identifier_and_label_each(self):
        g = self.entries()
        rdf.service_graph(g, {**samples.as_shown(1), "network": None},
                          rdf.service_uri(BASE, samples.as_shown(1), samples.DEPARTMENT), BASE, samples.DEPARTMENT)
        document, item = URIRef(f"{BASE}/id/document/DOC-S-ID"), URIRef(f"{BASE}/id/item/BI-S001")
        assert list(g.objects(document, DCT.identifier)) == [Literal("DOC-S-ID")]
        assert set(g.objects(item, SKOS.prefLabel)) == {Literal("企业设立登记", lang="zh"),
                                                         Literal("Company registration", lang="en")}
        assert_conforms(g)


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
