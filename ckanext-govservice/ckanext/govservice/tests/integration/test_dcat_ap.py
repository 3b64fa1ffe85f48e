"""The platform's own datasets as DCAT-AP 3.0.0 on the test site: the bulk
catalogues, the statistics table and a department's statistics file, published
as the platform publishes them, served by ckanext-dcat with our profile and
checked with the official DCAT-AP 3.0.0 shapes (datasets/standards/dcat-ap-3.0.0/)
— and, the catalogue holding services too, the CPSV-AP 3.2.0 ones. The shapes
run as a harvester receives the document: no vocabulary graph, no inference
(what we serve types every vocabulary IRI itself). Then read back: ckanext-dcat's
parser with our profile, and our own CKAN reader (govharvest.ckan_reader).
The vocabulary tables themselves: unit/test_dcat_formats.py."""
from __future__ import annotations

import functools
import io
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS as DCT, FOAF, RDF, RDFS, SKOS
from werkzeug.datastructures import FileStorage

import ckan.plugins.toolkit as tk
from ckan.tests import helpers

from ckanext.govservice import catalogue_publish, statistics_publish
from ckanext.govservice.core import cpsv, dcat_ap

from .. import factories as gov
from .. import samples
from .conftest import empty_statistics_store
from ..unit.test_cpsv_mapping import BASE, shapes as cpsv_shapes

REPO = Path(__file__).resolve().parents[5]
DCAT_AP_SHAPES = REPO / "datasets" / "standards" / "dcat-ap-3.0.0" / "dcat-ap-SHACL.ttl"
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
STATISTICS = ("service_code,period,channel,received,completed,completed_on_time,completed_online\n"
              "SC-S000,2026-01,online,5,4,4,4\nSC-S001,2026-01,in_person,3,3,2,0\n")


@functools.cache
def dcat_ap_shapes() -> Graph:
    return Graph().parse(DCAT_AP_SHAPES)


def served(app, path: str) -> Graph:
    response = app.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    rdflib_format = {"ttl": "turtle", "rdf": "xml", "jsonld": "json-ld"}[path.split("?")[0].rsplit(".", 1)[1]]
    return Graph().parse(data=response.get_data(as_text=True), format=rdflib_format)


def assert_valid_dcat_ap(g: Graph) -> dcat_ap.Validation:
    result = dcat_ap.validate(g, dcat_ap_shapes())
    print("\n".join(result.lines()))   # the report, with any format outside the table
    assert result.violations == [], "\n".join(result.lines())
    return result


@pytest.fixture(scope="class")
def published(reset_db, reset_index, migrate_db_for):
    """What the platform publishes for one department with two services: its
    catalogue, the platform's, the statistics table and the department's file;
    plus a department dataset with a publisher of its own and a file in a
    format outside the table. Made
    once for the class (the tests only read it), with the plugins loaded."""
    from ckan import plugins
    plugins.load_all()
    try:
        with pytest.MonkeyPatch.context() as patch:   # no background jobs: built here
            patch.setitem(tk.config, "ckanext.govservice.catalogue.auto_rebuild", False)
            patch.setitem(tk.config, "ckanext.govservice.statistics.background_jobs", False)
            reset_db()
            migrate_db_for("activity")   # what clean_db gets from the activity plugin's tests
            empty_statistics_store(migrate_db_for)
            reset_index()
            sysadmin = {"user": gov.factories.Sysadmin()["name"]}
            dept = gov.department(name="market-regulation", title_en="Binjiang Market Regulation Bureau",
                                  area="滨江市", area_code="330100", department_code="11330100MB0000000X")
            for entry in samples.catalogue(dept["id"]):   # the basic item and documents the samples name
                helpers.call_action("package_create", context=dict(sysadmin), **entry)
            for i in range(2):
                helpers.call_action("package_create", context=dict(sysadmin), **samples.sent(i, dept["id"]))
            catalogue_publish.build()
            upload = FileStorage(stream=io.BytesIO(STATISTICS.encode()), filename="s.csv",
                                 content_type="text/csv")
            report = helpers.call_action("govservice_statistics_load", context=dict(sysadmin),
                                         department="market-regulation", upload=upload)
            assert report["rejections"] == [], report
            statistics_publish.publish_department_file("market-regulation")
            odd = gov.factories.Dataset(owner_org=dept["id"], name="office-floor-plans",
                                        title="办事大厅平面图", notes="Floor plans.", license_id="cc-by",
                                        extras=[{"key": "publisher_name", "value": "滨江市规划设计院"},
                                                {"key": "publisher_uri", "value": "https://design.example.gov.cn/"}])
            gov.factories.Resource(package_id=odd["id"], url="https://data.example.gov.cn/plans.dwg",
                                   format="DWG", mimetype="image/vnd.dwg", name="plans")
            return dept
    finally:
        plugins.unload_all()


