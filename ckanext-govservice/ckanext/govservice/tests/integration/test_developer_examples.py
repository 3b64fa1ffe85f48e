"""What the getting-started page and the README promise developers, run against
the test site served over HTTP: every example of api_examples.yaml in curl,
Python (ckanapi) and JavaScript (fetch, with Node), and a Python client generated
by openapi-python-client from the site's own openapi.json (search, a service, KPIs).

The site holds the demo city's market regulation bureau (its entry in
datasets/demo/city/departments.json), one of its services (330100-SJJ-QR001-02
from its feed) with that service's 36 months of statistics from its file, and
the bulk catalogue built by a job worker."""
from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from ckanapi import RemoteCKAN

from ckanext.govservice.views import openapi as openapi_views

REPO = Path(__file__).resolve().parents[5]
CITY = REPO / "datasets" / "demo" / "city"
DEPARTMENT = "market-regulation"
CODE = "330100-SJJ-QR001-02"
EXAMPLES = openapi_views.developer_examples()


def _testsite():
    """tests/testsite.py by its path: the name ``tests`` is CKAN's own package once ckan is imported."""
    spec = importlib.util.spec_from_file_location("govservice_testsite", REPO / "tests" / "testsite.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _network_entries(record: dict) -> tuple[dict, list[dict]]:
    """The catalogues' publisher (departments.json's ``catalogues``) and what the service
    refers to in them, as the demo's catalogue harvests publish it: its basic item and
    the documents it names by code (read by datasets/tests/demo_city.py)."""
    spec = importlib.util.spec_from_file_location("demo_city", REPO / "datasets" / "tests" / "demo_city.py")
    demo_city = sys.modules.get("demo_city") or importlib.util.module_from_spec(spec)
    if "demo_city" not in sys.modules:
        sys.modules["demo_city"] = demo_city
        spec.loader.exec_module(demo_city)
    office = json.loads((CITY / "departments.json").read_text(encoding="utf-8"))["catalogues"]
    basic_items, documents = demo_city.read_catalogues(office)
    codes = {d.get("code") for d in record.get("documents") or []}
    return office, ([{**b, "type": "basic_item"} for b in basic_items if b["basic_code"] == record.get("basic_code")]
                    + [{**d, "type": "document"} for d in documents if d["document_code"] in codes])


def _empty_site(reset_db, migrate_db_for, reset_index) -> str:
    """Empty CKAN, DataStore and KPI databases and index; a sysadmin's API token."""
    import sqlalchemy as sa
    from sqlalchemy import orm
    from ckan import plugins
    from ckan.tests import helpers
    from ckanext.datastore.backend.postgres import get_write_engine
    from ckanext.datastore.tests import helpers as datastore_helpers
    from ckanext.govservice import statistics_store

    plugins.load_all()
    try:
        reset_db()
        migrate_db_for("activity")
        engine = get_write_engine()
        session = orm.scoped_session(orm.sessionmaker(bind=engine))
        statistics_store.allow_replacing(session.connection())   # past the database's DDL guard, on purpose
        datastore_helpers.clear_db(session)
        with engine.begin() as conn:
            statistics_store.allow_replacing(conn)
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {statistics_store.SCHEMA} CASCADE"))
        migrate_db_for("govservice")
        reset_index()
        helpers.call_action("user_create", context={"ignore_auth": True}, name="developer-admin",
                            email="developer-admin@example.org", password="developer-admin-0", sysadmin=True)
        return helpers.call_action("api_token_create", context={"user": "developer-admin", "ignore_auth": True},
                                   user="developer-admin", name="developer examples")["token"]
    finally:
        plugins.unload_all()


def _build_catalogue(department: str, url: str) -> None:
    """The department's and the platform's bulk files, built here as the job worker would
    (a worker process takes longer to start than the build takes), as the site at ``url``."""
    import ckan.plugins.toolkit as tk
    from ckan import plugins
    from ckanext.govservice import catalogue_publish
    site_url = tk.config["ckan.site_url"]
    tk.config["ckan.site_url"] = url   # the files' addresses are the served site's
    plugins.load_all()
    try:
        catalogue_publish.build(department)
    finally:
        plugins.unload_all()
        tk.config["ckan.site_url"] = site_url


@pytest.fixture(scope="module")
def site(ckan_ini, reset_db, migrate_db_for, reset_index, reset_queues, tmp_path_factory):
    """The test site over HTTP with the demo city's market regulation bureau, one
    service, its statistics and the bulk catalogue; yields its URL."""
    token = _empty_site(reset_db, migrate_db_for, reset_index)
    reset_queues()
    department = next(d for d in json.loads((CITY / "departments.json").read_text(encoding="utf-8"))["departments"]
                      if d["name"] == DEPARTMENT)
    feed = json.loads((CITY / DEPARTMENT / "services.json").read_text(encoding="utf-8"))["services"]
    record = next(s for s in feed if s["service_code"] == CODE)
    rows = list(csv.reader(io.StringIO((CITY / DEPARTMENT / "statistics.csv").read_text(encoding="utf-8-sig"))))
    statistics = tmp_path_factory.mktemp("statistics") / "statistics.csv"
    rows_of_the_service = [r for r in rows[1:] if r[0] == CODE]
    assert rows_of_the_service, f"the demo city has no statistics for {CODE}: choose another service in api_examples.yaml"
    with open(statistics, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([rows[0], *rows_of_the_service])

    with _testsite().serve(ckan_ini, workers=1) as url, RemoteCKAN(url, apikey=token) as portal:
        fields = ("name", "title", "title_en", "level", "area", "area_code", "department_code")
        office, entries = _network_entries(record)
        publisher = portal.action.organization_create(**{k: office[k] for k in fields})
        for entry in entries:   # the catalogues come first: the service names its basic item and documents
            portal.action.package_create(owner_org=publisher["id"], **entry)
        org = portal.action.organization_create(**{k: department[k] for k in fields})
        portal.action.package_create(type="service", owner_org=org["id"], **record)
        _build_catalogue(DEPARTMENT, url)
        with open(statistics, "rb") as upload:
            loaded = portal.action.govservice_statistics_load(department=DEPARTMENT, upload=upload)
        assert (loaded["rejected"], loaded["inserted"]) == (0, len(rows_of_the_service))
        yield url
    reset_queues()


# ---------------------------------------------------------------- every documented example
# curl runs each example in its own shell; the Python and JavaScript examples run
# in one interpreter per language (each in a scope of its own, its output caught),
# since starting Python with ckanapi eleven times cost most of this file's time.

PYTHON_RUNNER = """
import contextlib, io, json, sys, traceback
examples, portal = json.load(sys.stdin), sys.argv[1]
runs = {}
for example in examples:
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(example["python"], example["id"], "exec"), {"PORTAL": portal, "__name__": "__main__"})
        runs[example["id"]] = {"out": out.getvalue()}
    except Exception:
        runs[example["id"]] = {"out": out.getvalue(), "error": traceback.format_exc()}
print(json.dumps(runs))
"""


def _javascript_runner(url: str) -> str:
    """One ES module running every example in an async function of its own, console.log caught."""
    parts = ["import {format} from 'node:util';", f"const PORTAL = {json.dumps(url)};",
             "const runs = {}; const log = console.log;"]
    for example in EXAMPLES:
        parts.append(f"""runs[{json.dumps(example["id"])}] = await (async () => {{
  const out = []; console.log = (...a) => out.push(format(...a));
  try {{
{textwrap.indent(example["javascript"], "    ")}
  }} catch (e) {{ return {{out: out.join("\\n"), error: String(e.stack)}}; }}
  finally {{ console.log = log; }}
  return {{out: out.join("\\n")}};
}})();""")
    parts.append("process.stdout.write(JSON.stringify(runs));")
    return "\n".join(parts)


@pytest.fixture(scope="module")
def runs(site, tmp_path_factory):
    """{language: {example id: {"out", "error"?}}} for Python and JavaScript."""
    workdir = tmp_path_factory.mktemp("examples")
    python = subprocess.run([sys.executable, "-c", PYTHON_RUNNER, site], input=json.dumps(EXAMPLES),
                            cwd=workdir, capture_output=True, text=True, timeout=300)
    assert python.returncode == 0, python.stderr[-3000:]
    script = workdir / "examples.mjs"
    script.write_text(_javascript_runner(site), encoding="utf-8")
    node = subprocess.run(["node", str(script)], cwd=workdir, capture_output=True, text=True, timeout=300)
    assert node.returncode == 0, node.stderr[-3000:]
    return {"python": json.loads(python.stdout), "javascript": json.loads(node.stdout)}


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["id"] for e in EXAMPLES])
def test_every_curl_example_runs_against_the_test_site(site, example, tmp_path):
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", example["curl"]], cwd=tmp_path,
                          env={**os.environ, "PORTAL": site}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert example["expect"] in done.stdout, done.stdout[-2000:]
    assert '"success": false' not in done.stdout


