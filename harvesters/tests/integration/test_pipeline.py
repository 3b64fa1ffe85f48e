"""A harvest end to end: a department's CSV over HTTP into the test site."""
import os
import time

import pytest

from govharvest import db, pipeline, sources

HEADER = "事项编码,事项名称,事项类型,服务对象,法定办结时限,承诺办结时限,到办事现场次数\r\n"
ROWS = {
    "SC-1": "SC-1,企业营业执照核发,administrative_licence,business,20,5,1\r\n",
    "SC-2": "SC-2,食品经营许可,administrative_licence,business,20,10,1\r\n",
    "SC-3": "SC-3,公共场所卫生许可,administrative_licence,business,20,8,0\r\n",
}


def rewrite(path, body: bytes):
    """Rewrite a feed file, moving its mtime on a whole second: HTTP's
    Last-Modified has one-second resolution, and the harvester honours it."""
    import os
    import time
    previous = path.stat().st_mtime if path.exists() else time.time()
    path.write_bytes(body)
    stamp = int(max(previous, time.time())) + 1
    os.utime(path, (stamp, stamp))


def write_feed(folder, rows, encoding="gbk"):
    """Rewrite the feed file (its mtime moved on, as rewrite does)."""
    rewrite(folder / "services.csv", (HEADER + "".join(rows)).encode(encoding))


def harvest(portal, source_name):
    with db.connect() as conn:
        job_id = pipeline.start_job(conn, sources.get(conn, source_name))
    pipeline.run_job(db.connect, job_id, portal)
    with db.connect() as conn:
        return pipeline.report(conn, job_id)


def services_of(portal, department):
    found = portal.action.package_search(fq=f"owner_org:{department['id']} AND dataset_type:service",
                                         rows=100, sort="name asc")
    return {d["service_code"]: d for d in found["results"]}


def test_first_harvest_loads_good_records_and_rejects_bad_ones_with_reasons(portal, department, source):
    bad = "SC-9,承诺超时事项,administrative_licence,business,5,12,1\r\n"
    write_feed(source, [ROWS["SC-1"], ROWS["SC-2"], bad])

    report = harvest(portal, "csv-feed")

    assert report["status"] == "done"
    assert report["counts"] == {"new": 2, "changed": 0, "unchanged": 0, "withdrawn": 0,
                                "rejected": 1, "held": 0}
    assert report["rejected"][0]["record"] == "SC-9"
    assert report["rejected"][0]["errors"]["committed_limit"][0].startswith(
        "line 4: the committed time limit (12 working days) is longer than the statutory limit")
    published = services_of(portal, department)
    assert sorted(published) == ["SC-1", "SC-2"]
    assert published["SC-1"]["title"] == "企业营业执照核发"
    assert published["SC-1"]["source"] == "csv-feed"
    assert published["SC-1"]["content_hash"]


def test_a_problem_inside_a_repeating_field_names_the_entry_and_subfield(portal, department, source):
    path = source / "services.csv"
    fees = '[{""name"": ""工本费"", ""amount"": 10}, {""name"": ""加急费"", ""amount"": -5}]'
    path.write_bytes((HEADER.rstrip("\r\n") + ",收费\r\n"
                      + ROWS["SC-1"].rstrip("\r\n") + ",\r\n"
                      + ROWS["SC-2"].rstrip("\r\n") + f',"{fees}"\r\n').encode("gbk"))

    report = harvest(portal, "csv-feed")

    assert report["counts"]["new"] == 1
    assert [(r["record"], r["errors"]) for r in report["rejected"]] == [
        ("SC-2", {"fees": ["line 3: entry 2, amount: must not be negative (got -5)"]})]


def test_an_unchanged_reharvest_writes_nothing(portal, department, source):
    write_feed(source, [ROWS["SC-1"], ROWS["SC-2"]])
    harvest(portal, "csv-feed")
    before = {code: d["metadata_modified"] for code, d in services_of(portal, department).items()}

    report = harvest(portal, "csv-feed")

    assert report["counts"]["unchanged"] == 2
    assert report["counts"]["new"] == report["counts"]["changed"] == 0
    assert {code: d["metadata_modified"] for code, d in services_of(portal, department).items()} == before


def test_a_one_field_change_is_reported_as_that_diff(portal, department, source):
    write_feed(source, [ROWS["SC-1"], ROWS["SC-2"]])
    harvest(portal, "csv-feed")
    write_feed(source, [ROWS["SC-1"].replace(",20,5,", ",20,3,"), ROWS["SC-2"]])

    report = harvest(portal, "csv-feed")

    assert report["changed"] == [{"record": "SC-1", "changes": [
        {"field": "committed_limit", "old": "5", "new": "3"}]}]
    assert services_of(portal, department)["SC-1"]["committed_limit"] == 3


def test_a_record_gone_from_the_source_is_withdrawn_not_deleted(portal, department, source):
    write_feed(source, [ROWS["SC-1"], ROWS["SC-2"], ROWS["SC-3"]] + [
        f"SC-{i},事项{i},public_service,citizen,,1,0\r\n" for i in range(10, 17)])
    harvest(portal, "csv-feed")
    write_feed(source, [ROWS["SC-1"], ROWS["SC-2"]] + [
        f"SC-{i},事项{i},public_service,citizen,,1,0\r\n" for i in range(10, 17)])

    report = harvest(portal, "csv-feed")

    assert report["withdrawn"] == ["SC-3"]
    assert services_of(portal, department)["SC-3"]["status"] == "withdrawn"


def test_withdrawing_more_than_a_fifth_at_once_is_held_for_a_person(portal, department, source):
    write_feed(source, [ROWS["SC-1"], ROWS["SC-2"], ROWS["SC-3"]])
    harvest(portal, "csv-feed")
    write_feed(source, [ROWS["SC-1"]])

    report = harvest(portal, "csv-feed")

    assert report["status"] == "held"
    assert report["held"] == ["SC-2", "SC-3"]
    assert {d["status"] for d in services_of(portal, department).values()} == {"active"}


@pytest.mark.parametrize("fault, reason", [
    ("missing", "source answered HTTP 404"),
    ("garbage", "CSV could not be read"),
])
def test_a_broken_source_fails_the_job_and_changes_nothing(portal, department, source, fault, reason):
    write_feed(source, [ROWS["SC-1"]])
    harvest(portal, "csv-feed")
    before = services_of(portal, department)
    if fault == "missing":
        (source / "services.csv").unlink()
    else:
        (source / "services.csv").write_bytes(b"\xff\xfe\x00\x81garbage")
        os.utime(source / "services.csv", (time.time() + 5, time.time() + 5))

    report = harvest(portal, "csv-feed")

    assert report["status"] == "failed"
    assert reason in report["error"]
    assert services_of(portal, department) == before


def test_a_private_address_is_refused_unless_allowed(harvest_db, department, monkeypatch):
    from govharvest import extract
    monkeypatch.delenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", raising=False)
    with pytest.raises(extract.ExtractError, match="private or local address"):
        extract.check_location("http://127.0.0.1:8983/solr/admin/cores")
    with pytest.raises(extract.ExtractError, match="http\\(s\\) or a local path"):
        extract.check_location("gopher://example.org/")
