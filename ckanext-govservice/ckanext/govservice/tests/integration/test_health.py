"""govservice_health on the test site: every dependency probed for real, with versions
(how the report is put together is in unit/test_health_report.py)."""
import ckan
import pytest

from ckan.tests import helpers


def test_every_service_is_up_with_its_version(job_worker):
    result = helpers.call_action("govservice_health")

    services = result["services"]
    assert result["status"] == "ok", services
    assert services["ckan"]["version"] == ckan.__version__ == "2.12.0"
    assert services["postgresql"]["version"].startswith("15.")
    # govservice_test, or govservice_test_N in test slot N
    assert services["postgresql"]["database"].startswith("govservice_test")
    assert services["datastore"]["read_role"] == "govservice_datastore_ro"
    assert services["solr"]["version"].startswith("9.10.1")
    assert services["redis"]["version"]
    assert services["job_worker"]["workers"] >= 1


def test_health_is_public():
    result = helpers.call_action("govservice_health", context={"user": "", "ignore_auth": False})
    assert "services" in result


@pytest.mark.ckan_config("solr_url", "http://127.0.0.1:9/solr/ckan")
def test_an_unreachable_solr_is_reported_down_with_its_address():
    result = helpers.call_action("govservice_health")

    assert result["status"] == "degraded"
    assert result["services"]["solr"]["status"] == "down"
    assert "http://127.0.0.1:9/solr/ckan" in result["services"]["solr"]["error"]
    assert result["services"]["postgresql"]["status"] == "up"


@pytest.mark.ckan_config("ckan.redis.url", "redis://:hunter2@127.0.0.1:9/0")
def test_a_dead_redis_is_reported_without_its_password():
    result = helpers.call_action("govservice_health")

    assert result["services"]["redis"]["status"] == "down"
    assert "hunter2" not in str(result)
