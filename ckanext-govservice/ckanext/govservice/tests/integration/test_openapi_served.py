"""The OpenAPI description served by the test site, and schemathesis against our
own actions in it (how it is built is in unit/test_openapi_description.py; the
reference page, examples and fair use in test_developer_portal.py)."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from ckanext.govservice import openapi

from .. import factories as gov


@pytest.mark.usefixtures("with_request_context")
class TestServed:
    def test_the_description_is_served(self, app):
        response = app.get("/api/govservice/openapi.json")
        assert response.status_code == 200
        assert response.json["paths"]["/api/3/action/govservice_schema"]["get"]["operationId"] == "govservice_schema"

    def test_the_description_lists_every_govservice_action(self, app):
        paths = app.get("/api/govservice/openapi.json").json["paths"]
        for name in openapi.govservice_actions():
            assert f"/api/3/action/{name}" in paths


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
    # Our actions only: the CKAN ones described beside them are CKAN's to fuzz.
    operations = [op for op in (result.ok() for result in schema.get_all_operations())
                  if op.path.startswith("/api/3/action/" + openapi.PREFIX)]
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
