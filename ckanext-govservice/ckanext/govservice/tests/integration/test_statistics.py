"""Statistics: the COPY loader's rules, upserts, "no data", the open dataset."""
from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage

import ckan.plugins.toolkit as tk
from ckan.tests import factories, helpers

from .. import factories as gov

COLUMNS = ("service_code,period,channel,received,completed,completed_on_time,completed_online,"
           "rating_very_satisfied,rating_satisfied,rating_basically_satisfied,rating_dissatisfied,"
           "rating_very_dissatisfied,ratings,bad_reviews,bad_reviews_rectified,no_data")
HEADER = COLUMNS + "\n"


@pytest.fixture
def services(statistics_db, sysadmin, dept):
    """Two services of the market regulation bureau: SR-1 and SR-2."""
    gov.service(dept["id"], service_code="SR-1", name="sr-1", themes=["business"])
    gov.service(dept["id"], service_code="SR-2", name="sr-2", themes=["business", "tax"],
                in_person_visits=0)
    return {"dept": dept, "context": sysadmin}


def load_csv(context, department, text: str, bom: bool = False):
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    upload = FileStorage(stream=io.BytesIO(data), filename="statistics.csv", content_type="text/csv")
    return helpers.call_action("govservice_statistics_load", context=dict(context),
                               department=department, upload=upload)


def table_id() -> str:
    dataset = helpers.call_action("package_show", id="service-statistics")
    return dataset["resources"][0]["id"]


def published(department: str = "market-regulation") -> list[dict]:
    found = helpers.call_action("datastore_search", resource_id=table_id(),
                                filters={"department": department}, limit=1000,
                                sort="service_code, period, channel")
    return found["records"]


def reasons(report) -> set[tuple]:
    return {(r["line"], r["field"], r["reason"]) for r in report["rejections"]}


def test_good_rows_land_and_bad_rows_come_back_with_line_field_and_reason(services):
    report = load_csv(services["context"], "market-regulation", HEADER
                      + "SR-1,2026-01,online,100,90,80,60,50,20,5,2,1,78,3,2,\n"
                      + "SR-1,2026-13,online,1,1,1,1,,,,,,,,,\n"
                      + "SR-9,2026-01,online,1,1,1,1,,,,,,,,,\n"
                      + "SR-2,2026-01,online,-4,1,1,1,,,,,,,,,\n"
                      + "SR-2,2026-02,online,10,5,6,1,,,,,,,,,\n"
                      + "SR-2,2026-03,online,10,5,5,6,,,,,,,,,\n"
                      + "SR-2,2026-04,online,,,,,5,4,0,1,0,9,1,2,\n"
                      + "SR-2,2026-05,online,,,,,5,4,0,1,0,11,1,0,\n"
                      + "SR-2,2099-01,online,1,1,1,1,,,,,,,,,\n"
                      + "SR-2,2026-06,fax,1,1,1,1,,,,,,,,,\n"
                      + "SR-2,2026-07,online,many,1,1,1,,,,,,,,,\n"
                      + "SR-2,2026-08,online,3,,,,,,,,,,,,true\n"
                      + ",2026-08,online,3,,,,,,,,,,,,\n")
    assert report["rows"] == 13
    assert (report["inserted"], report["rejected"]) == (1, 12)
    assert reasons(report) >= {
        (3, "period", "is not a month written as YYYY-MM"),
        (4, "service_code", "is not a service of department market-regulation in the catalogue"),
        (5, "received", "is negative; counts cannot be below zero"),
        (6, "completed_on_time", "is 6, more than the applications completed (5)"),
        (7, "completed_online", "is 6, more than the applications completed (5)"),
        (8, "bad_reviews_rectified", "is 2, more than the bad reviews (1)"),
        (9, "ratings", "is 11 but the five rating levels add up to 10"),
        (10, "period", "is in the future (this month is 2026-11)"),
        (11, "channel", "is not a channel of the platform "
                        "(online, mobile, in_person, self_service, phone, post)"),
        (12, "received", "is not a whole number"),
        (13, "no_data", "says there is no data, but the row has figures; "
                        "leave them empty for a month with no data"),
        (14, "service_code", "is missing"),
    }
    bad = next(r for r in report["rejections"] if r["line"] == 5)
    assert bad["record"] == "SR-2/2026-01/online"
    assert bad["value"] == "-4"
    rows = published()
    assert [(r["service_code"], r["period"], r["channel"], r["received"], r["completed_on_time"])
            for r in rows] == [("SR-1", "2026-01", "online", 100, 80)]


