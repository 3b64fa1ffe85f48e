"""The demo city's network harvested as `make demo` harvests it (stack/demo.py): the
reference feed server on the demo city's files, the government service office's two
catalogue sources first (the basic items as the paged JSON feed, the documents as
CSV), then two departments' services, through the harvesters' own pipeline into the
test site (CKAN in-process, the test databases, the harvest test database).

The basic catalogue is cut to the items those two departments implement (all 881
take minutes to create in-process); every entry is checked without CKAN in
unit/test_demo_city.py.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from demo_city import CITY

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def harvest_db(monkeypatch):
    """The harvest test database (var/harvest.env's, this test slot's), emptied."""
    import psycopg2
    env = dict(line.partition("=")[::2] for line in (ROOT / "var" / "harvest.env").read_text().splitlines()
               if line.startswith("GOVHARVEST_TEST_DB_URL="))
    url = os.environ.get("GOVHARVEST_TEST_DB_URL") or env["GOVHARVEST_TEST_DB_URL"]
    if os.environ.get("GOVSERVICE_TEST_SLOT") and not os.environ.get("GOVHARVEST_TEST_DB_URL"):
        url += f"_{os.environ['GOVSERVICE_TEST_SLOT']}"
    monkeypatch.setenv("GOVHARVEST_ENV_FILE", "")
    monkeypatch.setenv("GOVHARVEST_DB_URL", url)
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("TRUNCATE job_outcome, record, job, source RESTART IDENTITY CASCADE")
    conn.close()
    return url


DEPARTMENTS = ("taxation", "linjiang-market-regulation")


@pytest.fixture
def feeds_url(monkeypatch, tmp_path):
    """The reference feed server, on a loopback port of its own, on the demo city's files
    of the office and DEPARTMENTS (the basic catalogue cut to what they implement)."""
    from werkzeug.serving import make_server
    from govharvest.feedserver import create_app
    monkeypatch.setenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    office = json.loads((CITY / "departments.json").read_text(encoding="utf-8"))["catalogues"]
    named = set()
    for name in DEPARTMENTS:
        (tmp_path / name).mkdir()
        shutil.copy(CITY / name / "services.json", tmp_path / name / "services.json")
        services = json.loads((CITY / name / "services.json").read_text(encoding="utf-8"))["services"]
        named |= {s.get("basic_code") for s in services}
    (tmp_path / office["name"]).mkdir()
    shutil.copy(CITY / office["documents"]["file"], tmp_path / office["documents"]["file"])
    items = json.loads((CITY / office["basic_items"]["file"]).read_text(encoding="utf-8"))["basic_items"]
    (tmp_path / office["basic_items"]["file"]).write_text(json.dumps(
        {"basic_items": [b for b in items if b["basic_code"] in named]}, ensure_ascii=False), encoding="utf-8")
    server = make_server("127.0.0.1", 0, create_app(tmp_path, faults=False), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def demo_site(with_plugins, clean_db, clean_index, monkeypatch, harvest_db, feeds_url):
    """The office and two departments as organisations, their sources registered as stack/demo.py does."""
    import ckan.plugins.toolkit as tk
    from ckan.tests import factories
    from ckanapi import LocalCKAN
    from govharvest import db, sources
    monkeypatch.setitem(tk.config, "ckanext.govservice.catalogue.auto_rebuild", False)
    city = json.loads((CITY / "departments.json").read_text(encoding="utf-8"))
    office = city["catalogues"]
    departments = {d["name"]: d for d in city["departments"]}
    fields = ("name", "title", "title_en", "level", "area", "area_code", "department_code")
    for org in (office, *(departments[name] for name in DEPARTMENTS)):
        factories.Organization(**{k: org[k] for k in fields})
    with db.connect() as conn:
        sources.add(conn, name="office-basic-items", department=office["name"], kind="basic_items",
                    format="json", location=f"{feeds_url}/feeds/{office['name']}/basic_items")
        sources.add(conn, name="office-documents", department=office["name"], kind="documents",
                    format="csv", location=f"{feeds_url}/files/{office['documents']['file']}")
        for name in DEPARTMENTS:
            sources.add(conn, name=f"{name}-services", department=name, format="json",
                        location=f"{feeds_url}/feeds/{name}/services")
    return LocalCKAN(username=factories.Sysadmin()["name"]), office, departments


def _harvest(ckan, name):
    from govharvest import db, pipeline, sources
    with db.connect() as conn:
        job_id = pipeline.start_job(conn, sources.get(conn, name))
    pipeline.run_job(db.connect, job_id, ckan)
    with db.connect() as conn:
        return pipeline.report(conn, job_id)


@pytest.mark.timeout(900)
def test_the_catalogues_harvest_whole_then_the_services_land_but_the_planted_one(demo_site, feeds, planted):
    ckan, office, departments = demo_site
    named = {s.get("basic_code") for name in DEPARTMENTS for s in feeds[name]} - {
        p["value"] for p in planted if p["field"] == "basic_code"}
    items = _harvest(ckan, "office-basic-items")
    documents = _harvest(ckan, "office-documents")
    assert (items["status"], items["counts"]["new"], items["counts"]["rejected"]) == (
        "done", len(named), 0), items.get("rejected")
    assert (documents["status"], documents["counts"]["new"], documents["counts"]["rejected"]) == (
        "done", office["documents"]["count"], 0), documents.get("rejected")

    linjiang = _harvest(ckan, "linjiang-market-regulation-services")
    assert (linjiang["counts"]["new"], linjiang["counts"]["rejected"]) == (
        departments["linjiang-market-regulation"]["services"]["count"], 0), linjiang.get("rejected")

    [wrong] = [p for p in planted if p["department"] == "taxation"]
    taxation = _harvest(ckan, "taxation-services")
    assert (taxation["counts"]["new"], taxation["counts"]["rejected"]) == (
        departments["taxation"]["services"]["count"] - 1, 1)
    [rejected] = taxation["rejected"]
    assert rejected["record"] == wrong["record"]
    [reason] = rejected["errors"][wrong["field"]]
    assert reason.endswith(wrong["reason"])
