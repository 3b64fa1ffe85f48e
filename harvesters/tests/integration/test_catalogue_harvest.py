"""One network (issue 16) harvested: the basic item catalogue (基本目录) and the
document catalogue (材料目录) as sources of their own, through the same
pipeline as services, and services that name them (basic_code,
implementation_code, document codes) landing or rejected with field and reason."""
import csv
import io
import json
import os
import subprocess
import time

import pytest

from govharvest import db, pipeline, queue, sources

from test_pipeline import harvest, rewrite, services_of
from test_running import GOVHARVEST

ITEM_FOOD = {"basic_code": "BI-FOOD", "title": "食品经营许可", "title_en": "Food business licence",
             "service_type": "administrative_licence", "set_by_level": "province",
             "legal_basis": [{"title": "中华人民共和国食品安全法", "article": "第三十五条"}],
             "statutory_limit": 20, "standard_limit": 10, "standard_visits": 1,
             "standard_documents": [{"code": "DOC-ID", "name": "居民身份证"}]}
ITEM_HYGIENE = {"basic_code": "BI-HYG", "title": "公共场所卫生许可",
                "service_type": "administrative_licence", "statutory_limit": 20}
ITEM_BAD_TYPE = {"basic_code": "BI-BAD", "title": "类型不明的事项", "service_type": "no_such_type"}

DOCUMENT_HEADER = ["材料编码", "材料名称", "别名", "出具单位", "政府已掌握"]
DOC_ID = ["DOC-ID", "居民身份证", "身份证、二代身份证", "公安机关", "electronic_licence"]
DOC_HOUSEHOLD = ["DOC-HH", "居民户口簿", "户口本", "公安机关", "no"]
DOC_BAD_HOLDS = ["DOC-BAD", "营业执照", "", "市场监督管理部门", "perhaps"]

SERVICE_COLUMNS = ["service_code", "title_zh", "service_type", "audience", "statutory_limit",
                   "committed_limit", "in_person_visits"]


def add(department, name, kind, fmt, location):
    with db.connect() as conn:
        return sources.add(conn, name=name, department=department["name"], kind=kind, format=fmt,
                           location=location, withdraw_threshold=1.0)


def write_items(folder, items, name="basic_items.json"):
    rewrite(folder / name, json.dumps({"basic_items": items, "next": None},
                                      ensure_ascii=False).encode("utf-8"))


def write_csv(path, header, rows, encoding="utf-8"):
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    rewrite(path, text.getvalue().encode(encoding))


def service_row(code, **extra):
    return {"service_code": code, "title_zh": f"事项{code}", "service_type": "administrative_licence",
            "audience": "business", "statutory_limit": "20", "committed_limit": "5",
            "in_person_visits": "1", **extra}


def write_services(folder, rows):
    header = list(dict.fromkeys(k for row in rows for k in row))
    write_csv(folder / "services.csv", header, [[row.get(k, "") for k in header] for row in rows])


def catalogue_entries(portal, dataset_type, department):
    found = portal.action.package_search(
        fq=f"dataset_type:{dataset_type} AND owner_org:{department['id']}", rows=100,
        include_private=True)["results"]
    return {d["name"]: d for d in found}


# ------------------------------------------------------------ the basic item catalogue

@pytest.fixture
def items_source(portal, department, harvest_db, feed_server):
    folder, url = feed_server
    add(department, "province-items", "basic_items", "json", f"{url}/basic_items.json")
    return folder


def test_a_basic_items_feed_adds_items_owned_by_the_catalogues_publisher(portal, department, items_source):
    write_items(items_source, [ITEM_FOOD, ITEM_HYGIENE])

    report = harvest(portal, "province-items")

    assert report["status"] == "done"
    assert report["counts"] == {"new": 2, "changed": 0, "unchanged": 0, "withdrawn": 0,
                                "rejected": 0, "held": 0}
    item = portal.action.package_show(id="item-bi-food")
    assert (item["type"], item["owner_org"], item["basic_code"]) == ("basic_item", department["id"], "BI-FOOD")
    assert (item["statutory_limit"], item["standard_limit"], item["standard_visits"]) == (20, 10, 1)
    assert item["standard_documents"][0]["code"] == "DOC-ID"
    assert (item["source"], item["source_record_id"]) == ("province-items", "BI-FOOD")