@pytest.mark.parametrize("language", ["python", "javascript"])
@pytest.mark.parametrize("example", EXAMPLES, ids=[e["id"] for e in EXAMPLES])
def test_every_python_and_javascript_example_runs_against_the_test_site(runs, example, language):
    run = runs[language][example["id"]]
    assert "error" not in run, run.get("error", "")[-2000:]
    assert example["expect"] in run["out"], run["out"][-2000:]


def test_the_examples_cover_every_read_action_developers_need():
    actions = {e["action"] for e in EXAMPLES}
    assert {"package_search", "package_show", "organization_list", "datastore_search",
            "datastore_search_sql", "govservice_service_show", "govservice_kpis",
            "govservice_league_table", "govservice_schema", "govservice_health"} <= actions
    assert {"find-a-service", "download-the-catalogue", "statistics-with-sql", "follow-changes"} <= {
        e["id"] for e in EXAMPLES}


# ---------------------------------------------------------------- a generated client

@pytest.fixture(scope="module")
def client(site, tmp_path_factory):
    """A Python client generated by openapi-python-client from the site's openapi.json."""
    import httpx
    out = tmp_path_factory.mktemp("client")
    (out / "openapi.json").write_bytes(httpx.get(f"{site}/api/govservice/openapi.json", timeout=30).content)
    (out / "config.yaml").write_text("package_name_override: govservice_client\n"
                                     "project_name_override: govservice-client\n")
    generator = Path(sys.executable).parent / "openapi-python-client"
    done = subprocess.run([str(generator), "generate", "--path", "openapi.json", "--config", "config.yaml",
                           "--meta", "none", "--output-path", "govservice_client"],
                          cwd=out, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "will not be generated" not in done.stdout + done.stderr
    sys.path.insert(0, str(out))
    try:
        import govservice_client
        yield govservice_client.Client(base_url=site, raise_on_unexpected_status=True)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == "govservice_client" or m.startswith("govservice_client.")]:
            del sys.modules[name]


def test_a_generated_python_client_searches_reads_a_service_and_its_kpis(client):
    from govservice_client.api.ckan import package_search, package_show
    from govservice_client.api.govservice import govservice_kpis, govservice_service_show

    found = package_search.sync(client=client, q="企业设立登记", fq="dataset_type:service", rows=5).result
    assert found.count == 1
    service = found.results[0]
    assert service.service_code == CODE
    assert service.in_person_visits >= 0
    assert service.documents[0].name

    shown = package_show.sync(client=client, id=service.name).result
    assert shown.title == service.title and shown.owner_org == service.owner_org
    by_code = govservice_service_show.sync(client=client, service_code=CODE, department=DEPARTMENT).result
    assert by_code.name == service.name and by_code.service_code == CODE

    kpis = govservice_kpis.sync(client=client, department=DEPARTMENT, group_by="period",
                                period_type="year").result
    assert kpis["period_type"] == "year"
    on_time = kpis["results"][-1]["kpis"]["on_time_rate"]
    assert 0 <= on_time["value"] <= 1 and on_time["denominator"] > 0