def test_resending_a_row_replaces_it_and_an_identical_row_changes_nothing(services):
    first = load_csv(services["context"], "market-regulation", HEADER
                     + "SR-1,2026-01,online,100,90,80,60,,,,,,,,,\n"
                     + "SR-1,2026-01,in_person,40,40,39,,,,,,,,,,\n")
    assert (first["inserted"], first["updated"], first["unchanged"]) == (2, 0, 0)
    again = load_csv(services["context"], "market-regulation", HEADER
                     + "SR-1,2026-01,online,100,95,80,60,,,,,,,,,\n"
                     + "SR-1,2026-01,in_person,40,40,39,,,,,,,,,,\n")
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 1, 1)
    rows = published()
    assert len(rows) == 2
    assert {r["channel"]: r["completed"] for r in rows} == {"online": 95, "in_person": 40}


def test_a_row_repeated_in_one_file_keeps_the_later_one(services):
    report = load_csv(services["context"], "market-regulation", HEADER
                      + "SR-1,2026-01,online,1,1,1,1,,,,,,,,,\n"
                      + "SR-1,2026-01,online,2,2,2,2,,,,,,,,,\n")
    assert (report["inserted"], report["rejected"]) == (1, 1)
    assert reasons(report) == {(2, "service_code", "is repeated at line 3; the later row is used")}
    assert [r["received"] for r in published()] == [2]


def test_no_data_is_kept_apart_from_zero(services):
    load_csv(services["context"], "market-regulation", HEADER
             + "SR-1,2026-01,online,,,,,,,,,,,,,是\n"
             + "SR-2,2026-01,online,0,0,0,0,,,,,,,,,\n")
    rows = {r["service_code"]: r for r in published()}
    assert rows["SR-1"]["no_data"] is True and rows["SR-1"]["received"] is None
    assert rows["SR-2"]["no_data"] is None and rows["SR-2"]["received"] == 0


def test_chinese_headers_and_a_byte_order_mark_are_understood(services):
    text = ("事项编码,统计月份,办理渠道,受理量,办结量,按时办结量,网上办结量,备注,部门名称\n"
            "SR-1,2026-02,网上办理,12,10,9,10,春节,x\n").replace("网上办理", "online")
    report = load_csv(services["context"], "market-regulation", text, bom=True)
    assert report["inserted"] == 1
    assert report["ignored_columns"] == ["部门名称"]
    row = published()[0]
    assert (row["received"], row["completed_online"], row["note"]) == (12, 10, "春节")


def test_records_can_be_sent_as_json(services):
    report = helpers.call_action(
        "govservice_statistics_load", context=dict(services["context"]),
        department="market-regulation",
        records=[{"service_code": "SR-2", "period": "2026-03", "channel": "mobile",
                  "received": 7, "completed": 7, "no_data": False}])
    assert report["inserted"] == 1
    assert published()[0]["channel"] == "mobile"


def test_a_file_without_a_period_column_is_refused_whole(services):
    with pytest.raises(tk.ValidationError) as e:
        load_csv(services["context"], "market-regulation", "service_code,channel\nSR-1,online\n")
    assert e.value.error_dict == {"upload": ["the file has no column for 统计月份 (period)"]}


def test_another_departments_editor_may_not_load(services):
    load_csv(services["context"], "market-regulation", HEADER + "SR-1,2025-12,online,5,5,5,5,,,,,,,,,\n")
    editor = factories.User()
    gov.department(name="tax-bureau", users=[{"name": editor["name"], "capacity": "editor"}])
    with pytest.raises(tk.NotAuthorized):
        load_csv({"user": editor["name"], "ignore_auth": False}, "market-regulation",
                 HEADER + "SR-1,2026-01,online,1,1,1,1,,,,,,,,,\n")
    # nothing written: the department's rows are the ones it loaded itself
    assert [(r["period"], r["received"]) for r in published()] == [("2025-12", 5)]