def test_a_basic_item_the_platform_refuses_is_rejected_with_field_and_reason(portal, department, items_source):
    write_items(items_source, [ITEM_FOOD, ITEM_BAD_TYPE])

    report = harvest(portal, "province-items")

    assert report["counts"]["new"] == 1 and report["counts"]["rejected"] == 1
    rejected, = report["rejected"]
    assert rejected["record"] == "BI-BAD"
    assert list(rejected["errors"]) == ["service_type"]
    assert rejected["errors"]["service_type"][0].startswith("item 2: ")
    assert sorted(catalogue_entries(portal, "basic_item", department)) == ["item-bi-food"]


def test_a_basic_item_without_its_code_is_rejected_naming_the_basic_code(portal, department, items_source):
    write_items(items_source, [ITEM_FOOD, {"title": "没有编码的事项", "service_type": "public_service"}])

    report = harvest(portal, "province-items")

    rejected, = report["rejected"]
    assert rejected["errors"] == {"basic_code": [
        "item 2: is missing: every record needs its basic item code (基本编码)"]}


def test_a_changed_basic_item_is_reported_field_by_field(portal, department, items_source):
    write_items(items_source, [ITEM_FOOD, ITEM_HYGIENE])
    harvest(portal, "province-items")
    write_items(items_source, [{**ITEM_FOOD, "standard_limit": 7}, ITEM_HYGIENE])

    report = harvest(portal, "province-items")

    assert report["counts"]["changed"] == 1 and report["counts"]["unchanged"] == 1
    assert report["changed"] == [{"record": "BI-FOOD", "changes": [
        {"field": "standard_limit", "old": 10, "new": 7}]}]
    assert portal.action.package_show(id="item-bi-food")["standard_limit"] == 7


def test_a_basic_item_gone_from_its_source_is_withdrawn_not_deleted(portal, department, items_source):
    write_items(items_source, [ITEM_FOOD, ITEM_HYGIENE])
    harvest(portal, "province-items")
    write_items(items_source, [ITEM_FOOD])

    report = harvest(portal, "province-items")

    assert report["withdrawn"] == ["BI-HYG"]
    gone = portal.action.package_show(id="item-bi-hyg")
    assert (gone["state"], gone["status"]) == ("active", "withdrawn")
    assert portal.action.package_show(id="item-bi-food")["status"] == "active"


def test_a_basic_items_source_refuses_a_services_only_format(department, harvest_db):
    with db.connect() as conn, pytest.raises(sources.SourceError) as refused:
        sources.add(conn, name="items-rdf", department=department["name"], kind="basic_items",
                    format="cpsv", location="https://zwfw.example.gov.cn/items.ttl")
    assert str(refused.value) == ("format: a basic_items source is read as one of csv, xlsx, json, "
                                  "json-file, ckan (got 'cpsv')")


# ------------------------------------------------------------ the document catalogue

@pytest.fixture
def documents_source(portal, department, harvest_db, feed_server):
    folder, url = feed_server
    add(department, "province-documents", "documents", "csv", f"{url}/documents.csv")
    return folder


def test_a_documents_csv_in_gbk_with_chinese_headers_adds_documents(portal, department, documents_source):
    write_csv(documents_source / "documents.csv", DOCUMENT_HEADER, [DOC_ID, DOC_HOUSEHOLD], "gbk")

    report = harvest(portal, "province-documents")

    assert report["counts"]["new"] == 2
    document = portal.action.package_show(id="document-doc-id")
    assert (document["type"], document["owner_org"]) == ("document", department["id"])
    assert document["aliases"] == ["身份证", "二代身份证"]
    assert (document["government_holds"], document["issuing_authority"]) == ("electronic_licence", "公安机关")


def test_a_document_with_an_unknown_holding_is_rejected_and_the_others_land(portal, department, documents_source):
    write_csv(documents_source / "documents.csv", DOCUMENT_HEADER, [DOC_ID, DOC_BAD_HOLDS])

    report = harvest(portal, "province-documents")

    assert report["counts"]["new"] == 1
    rejected, = report["rejected"]
    assert rejected["record"] == "DOC-BAD"
    assert list(rejected["errors"]) == ["government_holds"]
    assert rejected["errors"]["government_holds"][0].startswith("line 3: ")
    assert sorted(catalogue_entries(portal, "document", department)) == ["document-doc-id"]


