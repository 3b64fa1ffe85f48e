"""The portal `make up` serves answers over real HTTP, through gunicorn, Solr and PostgreSQL."""
import uuid

import pytest

pytestmark = pytest.mark.stack


@pytest.fixture
def department(portal):
    name = f"test-dept-{uuid.uuid4().hex[:8]}"
    org = portal.action.organization_create(name=name, title="测试局 Test Bureau")
    yield org
    for dataset in portal.action.package_search(fq=f"owner_org:{org['id']}", include_private=True,
                                                rows=1000)["results"]:
        portal.action.dataset_purge(id=dataset["id"])
    portal.action.organization_purge(id=org["id"])


def test_a_dataset_created_over_http_is_found_by_a_chinese_search(portal, anonymous_portal, department):
    code = uuid.uuid4().hex[:8]
    portal.action.package_create(
        name=f"licence-{code}", title=f"企业营业执照核发 {code}", owner_org=department["id"],
        notes="Business licence issuance")

    found = anonymous_portal.action.package_search(q=f"营业执照 {code}")

    assert [d["name"] for d in found["results"]] == [f"licence-{code}"]
    assert found["results"][0]["organization"]["title"] == "测试局 Test Bureau"


def test_health_over_http_reports_the_portal_up(portal, anonymous_portal):
    # the details (hosts, versions, database names) are for sysadmins; anyone else gets up/down
    assert anonymous_portal.action.govservice_health()["services"]["postgresql"] == {"status": "up"}
    result = portal.action.govservice_health()

    assert result["status"] == "ok", result["services"]
    assert set(result["services"]) == {"ckan", "postgresql", "datastore", "solr", "redis", "job_worker"}
    assert result["services"]["postgresql"]["database"] == "govservice"
