"""The OpenAPI description of the govservice actions, and schemathesis against it."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from ckanext.govservice import openapi

from . import factories as gov


def test_every_govservice_action_is_described():
    doc = openapi.openapi_document(openapi.govservice_actions())
    assert doc["openapi"] == "3.1.0"
    assert {"/api/3/action/govservice_health", "/api/3/action/govservice_schema",
            "/api/3/action/govservice_service_show"} <= set(doc["paths"])


def test_parameters_come_from_the_docstring():
    doc = openapi.openapi_document(openapi.govservice_actions())
    show = doc["paths"]["/api/3/action/govservice_service_show"]
    body = show["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["service_code"]
    assert body["properties"]["department"]["description"].startswith("the department's name or id")
    assert [p["name"] for p in show["get"]["parameters"]] == ["service_code", "department"]
    assert show["get"]["summary"] == "Look a service up by its service code, the identifier departments use."
    assert show["get"]["responses"]["404"]["description"] == "no service has that code (in that department)"


def test_only_read_only_actions_get_a_get():
    doc = openapi.openapi_document(openapi.govservice_actions())
    assert "get" in doc["paths"]["/api/3/action/govservice_health"]
    assert "get" not in doc["paths"]["/api/3/action/govservice_catalogue_build"]


def test_a_docstring_with_continued_lines_is_parsed():
    def action(context, data_dict):
        """Do a thing.

        Longer prose.

        :param name: the name,
            over two lines
        :type name: string, optional
        :returns: a dict
        :rtype: dict
        :raises ObjectNotFound: when
            it is missing
        """
    parsed = openapi.parse_docstring(action.__doc__)
    assert parsed["summary"] == "Do a thing."
    assert parsed["description"] == "Longer prose."
    assert parsed["params"] == {"name": {"description": "the name, over two lines", "type": "string, optional"}}
    assert parsed["raises"] == {"ObjectNotFound": "when it is missing"}


@pytest.mark.usefixtures("with_request_context")
class TestServed:
    def test_the_description_is_served(self, app):
        response = app.get("/api/govservice/openapi.json")
        assert response.status_code == 200
        assert response.json["paths"]["/api/3/action/govservice_schema"]["get"]["operationId"] == "govservice_schema"

    def test_the_docs_page_is_plain_html_listing_every_action(self, app):
        page = app.get("/api/govservice/docs").get_data(as_text=True)
        assert "<script" not in page and "cdn" not in page.lower()
        for name in openapi.govservice_actions():
            assert f"/api/3/action/{name}" in page


# Found by schemathesis: a department with a NUL byte reached PostgreSQL and
# CKAN answered 500; it is now "not found".
@pytest.mark.usefixtures("clean_db", "with_request_context")
def test_a_department_with_a_nul_byte_is_not_a_server_error(app):
    response = app.get("/api/3/action/govservice_service_show",
                       query_string={"service_code": "SC-0001", "department": "a\x00b"})
    assert response.status_code in (404, 409)


@pytest.mark.usefixtures("clean_db", "clean_index", "with_request_context")
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis_finds_no_server_error_and_no_response_off_the_description(app, mode):
    dept = gov.department(name="market-regulation")
    gov.service(dept["id"], service_code="SC-0001")
    schema = schemathesis.openapi.from_wsgi("/api/govservice/openapi.json", app.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7

    doc = openapi.openapi_document(openapi.govservice_actions())
    for operation in operations:
        takes_nothing = not doc["paths"][operation.path].get(operation.method, {}).get("parameters", True)
        if mode == GenerationMode.NEGATIVE and takes_nothing:
            continue  # a GET without parameters has no invalid request to make

        @settings(max_examples=30, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case):
            case.call_and_validate()

        check()