def test_documents_changed_and_withdrawn_at_the_source_follow_in_ckan(portal, department, documents_source):
    write_csv(documents_source / "documents.csv", DOCUMENT_HEADER, [DOC_ID, DOC_HOUSEHOLD])
    harvest(portal, "province-documents")
    write_csv(documents_source / "documents.csv", DOCUMENT_HEADER,
              [DOC_ID[:2] + ["身份证"] + DOC_ID[3:]])

    report = harvest(portal, "province-documents")

    assert report["changed"] == [{"record": "DOC-ID", "changes": [
        {"field": "aliases", "old": "身份证、二代身份证", "new": "身份证"}]}]
    assert report["withdrawn"] == ["DOC-HH"]
    assert portal.action.package_show(id="document-doc-id")["aliases"] == ["身份证"]
    assert portal.action.package_show(id="document-doc-hh")["status"] == "withdrawn"


# ------------------------------------------------------------ services naming the network

@pytest.fixture
def network(portal, department, harvest_db, feed_server):
    """The basic item and document catalogues harvested, and a services CSV source
    "services" of the same department, served from the returned folder."""
    folder, url = feed_server
    add(department, "province-items", "basic_items", "json", f"{url}/basic_items.json")
    add(department, "province-documents", "documents", "csv", f"{url}/documents.csv")
    add(department, "services", "services", "csv", f"{url}/services.csv")
    write_items(folder, [ITEM_FOOD, ITEM_HYGIENE])
    write_csv(folder / "documents.csv", DOCUMENT_HEADER, [DOC_ID, DOC_HOUSEHOLD])
    assert harvest(portal, "province-items")["counts"]["new"] == 2
    assert harvest(portal, "province-documents")["counts"]["new"] == 2
    return folder


def test_services_naming_basic_items_implementation_codes_and_document_codes_land(portal, department, network):
    documents = json.dumps([{"code": "DOC-ID", "name": "居民身份证"}, {"name": "户口本"}], ensure_ascii=False)
    write_services(network, [
        service_row("SC-1", basic_code="BI-FOOD", implementation_code="IMPL-SC-1", documents=documents),
        service_row("SC-2", basic_code="BI-HYG", implementation_code="IMPL-SC-2")])

    report = harvest(portal, "services")

    assert report["counts"]["new"] == 2 and report["rejected"] == []
    service = services_of(portal, department)["SC-1"]
    assert (service["basic_code"], service["implementation_code"]) == ("BI-FOOD", "IMPL-SC-1")
    assert [(d.get("code"), d["name"]) for d in service["documents"]] == [("DOC-ID", "居民身份证"), (None, "户口本")]


def test_the_old_local_code_column_lands_as_the_implementation_code(portal, department, network):
    write_services(network, [service_row("SC-1", local_code="IMPL-OLD-1")])

    report = harvest(portal, "services")

    assert report["counts"]["new"] == 1
    assert services_of(portal, department)["SC-1"]["implementation_code"] == "IMPL-OLD-1"


def test_a_service_naming_an_unknown_basic_code_is_rejected_and_the_good_ones_land(portal, department, network):
    write_services(network, [service_row("SC-1", basic_code="BI-FOOD"),
                             service_row("SC-2", basic_code="BI-NOWHERE")])

    report = harvest(portal, "services")

    assert report["counts"]["new"] == 1
    rejected, = report["rejected"]
    assert rejected["record"] == "SC-2"
    assert list(rejected["errors"]) == ["basic_code"]
    assert rejected["errors"]["basic_code"][0].startswith("line 3: ")
    assert "BI-NOWHERE" in rejected["errors"]["basic_code"][0]
    assert sorted(services_of(portal, department)) == ["SC-1"]


def test_an_implementation_code_used_twice_is_rejected_and_the_published_one_stays(portal, department, network):
    write_services(network, [service_row("SC-1", implementation_code="IMPL-SAME")])
    harvest(portal, "services")
    write_services(network, [service_row("SC-1", implementation_code="IMPL-SAME"),
                             service_row("SC-2", implementation_code="IMPL-SAME")])

    report = harvest(portal, "services")

    rejected, = report["rejected"]
    assert rejected["record"] == "SC-2" and list(rejected["errors"]) == ["implementation_code"]
    assert rejected["errors"]["implementation_code"][0].startswith("line 3: ")
    assert services_of(portal, department)["SC-1"]["implementation_code"] == "IMPL-SAME"
    assert "SC-2" not in services_of(portal, department)