def resource_fields(resource: dict) -> tuple:
    return tuple(resource.get(k) for k in ("name", "description", "format", "mimetype", "url", "size"))


def published_as(resource: dict) -> dict:
    """What a resource is published as: a DataStore table as its CSV dump."""
    if resource.get("datastore_active"):
        return {**resource, "format": "CSV", "mimetype": "text/csv",
                "url": f"{BASE}/datastore/dump/{resource['id']}"}
    return resource


@pytest.mark.usefixtures("with_request_context")
class TestDCATAP:
    NAMES = ("market-regulation-service-catalogue", "service-catalogue", "service-statistics",
             "market-regulation-service-statistics", "office-floor-plans")

    def test_every_dataset_and_the_whole_catalogue_are_valid_dcat_ap_and_cpsv_ap(self, app, published):
        for name in self.NAMES:
            assert_valid_dcat_ap(served(app, f"/dataset/{name}.ttl"))
        catalogue = served(app, "/catalog.ttl")
        result = assert_valid_dcat_ap(catalogue)
        assert dcat_ap.validate(catalogue, cpsv_shapes()).violations == []
        for other in ("rdf", "jsonld"):   # the same document in RDF/XML and JSON-LD
            g = served(app, f"/catalog.{other}")
            assert_valid_dcat_ap(g)
            assert len(g) == len(catalogue)
        root = URIRef(BASE)
        listed = {catalogue.value(d, DCT.title) for d in catalogue.objects(root, DCAT.dataset)}
        assert len(listed) == len(self.NAMES)
        services = set(catalogue.subjects(RDF.type, cpsv.CPSV.PublicService))
        entries = {URIRef(f"{BASE}/id/item/BI-S001"), URIRef(f"{BASE}/id/document/DOC-S-ID"),
                   URIRef(f"{BASE}/id/document/DOC-S-LEASE")}   # the network's catalogues: not datasets
        assert set(catalogue.objects(root, DCAT.resource)) == services | entries and len(services) == 2
        # the catalogue record: the platform publishes it, in zh and en
        publisher = catalogue.value(root, DCT.publisher)
        assert (publisher, RDF.type, FOAF.Agent) in catalogue
        assert catalogue.value(publisher, FOAF.name) == Literal("政务服务平台")
        assert Literal("GovService platform", lang="en") in set(catalogue.objects(publisher, DCT.title))
        assert set(catalogue.objects(root, DCT.language)) == {URIRef(EU + "language/ZHO"),
                                                              URIRef(EU + "language/ENG")}
        assert catalogue.value(root, DCAT.themeTaxonomy) == URIRef(EU + "data-theme")
        # the format outside the table: published, a label only, and in the report
        [(distribution, text)] = result.unmapped
        assert text == "DWG" and "office-floor-plans" not in distribution   # a resource URI
        fmt = catalogue.value(URIRef(distribution), DCT["format"])
        assert catalogue.value(fmt, RDFS.label) == Literal("DWG")
        assert catalogue.value(URIRef(distribution), DCAT.mediaType) == URIRef(IANA + "image/vnd.dwg")
        assert "format not in the file-type table, published as a label only" in result.lines()[-1]

    def test_the_files_say_format_and_media_type_iris_urls_size_licence_and_their_data_dictionary(
            self, app, published):
        g = served(app, "/dataset/market-regulation-service-catalogue.ttl")
        dataset = URIRef(f"{BASE}/dataset/market-regulation-service-catalogue")
        shown = helpers.call_action("package_show", id="market-regulation-service-catalogue")
        by_name = {r["name"]: r for r in shown["resources"]}
        formats = {}
        for distribution in g.objects(dataset, DCAT.distribution):
            resource = by_name[str(g.value(distribution, DCT.title))]
            formats[resource["format"]] = (g.value(distribution, DCT["format"]), g.value(distribution, DCAT.mediaType))
            assert g.value(distribution, DCAT.downloadURL) == URIRef(resource["url"])
            assert g.value(distribution, DCAT.accessURL) == URIRef(resource["url"])
            assert int(g.value(distribution, DCAT.byteSize)) == resource["size"] > 0
            assert g.value(distribution, DCT.license) == URIRef(EU + "licence/CC_BY_4_0")
            assert g.value(distribution, DCT.conformsTo) == URIRef(f"{BASE}/api/3/action/govservice_schema")
        assert formats == {
            "CSV": (URIRef(EU + "file-type/CSV"), URIRef(IANA + "text/csv")),
            "JSON": (URIRef(EU + "file-type/JSON"), URIRef(IANA + "application/json")),
            "XLSX": (URIRef(EU + "file-type/XLSX"),
                     URIRef(IANA + "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))}
        assert URIRef("https://semiceu.github.io/CPSV-AP/releases/3.2.0/") in set(g.objects(dataset, DCT.conformsTo))
        publisher = g.value(dataset, DCT.publisher)
        assert g.value(publisher, FOAF.name) == Literal("滨江市市场监督管理局")
        assert Literal("Government and public sector", lang="en") in set(
            g.objects(g.value(dataset, DCAT.theme), SKOS.prefLabel))
        # the statistics table: its API and its CSV dump, and its data dictionary
        shown = helpers.call_action("package_show", id="service-statistics")
        [table] = [r for r in shown["resources"] if r.get("datastore_active")]
        g = served(app, "/dataset/service-statistics.ttl")
        [distribution] = g.objects(URIRef(f"{BASE}/dataset/{shown['id']}"), DCAT.distribution)
        assert g.value(distribution, DCAT.accessURL) == URIRef(
            f"{BASE}/api/3/action/datastore_search?resource_id={table['id']}")
        assert g.value(distribution, DCAT.downloadURL) == URIRef(f"{BASE}/datastore/dump/{table['id']}")
        assert g.value(distribution, DCT["format"]) == URIRef(EU + "file-type/CSV")
        dictionary = URIRef(f"{BASE}/api/3/action/datastore_info?id={table['id']}")
        assert g.value(distribution, DCT.conformsTo) == dictionary
        assert Literal("Service performance statistics data dictionary (columns, types, zh/en notes)",
                       lang="en") in set(g.objects(dictionary, DCT.title))
        # the department's file conforms to the same dictionary
        department_file = served(app, "/dataset/market-regulation-service-statistics.ttl")
        assert (None, DCT.conformsTo, dictionary) in department_file

    def test_ckanext_dcats_parser_reads_back_every_field_we_publish(self, app, published):
        from ckanext.dcat.processors import RDFParser
        parser = RDFParser()   # the profiles ckan.ini names: govservice_dcat_ap_3 cpsv_ap
        parser.parse(app.get("/catalog.ttl").get_data(as_text=True), _format="turtle")
        read = {d["title"]: d for d in parser.datasets()}
        assert len(read) == len(self.NAMES)   # the services are CPSV-AP's reader's (test_cpsv_endpoints)
        for name in self.NAMES:
            shown = helpers.call_action("package_show", id=name)
            got = read[shown["title"]]
            assert got["notes"] == shown["notes"], name
            assert got["license_id"] == shown["license_id"], name
            extras = {e["key"]: e["value"] for e in got["extras"]}
            own = {e["key"]: e["value"] for e in shown.get("extras", [])}.get("publisher_name")
            assert extras["publisher_name"] == (own or shown["organization"]["title"]), name
            assert sorted(resource_fields(r) for r in got["resources"]) == sorted(
                resource_fields(published_as(r)) for r in shown["resources"]), name

    def test_our_ckan_reader_reads_the_catalogues_services_back_whole(self, app, published):
        from govharvest import ckan_reader
        from govharvest.compare import RECORD_ID
        from govharvest.normalise import FIELDS
        url = ckan_reader.search_url("", "market-regulation", None, ckan_reader.PAGE_ROWS)
        found = app.get(url).json["result"]["results"]
        assert len(found) == 2
        for dataset in found:
            record = ckan_reader.record(dataset)
            shown = helpers.call_action("package_show", id=dataset["name"])
            assert record[RECORD_ID] == f"market-regulation/{shown['service_code']}"
            for field in FIELDS:
                if field not in ("name", "owner_org"):
                    assert record.get(field) == shown.get(field), field
