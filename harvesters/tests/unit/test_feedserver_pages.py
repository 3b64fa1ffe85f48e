"""The reference feed server's JSON feed pages (feedserver.json_feed): a
department's file is parsed once per version, not once per page asked (a
province department's 50,000 services are 500 pages), and a changed file is
served as changed."""
import json
import os

import pytest

from govharvest import feedserver


def write(folder, n, first=0):
    path = folder / "services.json"
    path.write_text(json.dumps([{"service_code": f"F-{i:05d}"} for i in range(first, first + n)]))
    return path


@pytest.fixture
def client(tmp_path):
    (tmp_path / "dept").mkdir()
    feedserver._parsed.cache_clear()
    return feedserver.create_app(tmp_path).test_client(), tmp_path / "dept"


def test_every_page_of_a_feed_comes_from_one_parse_of_its_file(client):
    app, folder = client
    write(folder, 250)
    pages = [app.get(f"/feeds/dept/services?page={p}").get_json() for p in (1, 2, 3)]
    assert [len(p["services"]) for p in pages] == [100, 100, 50]
    assert pages[2]["services"][-1]["service_code"] == "F-00249"
    assert feedserver._parsed.cache_info().misses == 1


def test_a_changed_file_is_served_as_changed(client):
    app, folder = client
    path = write(folder, 250)
    assert app.get("/feeds/dept/services").get_json()["count"] == 250
    write(folder, 30, first=1000)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    page = app.get("/feeds/dept/services").get_json()
    assert page["count"] == 30
    assert page["services"][0]["service_code"] == "F-01000"