def test_a_service_naming_an_unknown_document_code_is_rejected_with_the_documents_field(portal, department, network):
    documents = json.dumps([{"code": "DOC-NOWHERE", "name": "不存在的材料"}], ensure_ascii=False)
    write_services(network, [service_row("SC-1"), service_row("SC-2", documents=documents)])

    report = harvest(portal, "services")

    rejected, = report["rejected"]
    assert rejected["record"] == "SC-2" and list(rejected["errors"]) == ["documents"]
    assert "DOC-NOWHERE" in rejected["errors"]["documents"][0]
    assert sorted(services_of(portal, department)) == ["SC-1"]


def test_a_basic_item_withdrawn_at_its_source_keeps_its_implementations(portal, department, network):
    write_services(network, [service_row("SC-1", basic_code="BI-HYG")])
    harvest(portal, "services")
    write_items(network, [ITEM_FOOD])

    assert harvest(portal, "province-items")["withdrawn"] == ["BI-HYG"]

    assert portal.action.package_show(id="item-bi-hyg")["status"] == "withdrawn"
    kept = services_of(portal, department)["SC-1"]
    assert (kept["status"], kept["basic_code"]) == ("active", "BI-HYG")
    # the platform flags it (network.py); another web worker may take its 30 s to see the withdrawal
    deadline = time.monotonic() + 40
    while True:
        flags = portal.action.package_show(id=kept["name"])["network"]["flags"]
        if flags or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert [(f["field"], f["flag"]) for f in flags] == [("basic_code", "basic_item_withdrawn")]


def test_a_published_service_changed_to_an_unknown_basic_code_keeps_its_published_version(
        portal, department, network):
    write_services(network, [service_row("SC-1", basic_code="BI-FOOD")])
    harvest(portal, "services")
    write_services(network, [service_row("SC-1", basic_code="BI-NOWHERE", title_zh="改了名字")])

    report = harvest(portal, "services")

    assert report["counts"]["rejected"] == 1 and report["counts"]["changed"] == 0
    assert list(report["rejected"][0]["errors"]) == ["basic_code"]
    published = services_of(portal, department)["SC-1"]
    assert (published["basic_code"], published["title"]) == ("BI-FOOD", "事项SC-1")


# ------------------------------------------------------------ catalogues before services

@pytest.fixture
def harvest_queue(settings, monkeypatch):
    monkeypatch.setenv("GOVHARVEST_REDIS_URL", settings["GOVHARVEST_TEST_REDIS_URL"])
    # the harvest test Redis db: messages of an earlier test's job ids (the harvest
    # database restarts its ids) would keep what they waited for
    queue.redis_connection().flushdb()
    return queue


def test_due_catalogue_sources_run_before_the_services_that_name_them(portal, department, harvest_db,
                                                                      feed_server, harvest_queue):
    folder, url = feed_server
    # the services source is older and sorts first by name: only the kind puts it last
    add(department, "a-services", "services", "csv", f"{url}/services.csv")
    add(department, "z-items", "basic_items", "json", f"{url}/basic_items.json")
    write_items(folder, [ITEM_FOOD])
    write_services(folder, [service_row("SC-1", basic_code="BI-FOOD")])
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("UPDATE source SET schedule = '*/5 * * * *', created_at = now() - interval '1 hour'")

    queued = queue.schedule_once()
    with db.connect() as conn:
        by_source = {pipeline.report(conn, j)["source"]: j for j in queued}
    services_job, items_job = by_source["a-services"], by_source["z-items"]
    assert queued == [items_job, services_job]
    subprocess.run([GOVHARVEST, "worker", "--burst"], check=True, timeout=180, env=os.environ)

    with db.connect() as conn:
        items, services = db.job(conn, items_job), db.job(conn, services_job)
        services_report = pipeline.report(conn, services_job)
    assert items["finished_at"] <= services["started_at"]
    assert services_report["counts"]["new"] == 1 and services_report["rejected"] == []
    assert services_of(portal, department)["SC-1"]["basic_code"] == "BI-FOOD"


