"""DCAT-AP 3.0.0's vocabularies, the pure part (core.dcat_ap): formats and media
types, licences, languages, the theme, read back; and the official shapes
(datasets/standards/dcat-ap-3.0.0/) catching what ckanext-dcat wrote before.
The served catalogue: integration/test_dcat_ap.py."""
from __future__ import annotations

import functools
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS as DCT, FOAF, RDF, RDFS, SKOS

from ckanext.govservice.core import dcat_ap

REPO = Path(__file__).resolve().parents[5]
SHAPES = REPO / "datasets" / "standards" / "dcat-ap-3.0.0" / "dcat-ap-SHACL.ttl"
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
DIST = URIRef("https://portal.example.gov.cn/dataset/d/resource/r")


@functools.cache
def shapes() -> Graph:
    return Graph().parse(SHAPES)


def distribution_graph(fmt: str | None, mimetype: str | None = None) -> tuple[Graph, str | None]:
    """A distribution as DCAT-AP 3 wants it, with the format ``add_format`` gives."""
    g = Graph()
    g.add((DIST, RDF.type, DCAT.Distribution))
    url = URIRef("https://portal.example.gov.cn/files/d.bin")
    g.add((DIST, DCAT.accessURL, url))
    g.add((url, RDF.type, RDFS.Resource))
    return g, dcat_ap.add_format(g, DIST, fmt, mimetype)


