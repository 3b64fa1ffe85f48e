"""A service's centres in CPSV-AP 3.2 (issue 17): each a physical cv:Channel at the
centre's page, conforming to the official SHACL shapes, and never read back as
one of the service's own channels (they are derived from the centres' counters)."""
from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS as DCT, RDF

from ckanext.govservice.core import cpsv as rdf

from .. import samples
from .test_cpsv_mapping import BASE, assert_conforms

CV = rdf.CV
CENTRES = [{"centre_code": "HALL-A", "title": "滨江市民服务中心", "title_en": "Citizen Service Centre",
            "address": "滨江市江南大道1号", "opening_hours": "Mo-Fr 09:00-17:00", "phone": "0571-12345"},
           {"centre_code": "HALL-24", "title": "24小时自助服务区"}]


def graph() -> Graph:
    return rdf.services_to_graph([({**samples.as_shown(1), "service_centres": CENTRES}, samples.DEPARTMENT)], BASE)


def test_each_centre_is_a_channel_at_its_page():
    g = graph()
    node = URIRef(f"{BASE}/centre/HALL-A")
    assert ((node, RDF.type, CV.Channel) in g, g.value(node, DCT.identifier), len(list(g.subjects(CV.hasChannel, node)))) == (
        True, Literal("HALL-A"), 1)


def test_a_centres_hours_are_its_channels_opening_hours():
    g = graph()
    hours = g.value(URIRef(f"{BASE}/centre/HALL-A"), CV.openingHours)
    assert str(g.value(hours, DCT.description)) == "Mo-Fr 09:00-17:00"


def test_a_service_with_its_centres_conforms_to_cpsv_ap():
    assert_conforms(graph())


def test_the_centres_are_not_read_back_as_the_services_own_channels():
    service, = rdf.services_from_cpsv(graph())
    assert service["channels"] == [r for r in rdf.services_from_cpsv(
        rdf.services_to_graph([(samples.as_shown(1), samples.DEPARTMENT)], BASE))[0]["channels"]]


def test_schema_org_names_each_centre_as_a_channel_at_a_government_office():
    from ckanext.govservice.core import schemaorg
    found = schemaorg.service_jsonld({**samples.as_shown(1), "service_centres": CENTRES})
    offices = [c["serviceLocation"] for c in found["availableChannel"]
               if c.get("serviceLocation", {}).get("@type") == "GovernmentOffice"]
    assert [(o["identifier"], o.get("openingHours")) for o in offices] == [
        ("HALL-A", "Mo-Fr 09:00-17:00"), ("HALL-24", None)]