def test_a_services_job_waits_on_the_queue_for_the_catalogue_jobs_of_its_tick(department, harvest_db,
                                                                                feed_server, harvest_queue):
    from rq.job import Job
    folder, url = feed_server
    add(department, "services", "services", "csv", f"{url}/services.csv")
    add(department, "items", "basic_items", "json", f"{url}/basic_items.json")
    add(department, "documents", "documents", "csv", f"{url}/documents.csv")
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("UPDATE source SET schedule = '*/5 * * * *', created_at = now() - interval '1 hour'")

    documents_job, items_job, services_job = queue.schedule_once()

    waits = Job.fetch(queue.message_id(services_job), connection=queue.redis_connection())
    assert sorted(waits.dependency_ids) == sorted([queue.message_id(documents_job), queue.message_id(items_job)])
    first = Job.fetch(queue.message_id(items_job), connection=queue.redis_connection())
    assert first.dependency_ids == []


# ------------------------------------------------------------ the rest of a service guide, from every reader

GUIDE = {
    "basic_code": "BI-FOOD", "implementation_code": "IMPL-GUIDE-1",
    "co_departments": [{"name": "滨江市卫生健康委员会", "role": "现场核查"}],
    "intermediary_services": [{"name": "卫生检测", "provider": "有资质的检测机构", "legal_basis": "食品安全法"}],
    "documents": [{"code": "DOC-ID", "name": "居民身份证"}],
    "process_steps": [{"name": "受理", "time_limit": 1, "time_limit_unit": "working_days"},
                      {"name": "决定", "time_limit": 3, "time_limit_unit": "working_days"}],
    "special_procedures": [{"name": "现场核查", "time_limit": 5, "time_limit_unit": "working_days",
                            "description": "不计入办结时限"}],
    "handling_scope": "citywide", "output_validity": 5, "output_validity_unit": "years",
    "output_sample_url": "https://zwfw.example.gov.cn/samples/food.pdf",
    "contact_points": [{"purpose": "complaint", "email": "ts@example.gov.cn", "address": "滨江市人民路1号"}],
}


def assert_guide_landed(service):
    for name, sent in GUIDE.items():
        got = service[name]
        if isinstance(sent, list):   # the platform fills defaults of the rows' other keys
            got = [{k: row.get(k) for k in sent_row} for row, sent_row in zip(got, sent)]
        assert got == sent, name


def test_a_json_feed_carries_every_new_guide_field(portal, department, network, feed_server):
    folder, url = feed_server
    service = {"service_code": "SC-G", "title": "食品经营许可（新办）", "service_type": "administrative_licence",
               "audience": "business", "statutory_limit": 20, "committed_limit": 5, "in_person_visits": 1,
               **GUIDE}
    rewrite(folder / "services.json", json.dumps({"services": [service], "next": None},
                                                 ensure_ascii=False).encode("utf-8"))
    add(department, "services-json", "services", "json", f"{url}/services.json")

    report = harvest(portal, "services-json")

    assert report["counts"]["new"] == 1, report["rejected"]
    assert_guide_landed(services_of(portal, department)["SC-G"])


def test_an_xlsx_written_with_the_schemas_columns_carries_every_new_guide_field(portal, department, network,
                                                                                  feed_server):
    from ckanext.govservice.core import tabular
    folder, url = feed_server
    service = {"service_code": "SC-X", "title": "食品经营许可（延续）", "owner_org": department["name"],
               "service_type": "administrative_licence", "audience": "business", "statutory_limit": 20,
               "committed_limit": 5, "in_person_visits": 1, **GUIDE, "implementation_code": "IMPL-GUIDE-2"}
    tabular.write_xlsx([tabular.service_row(service)], folder / "services.xlsx")
    add(department, "services-xlsx", "services", "xlsx", f"{url}/services.xlsx")

    report = harvest(portal, "services-xlsx")

    assert report["counts"]["new"] == 1, report["rejected"]
    landed = services_of(portal, department)["SC-X"]
    assert landed["implementation_code"] == "IMPL-GUIDE-2"
    GUIDE_X = {**GUIDE, "implementation_code": "IMPL-GUIDE-2"}
    for name in GUIDE_X:
        if not isinstance(GUIDE_X[name], list):
            assert landed[name] == GUIDE_X[name], name
    assert [s["time_limit"] for s in landed["process_steps"]] == [1, 3]
    assert landed["contact_points"][0]["email"] == "ts@example.gov.cn"
