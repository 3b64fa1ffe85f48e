"""The stack is real: Solr search (Chinese and English), the DataStore and the job worker."""
import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import factories, helpers

from ..background import wait_for_job, write_note


def search(q, **params):
    return helpers.call_action("package_search", q=q, **params)


@pytest.fixture
def datasets(clean_db, clean_index):
    org = factories.Organization(name="market-regulation", title="市场监督管理局")
    licence = factories.Dataset(
        owner_org=org["id"], name="qiye-yingye-zhizhao", title="企业营业执照核发",
        notes="申请人需携带居民身份证复印件和公司章程。")
    english = factories.Dataset(
        owner_org=org["id"], name="food-permit", title="Food business licence issuance",
        notes="Apply online or at the service hall.")
    return licence, english


@pytest.mark.usefixtures("datasets")
class TestSolrSearch:
    def test_a_chinese_substring_of_the_title_finds_the_dataset(self):
        result = search("营业执照")
        assert [d["name"] for d in result["results"]] == ["qiye-yingye-zhizhao"]

    def test_a_chinese_word_inside_the_description_finds_the_dataset(self):
        assert [d["name"] for d in search("身份证")["results"]] == ["qiye-yingye-zhizhao"]

    def test_a_chinese_phrase_that_is_not_there_finds_nothing(self):
        assert search("驾驶证")["count"] == 0

    def test_english_search_stems_plurals(self):
        assert [d["name"] for d in search("licences")["results"]] == ["food-permit"]

    def test_facets_come_from_solr(self):
        result = search("*:*", **{"facet.field": '["organization"]'})
        assert result["count"] == 2
        assert result["search_facets"]["organization"]["items"][0]["count"] == 2


@pytest.mark.usefixtures("clean_db")
def test_datastore_create_then_search_sql_round_trips_rows():
    org = factories.Organization()
    resource = factories.Resource(name="月度统计", package_id=factories.Dataset(owner_org=org["id"])["id"])
    helpers.call_action(
        "datastore_create", context={"user": factories.Sysadmin()["name"]}, resource_id=resource["id"], force=True,
        fields=[{"id": "service_code", "type": "text"},
                {"id": "period", "type": "text"},
                {"id": "received", "type": "int"}],
        primary_key=["service_code", "period"],
        records=[{"service_code": "SC-001", "period": "2026-01", "received": 120},
                 {"service_code": "SC-001", "period": "2026-02", "received": 95},
                 {"service_code": "SC-002", "period": "2026-01", "received": 7}])

    result = helpers.call_action(
        "datastore_search_sql",
        sql=f'SELECT period, received FROM "{resource["id"]}" '
            "WHERE service_code = 'SC-001' ORDER BY period")

    assert [(r["period"], r["received"]) for r in result["records"]] == [
        ("2026-01", 120), ("2026-02", 95)]


@pytest.mark.usefixtures("clean_db", "clean_queues")
def test_a_background_job_is_run_by_the_worker(job_worker):
    dataset = factories.Dataset(notes="before", owner_org=factories.Organization()["id"])

    job = tk.enqueue_job(write_note, [dataset["id"], "written by the worker"])

    assert wait_for_job(job) == "finished"
    assert helpers.call_action("package_show", id=dataset["id"])["notes"] == "written by the worker"
