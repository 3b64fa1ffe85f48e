"""schema.org GovernmentService JSON-LD for a service page."""
from __future__ import annotations

import json
import re

import pytest
from pyld import jsonld
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF

from ckanext.govservice.core import cpsv as rdf
from ckanext.govservice.jsonld import service_jsonld

from .. import factories as gov
from .. import samples
from ..pages import fetch

SDO = Namespace("https://schema.org/")
# The schema.org context, inline: parsing must not fetch it from the web.
CONTEXT = {"@vocab": "https://schema.org/"}


def offline(doc: dict) -> dict:
    return {**doc, "@context": CONTEXT}


URI = "http://127.0.0.1:5000/id/service/market-regulation/SC-S001"


def test_it_expands_as_json_ld_with_the_expected_values():
    doc = service_jsonld(samples.as_shown(1), samples.DEPARTMENT, url="http://127.0.0.1:5000/service/x")
    assert doc["@context"] == "https://schema.org"
    [node] = [n for n in jsonld.expand(offline(doc)) if n.get("@id") == URI]
    assert node["@type"] == ["https://schema.org/GovernmentService"]
    assert node["https://schema.org/identifier"] == [{"@value": "SC-S001"}]


def test_it_parses_with_rdflib_and_has_provider_area_channels_output_and_offers():
    service = samples.as_shown(1)
    doc = service_jsonld(service, samples.DEPARTMENT, url="http://127.0.0.1:5000/service/x")
    g = Graph().parse(data=json.dumps(offline(doc)), format="json-ld")
    ref = URIRef(URI)
    assert str(g.value(ref, SDO.url)) == "http://127.0.0.1:5000/service/x"
    assert (ref, RDF.type, SDO.GovernmentService) in g
    assert g.value(ref, SDO.name) == Literal("样例事项1")
    provider = g.value(ref, SDO.provider)
    assert g.value(provider, SDO.name) == Literal("滨江市市场监督管理局")
    assert g.value(provider, SDO.alternateName) == Literal("Binjiang Market Regulation Bureau")
    assert g.value(g.value(ref, SDO.areaServed), SDO.name) == Literal("滨江市")
    channels = list(g.objects(ref, SDO.availableChannel))
    assert len(channels) == len(service["channels"]) + len(service["contact_points"])
    assert all((c, RDF.type, SDO.ServiceChannel) in g for c in channels)
    urls = {str(g.value(c, SDO.serviceUrl)) for c in channels}
    assert "https://zwfw.example.gov.cn/online/1" in urls
    assert g.value(g.value(ref, SDO.serviceOutput), SDO.name) == Literal("营业执照")
    offer = g.value(ref, SDO.offers)
    assert float(g.value(offer, SDO.price)) == 10.5
    assert g.value(offer, SDO.priceCurrency) == Literal("CNY")


def test_its_id_is_the_services_rdf_uri():
    service = samples.as_shown(1)
    doc = service_jsonld(service, samples.DEPARTMENT, url="http://127.0.0.1:5000/service/sample-service-1")
    assert doc["@id"] == str(rdf.service_uri("http://127.0.0.1:5000", service, samples.DEPARTMENT)) == URI


def test_a_free_service_offers_at_price_zero():
    doc = service_jsonld({**samples.as_shown(1), "fees": []})
    assert doc["offers"] == [{"@type": "Offer", "price": 0, "priceCurrency": "CNY"}]


def test_a_licence_is_a_permit():
    output = service_jsonld({**samples.as_shown(0), "output_type": "licence"})["serviceOutput"]
    assert (output["@type"], output["name"]) == ("Permit", "营业执照")


def test_contact_points_are_service_channels_with_their_contact_point():
    doc = service_jsonld(samples.as_shown(1), samples.DEPARTMENT, url="http://127.0.0.1:5000/service/x")
    complaints = [c for c in doc["availableChannel"] if c.get("name") == "监督投诉"]
    assert complaints == [{"@type": "ServiceChannel", "name": "监督投诉", "servicePhone": {
        "@type": "ContactPoint", "contactType": "监督投诉", "telephone": "12345", "email": "tousu@example.gov.cn"}}]
    [enquiries] = [c for c in doc["availableChannel"] if c.get("name") == "咨询"]
    assert enquiries["serviceLocation"] == {"@type": "Place", "address": "滨江市江南大道1号",
                                            "openingHours": "周一至周五 9:00-17:00"}


def test_co_departments_operate_the_service_beside_its_department():
    doc = service_jsonld(samples.as_shown(1), samples.DEPARTMENT)
    assert [o["name"] for o in doc["serviceOperator"]] == ["滨江市市场监督管理局", "滨江市税务局", "滨江市公安局"]
    assert doc["serviceOperator"][1]["description"] == "同步办理税务登记"


def test_a_permit_says_how_long_it_is_valid_and_where_its_sample_is():
    doc = service_jsonld({**samples.as_shown(1), "output_type": "licence", "output_validity_unit": "years"})
    assert doc["serviceOutput"] == {"@type": "Permit", "name": "营业执照", "validFor": "P5Y",
                                    "url": "https://zwfw.example.gov.cn/samples/1.pdf"}


def test_the_basic_item_is_the_related_service_at_its_rdf_uri():
    doc = service_jsonld(samples.as_shown(1), samples.DEPARTMENT, url="http://127.0.0.1:5000/service/x")
    assert doc["isRelatedTo"] == {"@type": "Service", "@id": "http://127.0.0.1:5000/id/item/BI-S001",
                                  "identifier": "BI-S001", "name": "企业设立登记"}


def test_a_service_without_the_guide_fields_has_none_of_their_keys():
    doc = service_jsonld({**samples.minimal(), "organization": {"name": "market-regulation", "title": "某局"}})
    assert not {"isRelatedTo", "serviceOutput"} & set(doc)
    assert doc["serviceOperator"] == {"@type": "GovernmentOrganization", "name": "某局"}


@pytest.mark.usefixtures("clean_index", "with_request_context")
def test_a_structured_data_parser_extracts_it_from_the_served_page(app, dept, sysadmin):
    service = gov.service(dept["id"], context=dict(sysadmin), name="licence-page", area_code="330100",
                          fees=[{"name": "工本费", "amount": 10}])
    page = fetch(app, "/service/licence-page")
    [block] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    g = Graph().parse(data=json.dumps(offline(json.loads(block))), format="json-ld")
    [ref] = g.subjects(RDF.type, SDO.GovernmentService)
    assert str(ref) == f"http://127.0.0.1:5000/id/service/market-regulation/{service['service_code']}"
    assert g.value(g.value(ref, SDO.provider), SDO.alternateName) == Literal("Binjiang Market Regulation Bureau")
    assert g.value(g.value(ref, SDO.areaServed), SDO.name) == Literal("滨江市")
    assert {(c, RDF.type, SDO.ServiceChannel) in g for c in g.objects(ref, SDO.availableChannel)} == {True}
    assert g.value(g.value(ref, SDO.serviceOutput), SDO.name) == Literal("营业执照")
    assert float(g.value(g.value(ref, SDO.offers), SDO.price)) == 10.0
