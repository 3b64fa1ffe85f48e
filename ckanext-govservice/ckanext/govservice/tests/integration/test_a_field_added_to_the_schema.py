"""A field added to service.yaml, and nothing else, reaches everything the schema drives.

Two fields are added to a copy of the schema (a faceted text with an RDF
mapping, and a whole number), and the test site is loaded with that copy:
scheming validates and shows them in the form, the index makes a facet of
one, the page's RDF and the bulk files carry it, and the feed templates have
its column. No code names either field.
"""
from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import pytest
import yaml
from rdflib import Graph, Literal

import ckan.plugins.toolkit as tk
from ckan.plugins.core import plugins_update
from ckan.tests import factories, helpers

from ckanext.govservice.core import cpsv, schema, tabular

from .. import factories as gov
from ..pages import fetch

REPO = Path(__file__).resolve().parents[5]
NEW_FIELDS = [
    {"field_name": "accessibility", "label": {"zh_Hans_CN": "无障碍设施", "en": "Accessibility"},
     "help_text": {"zh_Hans_CN": "办事场所的无障碍设施。", "en": "Step-free access and other help at the office."},
     "validators": "ignore_missing unicode_safe strip_value",
     "govservice_column": "accessibility", "govservice_facet": "accessibility",
     "cpsv": "gs:accessibility"},
    {"field_name": "parking_spaces", "label": {"zh_Hans_CN": "停车位", "en": "Parking spaces"},
     "validators": "ignore_missing govservice_natural_number",
     "output_validators": "govservice_natural_number",
     "govservice_column": "parking_spaces"},
]


@pytest.fixture
def new_schema(tmp_path, monkeypatch, clean_db, clean_index):
    """The test site, with service.yaml's copy holding the new fields, for scheming and the core alike."""
    service = copy.deepcopy(schema.load("service"))
    fields = service["dataset_fields"]
    at = next(i for i, f in enumerate(fields) if f["field_name"] == "contact_phone")
    fields[at:at] = NEW_FIELDS
    path = tmp_path / "service.yaml"
    path.write_text(yaml.safe_dump(service, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setitem(tk.config, "scheming.dataset_schemas", path.as_uri())
    with schema.use_schema("service", path):
        plugins_update()   # scheming reads its schemas when the plugins are configured
        yield
    monkeypatch.undo()
    plugins_update()


@pytest.fixture
def publisher(new_schema):
    return {"user": factories.Sysadmin()["name"]}, gov.department(name="market-regulation")


def test_the_new_fields_are_validated_and_kept(publisher):
    context, dept = publisher
    with pytest.raises(tk.ValidationError) as e:
        gov.service(dept["id"], context=dict(context), parking_spaces="many")
    assert e.value.error_dict["parking_spaces"] == ["must be a whole number, not 'many'"]
    service = gov.service(dept["id"], context=dict(context), accessibility="无障碍坡道", parking_spaces="12")
    assert (service["accessibility"], service["parking_spaces"]) == ("无障碍坡道", 12)


def test_the_form_asks_for_them(app, publisher):
    context, _ = publisher
    token = factories.APIToken(user=context["user"])["token"]
    form = fetch(app, "/service/new", headers={"Authorization": token})
    assert 'name="accessibility"' in form and "无障碍设施" in form
    assert 'name="parking_spaces"' in form


def test_the_faceted_one_is_searchable(publisher):
    context, dept = publisher
    gov.service(dept["id"], context=dict(context), accessibility="无障碍坡道")
    found = helpers.call_action("package_search", fq='accessibility_ss:"无障碍坡道"',
                                **{"facet.field": '["accessibility_ss"]'})
    assert found["count"] == 1
    assert found["facets"]["accessibility_ss"] == {"无障碍坡道": 1}


@pytest.mark.usefixtures("with_request_context")
def test_the_page_rdf_and_the_bulk_files_carry_them(app, publisher):
    context, dept = publisher
    service = gov.service(dept["id"], context=dict(context), name="business-licence",
                          accessibility="无障碍坡道", parking_spaces=12)
    g = Graph().parse(data=fetch(app, "/service/business-licence.ttl"), format="turtle")
    accessibility = cpsv.terms_namespace(tk.config["ckan.site_url"].rstrip("/")).accessibility
    assert (None, accessibility, Literal("无障碍坡道")) in g
    row = tabular.service_row(helpers.call_action("package_show", id=service["id"]))
    assert (row["accessibility"], row["parking_spaces"]) == ("无障碍坡道", 12)


def test_the_feed_templates_have_their_columns(new_schema):
    spec = importlib.util.spec_from_file_location("make_templates_new_field", REPO / "datasets" / "make_templates.py")
    templates = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(templates)
    assert {"Accessibility", "Parking spaces"} <= set(templates.service_header("en"))
    header = templates.services_csv().decode("utf-8-sig").splitlines()[0].split(",")
    assert {"无障碍设施", "停车位"} <= set(header)
