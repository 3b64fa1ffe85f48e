"""Stop the real Solr: health says so clearly, CKAN does not crash; then Solr comes back."""
import pytest

from ckan.tests import helpers

from .stackctl import stack

pytestmark = pytest.mark.stack


@pytest.fixture
def solr_stopped():
    stack("stop", "solr")
    try:
        yield
    finally:
        stack("start", "solr")   # waits until the core answers ping again


@pytest.mark.usefixtures("with_plugins", "solr_stopped")
def test_health_reports_a_stopped_solr_as_down(portal, anonymous_portal):
    in_process = helpers.call_action("govservice_health")
    over_http = portal.action.govservice_health()   # a sysadmin sees the reason
    assert anonymous_portal.action.govservice_health()["services"]["solr"] == {"status": "down"}

    for result in (in_process, over_http):
        solr = result["services"]["solr"]
        assert result["status"] == "degraded"
        assert solr["status"] == "down"
        assert solr["error"].startswith("Solr is not reachable at http://127.0.0.1:8983/solr/ckan")
        assert result["services"]["postgresql"]["status"] == "up"
