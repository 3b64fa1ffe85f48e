"""Open311 GeoReport v2 service list, served by the test site (one service's entry
is in unit/test_open311_entries.py)."""
from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from .. import factories as gov
from ..pages import fetch_json


@pytest.fixture
def market(clean_db, clean_index):
    sysadmin = {"user": gov.factories.Sysadmin()["name"]}
    dept = gov.department(name="market-regulation")
    other = gov.department(name="tax-bureau", title="滨江市税务局", title_en="Binjiang Tax Bureau")
    gov.service(dept["id"], context=dict(sysadmin), service_code="SC-0001", committed_limit=0,
                statutory_limit=0)
    gov.service(dept["id"], context=dict(sysadmin), service_code="SC-0002", status="withdrawn")
    gov.service(other["id"], context=dict(sysadmin), service_code="TX-0001", themes=["tax"])
    return dept


@pytest.mark.usefixtures("with_request_context")
class TestViews:
    def test_the_list_holds_active_services_of_every_department(self, app, market):
        body = fetch_json(app, "/open311/v2/services.json")
        assert sorted(s["service_code"] for s in body) == ["SC-0001", "TX-0001"]
        sc = next(s for s in body if s["service_code"] == "SC-0001")
        assert sc["type"] == "realtime" and sc["metadata"] is False
        assert sc["group"] == "滨江市市场监督管理局"

    def test_a_jurisdiction_is_a_department(self, app, market):
        body = fetch_json(app, "/open311/v2/services.json?jurisdiction_id=tax-bureau&locale=en")
        assert body == [{"service_code": "TX-0001", "service_name": "Business licence issuance",
                         "description": "为企业办理设立登记并核发营业执照。", "metadata": False,
                         "type": "batch", "keywords": "Tax", "group": "Binjiang Tax Bureau"}]

    def test_an_unknown_jurisdiction_is_404_in_open311_format(self, app, market):
        response = app.get("/open311/v2/services.json?jurisdiction_id=atlantis")
        assert response.status_code == 404
        assert response.json == [{"code": 404, "description":
                                  "unknown jurisdiction_id 'atlantis': no department has that name"}]

    def test_the_list_in_xml(self, app, market):
        response = app.get("/open311/v2/services.xml?jurisdiction_id=market-regulation")
        root = ET.fromstring(response.get_data())
        assert root.tag == "services"
        assert [s.findtext("service_code") for s in root.findall("service")] == ["SC-0001"]
        assert root.find("service/metadata").text == "false"

    def test_a_service_definition(self, app, market):
        body = fetch_json(app, "/open311/v2/services/SC-0001.json")
        assert body == {"service_code": "SC-0001", "attributes": []}

    def test_an_unknown_service_code_is_404(self, app, market):
        response = app.get("/open311/v2/services/NOPE.json")
        assert response.status_code == 404
        assert response.json == [{"code": 404, "description": "no service with service_code 'NOPE'"}]

    def test_a_service_definition_and_an_error_in_xml(self, app, market):
        root = ET.fromstring(app.get("/open311/v2/services/SC-0001.xml").get_data())
        assert root.tag == "service_definition" and root.findtext("service_code") == "SC-0001"
        response = app.get("/open311/v2/services.xml?jurisdiction_id=atlantis")
        assert response.status_code == 404
        error = ET.fromstring(response.get_data())
        assert (error.tag, error.findtext("error/code")) == ("errors", "404")
