"""The OpenAPI description, built from the actions' docstrings and our schemas
(served, the reference page and the examples in integration/test_developer_portal.py
and integration/test_openapi_served.py)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from ckanext.govservice import fair_use, openapi
from ckanext.govservice.core import schema

REPO = Path(__file__).resolve().parents[5]


@pytest.fixture(scope="module")
def doc():
    return openapi.openapi_document(openapi.govservice_actions(), ckan=openapi.ckan_actions())


def test_the_description_is_valid_openapi_3_1(doc):
    validate(doc)
    assert doc["openapi"] == "3.1.0"


def test_every_govservice_action_and_the_ckan_actions_for_our_data_are_described(doc):
    paths = set(doc["paths"])
    assert {f"/api/3/action/{name}" for name in openapi.govservice_actions()} <= paths
    assert {"/api/3/action/package_search", "/api/3/action/package_show",
            "/api/3/action/organization_list", "/api/3/action/organization_show",
            "/api/3/action/datastore_search", "/api/3/action/datastore_search_sql"} <= paths


def test_parameters_come_from_the_docstring(doc):
    show = doc["paths"]["/api/3/action/govservice_service_show"]
    body = show["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["service_code"]
    assert body["properties"]["department"]["description"].startswith("the department's name or id")
    assert [p["name"] for p in show["get"]["parameters"]] == ["service_code", "department"]
    assert show["get"]["summary"] == "Look a service up by its service code, the identifier departments use."
    assert show["get"]["responses"]["404"]["description"] == "no service has that code (in that department)"


def test_only_read_only_actions_get_a_get(doc):
    assert "get" in doc["paths"]["/api/3/action/govservice_health"]
    assert "get" not in doc["paths"]["/api/3/action/govservice_catalogue_build"]
    assert "get" in doc["paths"]["/api/3/action/datastore_search_sql"]


def test_no_restructuredtext_markup_is_left_in_any_text(doc):
    texts = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("description", "summary") and isinstance(value, str):
                    texts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
    walk(doc["paths"])
    assert texts
    markup = re.compile(r"(?<!`)``(?!`)|:(py:)?[a-z]+:`|`_(\W|$)|^\.\. ", re.MULTILINE)
    raw = [markup.search(t).group(0) for t in texts if markup.search(t)]
    assert raw == []
    kpis = doc["paths"]["/api/3/action/govservice_kpis"]["get"]["description"]
    assert '`value` null: "no data", never 0.' in kpis


def test_restructuredtext_becomes_commonmark():
    text = ("Use ``fq`` with :py:func:`~ckan.logic.action.get.package_search`, see `Solr docs\n"
            "<https://solr.apache.org/>`_ and `dismax`_.\n\n.. note:: Only the first 10.\n\n"
            "An example::\n\n    {'count': 2}\n    more\n\nAfter.\n\n.. _dismax: http://example.org")
    assert openapi.rst_to_markdown(text) == (
        "Use `fq` with `package_search`, see [Solr docs](https://solr.apache.org/) and dismax.\n\n"
        "**Note:** Only the first 10.\n\nAn example:\n```\n{'count': 2}\nmore\n```\n\nAfter.")


def test_a_docstring_with_continued_lines_and_a_results_section_is_parsed():
    def action(context, data_dict):
        """Do a thing.

        Longer prose.

        :param name: the name,
            over two lines
        :type name: string, optional

        **Results:**

        :param count: how many
        :type count: int

        :returns: a dict
        :rtype: dict
        :raises ObjectNotFound: when
            it is missing
        """
    parsed = openapi.parse_docstring(action.__doc__)
    assert parsed["summary"] == "Do a thing."
    assert parsed["params"] == {"name": {"description": "the name, over two lines", "type": "string, optional"}}
    assert parsed["results"] == {"count": {"description": "how many", "type": "int"}}
    assert "* ``count``: how many" in parsed["description"]
    assert parsed["raises"] == {"ObjectNotFound": "when it is missing"}


def test_the_search_offers_our_facet_and_sort_fields(doc):
    search = doc["paths"]["/api/3/action/package_search"]
    body = search["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert body["facet.field"]["items"]["enum"] == list(schema.facet_fields().values())
    assert "themes_ss" in body["facet.field"]["items"]["enum"]
    for sortable in ("in_person_visits_i", "committed_days_f", "performance_on_time_rate_f", "metadata_modified"):
        assert f"`{sortable}`" in body["sort"]["description"]
    assert body["rows"]["type"] == "integer"
    assert {p["name"]: p["required"] for p in search["get"]["parameters"]}["q"] is False
    result = search["get"]["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["result"]
    assert result == {"$ref": "#/components/schemas/SearchResult"}


def test_the_service_schema_is_derived_from_service_yaml(doc):
    service = doc["components"]["schemas"]["Service"]
    fields = {f["field_name"]: f for f in schema.service_fields()}
    assert set(fields) <= set(service["properties"])
    assert {"service_code", "title", "service_type", "audience", "committed_limit",
            "in_person_visits"} <= set(service["required"])
    assert service["properties"]["service_type"]["enum"] == [c["value"] for c in fields["service_type"]["choices"]]
    assert service["properties"]["themes"]["items"]["enum"] == [c["value"] for c in fields["themes"]["choices"]]
    documents = service["properties"]["documents"]["items"]
    assert documents["required"] == ["name"]
    assert documents["properties"]["mandatory"]["type"] == ["boolean", "null"]
    assert service["properties"]["in_person_visits"] == {
        "type": "integer", "minimum": 0, "title": "In-person visits",
        "description": "In-person visits (到办事现场次数) How many times the applicant must come in person "
                       "at most; 0 means never. (申请人最多需要到现场几次；0 表示全程不用跑。) "
                       "Search on it as `in_person_visits_i` (`fq`, `facet.field`, `sort`)."}
    assert service["properties"]["committed_days"]["readOnly"] is True
    assert service["properties"]["valid_from"]["format"] == "date"


def test_a_field_added_to_service_yaml_is_in_the_description():
    changed = schema.load("service")
    changed = {**changed, "dataset_fields": [*changed["dataset_fields"], {
        "field_name": "appointment_url", "label": {"zh_Hans_CN": "预约网址", "en": "Appointment"},
        "validators": "ignore_missing govservice_web_url"}]}
    with schema.use_schema("service", changed):
        service = openapi.service_json_schema()
    assert service["properties"]["appointment_url"]["type"] == ["string", "null"]
    assert service["properties"]["appointment_url"]["format"] == "uri"


def test_the_statistics_rows_come_from_statistics_yaml(doc):
    row = doc["components"]["schemas"]["StatisticsRow"]
    columns = schema.statistics_columns()
    assert [name for name in row["properties"] if name != "_id"] == [c["name"] for c in columns]
    assert row["properties"]["completed"]["type"] == ["integer", "null"]
    assert row["properties"]["period"]["type"] == "string"
    assert row["properties"]["mean_processing_days"]["type"] == ["number", "null"]
    assert row["required"] == schema.required_statistics_columns()
    sql = doc["paths"]["/api/3/action/datastore_search_sql"]["post"]["requestBody"]["content"]
    assert "`completed_on_time`" in sql["application/json"]["schema"]["properties"]["sql"]["description"]


def test_examples_come_from_the_portals_data():
    service = {"name": "qyslj-330100-sjj-qr001-01", "title": "企业设立登记（有限责任公司）",
               "service_code": "330100-SJJ-QR001-01", "organization": {"name": "market-regulation"},
               "resources": [{"url": "x"}]}
    doc = openapi.openapi_document({}, ckan=openapi.ckan_actions(),
                                   examples={"service": service, "statistics_resource_id": "abc-123"})
    validate(doc)
    params = {p["name"]: p for p in doc["paths"]["/api/3/action/package_show"]["get"]["parameters"]}
    assert params["id"]["example"] == "qyslj-330100-sjj-qr001-01"
    org = {p["name"]: p for p in doc["paths"]["/api/3/action/organization_show"]["get"]["parameters"]}
    assert org["id"]["example"] == "market-regulation"
    sql = {p["name"]: p for p in doc["paths"]["/api/3/action/datastore_search_sql"]["get"]["parameters"]}
    assert sql["sql"]["example"].startswith('SELECT period, sum(completed) AS completed FROM "abc-123"')
    assert doc["components"]["schemas"]["Service"]["examples"][0]["service_code"] == "330100-SJJ-QR001-01"
    assert "resources" not in doc["components"]["schemas"]["Service"]["examples"][0]


def test_every_operation_documents_429_and_the_version(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert op["responses"]["429"] == {"$ref": "#/components/responses/TooManyRequests"}, (path, method)
    assert "Retry-After" in doc["components"]["responses"]["TooManyRequests"]["headers"]
    assert doc["info"]["version"] == openapi.API_VERSION


def test_the_changelog_is_at_the_apis_version():
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    first = re.search(r"^## (\d+\.\d+\.\d+)\b", changelog, re.MULTILINE)
    assert first and first.group(1) == openapi.API_VERSION
    assert "## Deprecation policy" in changelog


def test_the_description_is_json(doc):
    assert json.loads(json.dumps(doc)) == doc


# ---------------------------------------------------------------- fair use (pure parts)

def test_the_client_address_is_the_socket_unless_behind_trusted_proxies():
    assert fair_use.caller_address("10.0.0.5", "1.2.3.4", 0) == "10.0.0.5"
    assert fair_use.caller_address("10.0.0.5", "1.2.3.4", 1) == "1.2.3.4"
    # a client cannot choose its address by sending X-Forwarded-For itself
    assert fair_use.caller_address("10.0.0.5", "6.6.6.6, 1.2.3.4", 1) == "1.2.3.4"
    assert fair_use.caller_address("10.0.0.5", "", 1) == "10.0.0.5"


def test_only_the_action_api_is_counted():
    assert fair_use.is_action_api("/api/3/action/package_search")
    assert fair_use.is_action_api("/api/action/package_show")
    assert not fair_use.is_action_api("/api/i18n/zh_Hans_CN")
    assert not fair_use.is_action_api("/api/govservice/openapi.json")
    assert not fair_use.is_action_api("/service/abc")