class TestFormats:
    @pytest.mark.parametrize("fmt, code, media", [
        ("CSV", "CSV", "text/csv"),
        ("json", "JSON", "application/json"),
        ("XLSX", "XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("Turtle", "RDF_TURTLE", "text/turtle"),
        ("ttl", "RDF_TURTLE", "text/turtle"),
        ("RDF/XML", "RDF_XML", "application/rdf+xml"),
        ("JSON-LD", "JSON_LD", "application/ld+json"),
    ])
    def test_a_published_format_is_an_eu_file_type_and_an_iana_media_type(self, fmt, code, media):
        g, unknown = distribution_graph(fmt)
        assert unknown is None
        assert g.value(DIST, DCT["format"]) == URIRef(EU + "file-type/" + code)
        assert g.value(DIST, DCAT.mediaType) == URIRef(IANA + media)
        assert dcat_ap.validate(g, shapes()).violations == []

    def test_a_format_known_only_by_its_media_type_is_found_by_it(self):
        g, _ = distribution_graph("", "text/csv; charset=utf-8")
        assert g.value(DIST, DCT["format"]) == URIRef(EU + "file-type/CSV")

    def test_an_eu_file_type_iri_as_format_stays_itself(self):
        assert dcat_ap.file_type(EU + "file-type/JSON").label == "JSON"

    def test_an_unknown_format_is_published_as_a_label_and_reported_but_valid(self):
        g, unknown = distribution_graph("DWG", "application/x-dwg")
        assert unknown == "DWG"
        fmt = g.value(DIST, DCT["format"])
        assert isinstance(fmt, BNode) and g.value(fmt, RDFS.label) == Literal("DWG")
        assert g.value(DIST, DCAT.mediaType) is None   # not IANA's, and the shapes allow no literal there
        result = dcat_ap.validate(g, shapes())
        assert result.violations == []
        assert result.unmapped == [(str(DIST), "DWG")]
        assert result.lines() == [f"format not in the file-type table, published as a label only: {DIST} 'DWG'"]

    def test_an_unknown_format_keeps_its_media_type_when_it_is_an_iana_one(self):
        g, unknown = distribution_graph("DWG", "image/vnd.dwg")
        assert unknown == "DWG"
        assert g.value(DIST, DCAT.mediaType) == URIRef(IANA + "image/vnd.dwg")
        assert dcat_ap.read_format(g, DIST) == ("DWG", "image/vnd.dwg")
        assert dcat_ap.validate(g, shapes()).violations == []

    def test_formats_read_back_as_ckan_values(self):
        for fmt in ("CSV", "XLSX", "DWG"):
            g, _ = distribution_graph(fmt)
            assert dcat_ap.read_format(g, DIST)[0] == fmt
        g, _ = distribution_graph("CSV")
        assert dcat_ap.read_format(g, DIST) == ("CSV", "text/csv")

    def test_the_literal_format_ckanext_dcat_wrote_breaks_the_shapes(self):
        g, _ = distribution_graph(None)
        g.add((DIST, DCT["format"], Literal("CSV")))
        g.add((DIST, DCAT.mediaType, Literal("text/csv")))
        messages = {v.path: v.message for v in dcat_ap.validate(g, shapes()).violations}
        assert set(messages) == {str(DCT["format"]), str(DCAT.mediaType)}


class TestLicencesLanguagesThemes:
    def test_cc_by_is_the_eu_cc_by_4_licence_with_a_labelled_licence_type(self):
        g = Graph()
        uri = dcat_ap.add_licence(g, DIST, "cc-by")
        assert uri == URIRef(EU + "licence/CC_BY_4_0")
        assert (uri, RDF.type, DCT.LicenseDocument) in g
        kind = g.value(uri, DCT.type)
        assert kind == URIRef("http://purl.org/adms/licencetype/Attribution")
        assert g.value(kind, SKOS.prefLabel) == Literal("Attribution", lang="en")
        assert dcat_ap.licence_id(uri) == "cc-by"

    def test_a_licence_outside_the_table_is_its_own_url_of_unknown_type(self):
        g = Graph()
        uri = dcat_ap.add_licence(g, DIST, "gov-open", "https://data.gov.cn/licence", "政府开放许可")
        assert uri == URIRef("https://data.gov.cn/licence")
        assert g.value(uri, DCT.type) == URIRef("http://purl.org/adms/licencetype/UnknownIPR")
        assert g.value(uri, DCT.title) == Literal("政府开放许可")
        assert dcat_ap.add_licence(Graph(), DIST, "notspecified", None) is None

    def test_ckan_locales_are_eu_language_iris_and_literals_go(self):
        g = Graph()
        g.add((DIST, DCT.language, Literal("zh_Hans_CN")))
        dcat_ap.add_languages(g, DIST, ["zh_Hans_CN", "en", "xx"])
        assert set(g.objects(DIST, DCT.language)) == {URIRef(EU + "language/ZHO"), URIRef(EU + "language/ENG")}
        assert (URIRef(EU + "language/ZHO"), RDF.type, DCT.LinguisticSystem) in g

    def test_a_whole_dataset_with_theme_publisher_and_standard_is_valid(self):
        g, _ = distribution_graph("CSV")
        dataset, catalogue = URIRef("https://portal.example.gov.cn/dataset/d"), URIRef("https://portal.example.gov.cn")
        agent = URIRef("https://portal.example.gov.cn/organization/o")
        g.add((dataset, RDF.type, DCAT.Dataset))
        g.add((dataset, DCT.title, Literal("事项目录", lang="zh")))
        g.add((dataset, DCT.description, Literal("全部事项", lang="zh")))
        g.add((dataset, DCAT.distribution, DIST))
        g.add((dataset, DCT.publisher, agent))
        g.add((agent, RDF.type, FOAF.Agent))
        g.add((agent, FOAF.name, Literal("某局")))
        concept = dcat_ap.add_government_theme(g, dataset)
        assert set(g.objects(concept, SKOS.prefLabel)) == {Literal("政府和公共部门", lang="zh"),
                                                           Literal("Government and public sector", lang="en")}
        dcat_ap.add_standard(g, DIST, "https://portal.example.gov.cn/api/3/action/govservice_schema",
                             {"en": "Service catalogue data dictionary"})
        dcat_ap.add_licence(g, DIST, "cc-by")
        g.add((catalogue, RDF.type, DCAT.Catalog))
        g.add((catalogue, DCT.title, Literal("平台")))
        g.add((catalogue, DCT.description, Literal("平台")))
        g.add((catalogue, DCT.publisher, agent))
        g.add((catalogue, DCAT.dataset, dataset))
        dcat_ap.add_theme_taxonomy(g, catalogue)
        assert dcat_ap.validate(g, shapes()).violations == []

    def test_the_shapes_catch_a_catalogue_without_publisher_and_a_concept_without_label(self):
        g = Graph()
        catalogue = URIRef("https://portal.example.gov.cn")
        g.add((catalogue, RDF.type, DCAT.Catalog))
        g.add((catalogue, DCT.title, Literal("平台")))
        g.add((catalogue, DCT.description, Literal("平台")))
        g.add((URIRef("https://portal.example.gov.cn/c"), RDF.type, SKOS.Concept))
        focus = {(v.focus, v.path) for v in dcat_ap.validate(g, shapes()).violations}
        assert focus == {(str(catalogue), str(DCT.publisher)),
                         ("https://portal.example.gov.cn/c", str(SKOS.prefLabel))}
