"""Harvesting from the reference feed server over HTTP, including its injected faults."""
import json
import threading

import pytest
from werkzeug.serving import make_server

from govharvest import db, feedserver, sources

from test_pipeline import HEADER, ROWS, harvest, services_of


@pytest.fixture
def feeds(tmp_path, monkeypatch, department, harvest_db):
    monkeypatch.setenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    folder = tmp_path / department["name"]
    folder.mkdir()
    server = make_server("127.0.0.1", 0, feedserver.create_app(tmp_path, faults=True), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def add_source(department, location, fmt):
    with db.connect() as conn:
        sources.add(conn, name="feed", department=department["name"], format=fmt, location=location)


def json_services(n):
    return [{"service_code": f"J-{i:03d}", "title": f"事项{i}", "service_type": "public_service",
             "audience": "citizen", "committed_limit": 3, "in_person_visits": 0,
             "themes": ["health"], "channels": [{"channel_type": "online",
                                                 "url": f"https://zwfw.example.gov.cn/{i}"}]}
            for i in range(n)]


def test_a_paginated_json_feed_is_followed_to_the_end_and_etag_skips_the_next_run(
        portal, department, feeds):
    folder, base = feeds
    (folder / "services.json").write_text(json.dumps(json_services(130), ensure_ascii=False))
    add_source(department, f"{base}/feeds/{department['name']}/services", "json")

    first = harvest(portal, "feed")
    second = harvest(portal, "feed")

    assert first["counts"]["new"] == 130
    assert second["counts"]["not_modified"] is True and second["counts"]["new"] == 0
    assert services_of(portal, department)["J-007"]["channels"][0]["url"] == "https://zwfw.example.gov.cn/7"


@pytest.mark.parametrize("fault, reason", [
    ("fault=500", "source answered HTTP 500"),
    ("fault=truncate", "truncated"),
])
def test_a_misbehaving_source_fails_and_published_data_is_unchanged(
        portal, department, feeds, fault, reason):
    folder, base = feeds
    (folder / "services.csv").write_text(HEADER + ROWS["SC-1"] + ROWS["SC-2"], encoding="utf-8")
    url = f"{base}/files/{department['name']}/services.csv"
    add_source(department, url, "csv")
    harvest(portal, "feed")
    before = services_of(portal, department)
    (folder / "services.csv").write_text(HEADER + ROWS["SC-1"].replace("企业", "个体"), encoding="utf-8")
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("UPDATE source SET location = %s, last_etag = NULL", (f"{url}?{fault}",))

    report = harvest(portal, "feed")

    assert report["status"] == "failed"
    assert reason in report["error"]
    assert services_of(portal, department) == before


def test_a_slow_source_times_out(department, feeds):
    from govharvest import extract
    folder, base = feeds
    (folder / "services.csv").write_text(HEADER, encoding="utf-8")
    with pytest.raises(extract.ExtractError, match="did not answer within 0.5 s"):
        extract.fetch(f"{base}/files/{department['name']}/services.csv?fault=delay&seconds=3",
                      timeout=0.5)


def test_a_wrongly_declared_encoding_is_detected_from_the_bytes(portal, department, feeds):
    folder, base = feeds
    (folder / "services.csv").write_text(HEADER + ROWS["SC-1"], encoding="utf-8")
    add_source(department, f"{base}/files/{department['name']}/services.csv?fault=encoding", "csv")

    report = harvest(portal, "feed")

    assert report["counts"]["new"] == 1
    assert services_of(portal, department)["SC-1"]["title"] == "企业营业执照核发"


def test_a_renamed_key_column_rejects_every_record_and_withdraws_nothing(portal, department, feeds):
    folder, base = feeds
    (folder / "services.csv").write_text(HEADER + ROWS["SC-1"] + ROWS["SC-2"], encoding="utf-8")
    url = f"{base}/files/{department['name']}/services.csv"
    add_source(department, url, "csv")
    harvest(portal, "feed")
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("UPDATE source SET location = %s, last_etag = NULL",
                    (f"{url}?fault=rename&from=事项编码&to=事项编号",))

    report = harvest(portal, "feed")

    assert report["counts"]["rejected"] == 2
    assert report["status"] == "held"          # everything would vanish: a person decides
    assert {d["status"] for d in services_of(portal, department).values()} == {"active"}