def test_statistics_are_one_open_datastore_table_with_a_bilingual_data_dictionary(services):
    load_csv(services["context"], "market-regulation", HEADER + "SR-1,2026-01,online,1,1,1,1,,,,,,,,,\n")
    info = helpers.call_action("datastore_info", id=table_id())
    fields = {f["id"]: f for f in info["fields"]}
    assert fields["received"]["type"] == "int4"
    assert fields["no_data"]["type"] == "bool"
    assert fields["completed"]["info"]["label_zh_Hans_CN"] == "办结量"
    assert fields["completed"]["info"]["label_en"] == "Applications completed"
    assert fields["period"]["info"]["notes_en"] == "The month the figures cover, as YYYY-MM"
    assert all(f["info"].get("label_en") and f["info"].get("notes_zh_Hans_CN")
               for name, f in fields.items() if not name.startswith("_"))
    sql = helpers.call_action("datastore_search_sql", sql=(
        f'SELECT service_code, received FROM "{table_id()}" WHERE department = \'market-regulation\''))
    assert sql["records"] == [{"service_code": "SR-1", "received": 1}]
    # DataStore tables stay in "public", where the DataStore looks for them,
    # however our own KPI schema is named.
    from ckanext.govservice import statistics_store
    with statistics_store.engine().connect() as conn:
        assert statistics_store.table_exists(conn, table_id())


def test_each_department_also_gets_its_rows_as_a_csv_download(services):
    import csv as csvlib
    from ckanext.govservice import statistics_publish
    load_csv(services["context"], "market-regulation", HEADER
             + "SR-2,2026-01,online,5,4,4,4,,,,,,,,,\n" + "SR-1,2026-01,online,1,1,1,1,,,,,,,,,\n")
    published_file = statistics_publish.publish_department_file("market-regulation")
    dataset = helpers.call_action("package_show", id="market-regulation-service-statistics")
    assert published_file["dataset"] == dataset["name"]
    resource = dataset["resources"][0]
    from ckan.lib import uploader
    path = uploader.get_resource_uploader(resource).get_path(resource["id"])
    with open(path, encoding="utf-8-sig") as f:
        rows = list(csvlib.DictReader(f))
    assert [(r["service_code"], r["department"], r["received"]) for r in rows] == [
        ("SR-1", "market-regulation", "1"), ("SR-2", "market-regulation", "5")]


def test_a_file_that_is_not_utf8_or_not_csv_is_refused_whole_naming_the_line(services):
    with pytest.raises(tk.ValidationError) as e:
        load_csv(services["context"], "market-regulation",
                 HEADER + "SR-1,2026-01,online,1,1,1,1,,,,,,,,,,extra,cells\n")
    message = e.value.error_dict["upload"][0]
    assert message.startswith("the file could not be read as CSV UTF-8: extra data after last expected column")
    assert "line 2" in message
    assert published() == []                     # nothing of the file landed


def test_even_a_sysadmin_writes_the_statistics_table_only_through_the_loader(services):
    """datastore_upsert would skip every rule and leave the KPI figures behind;
    datastore_delete without filters would drop every department's rows."""
    load_csv(services["context"], "market-regulation", HEADER + "SR-1,2026-01,online,1,1,1,1,,,,,,,,,\n")
    context = {**services["context"], "ignore_auth": False}
    for action, extra in (("datastore_upsert", {"records": [{"service_code": "SR-1", "department": "market-regulation",
                                                            "period": "2026-01", "channel": "online", "received": 9}],
                                                "method": "upsert"}),
                          ("datastore_delete", {}),
                          ("datastore_records_delete", {"filters": {}}),
                          ("datastore_create", {"records": [{"service_code": "SR-1", "department": "x",
                                                             "period": "2026-02", "channel": "online"}]})):
        with pytest.raises(tk.NotAuthorized, match="only by govservice_statistics_load"):
            helpers.call_action(action, context=dict(context), resource_id=table_id(), force=True, **extra)
    assert [r["received"] for r in published()] == [1]
    # Other DataStore tables are the DataStore's as usual.
    other = helpers.call_action("datastore_create", context=dict(context), force=True, resource={
        "package_id": factories.Dataset(owner_org=services["dept"]["id"])["id"], "name": "other"},
        fields=[{"id": "n", "type": "int"}])
    helpers.call_action("datastore_upsert", context=dict(context), resource_id=other["resource_id"],
                        force=True, method="insert", records=[{"n": 1}])


def test_a_count_beyond_32_bits_is_too_large_and_the_rest_of_the_file_lands(services):
    report = load_csv(services["context"], "market-regulation", HEADER
                      + "SR-1,2026-01,online,3000000000,1,1,1,,,,,,,,,\n"
                      + "SR-1,2026-02,online,2147483647,1,1,1,,,,,,,,,\n"
                      + "SR-1,2026-03,online,123456789012345678901,1,1,1,,,,,,,,,\n")
    assert reasons(report) == {(2, "received", "is too large to be a count"),
                               (4, "received", "is not a whole number")}
    assert [r["received"] for r in published()] == [2147483647]
