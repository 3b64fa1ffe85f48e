"""govservice_health on the test site: every dependency probed for real, with versions
(how the report is put together is in unit/test_health_report.py)."""
import ckan
import pytest

from ckan.tests import factories, helpers


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


def test_health_is_public_but_tells_an_anonymous_caller_only_up_or_down():
    """Hosts, versions and database names help an attacker, not a monitor."""
    result = helpers.call_action("govservice_health", context={"user": "", "ignore_auth": False})

    assert result["status"] in ("ok", "degraded")
    assert set(result["services"]) == {"ckan", "postgresql", "datastore", "solr", "redis", "job_worker"}
    assert all(probe == {"status": probe["status"]} for probe in result["services"].values()), result
    assert "govservice_test" not in str(result) and ckan.__version__ not in str(result)


def test_a_logged_in_user_who_is_not_a_sysadmin_sees_only_up_or_down_too():
    user = factories.User()
    result = helpers.call_action("govservice_health", context={"user": user["name"], "ignore_auth": False})
    assert result["services"]["postgresql"] == {"status": "up"}


def test_a_sysadmin_sees_the_details(clean_db):
    admin = factories.Sysadmin()
    result = helpers.call_action("govservice_health", context={"user": admin["name"], "ignore_auth": False})
    assert result["services"]["postgresql"]["database"].startswith("govservice_test")
    assert result["services"]["ckan"]["version"] == ckan.__version__


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
