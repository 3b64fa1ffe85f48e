"""The OpenAPI description of the govservice actions, built from their docstrings
(served, and schemathesis against it, in integration/test_openapi_served.py)."""
from __future__ import annotations

from ckanext.govservice import openapi


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
