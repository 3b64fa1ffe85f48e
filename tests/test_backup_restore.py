"""`make backup` / `make restore`: a dump restored into a fresh set of databases
serves the same datasets, DataStore rows and harvest sources.

The "fresh stack" is a new set of databases in the same PostgreSQL cluster
(``*_restore_N``), a CKAN config pointing at them with a site id of its own (so
its Solr documents never mix with another site's), and CKAN run as a command
line over that config. The shared databases are only read (by the test slot's
own CKAN site), never written.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from ckan.tests import factories, helpers

from .stackctl import ROOT

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("with_plugins")]

GOVSERVICE = ROOT / "stack" / "entrypoints" / "govservice"
SLOT = os.environ.get("GOVSERVICE_TEST_SLOT", "")
RESTORE_SUFFIX = f"_restore{('_' + SLOT) if SLOT else ''}"


def harvest_url(test_db_url: str, db: str) -> str:
    return re.sub(r"/[^/]+$", f"/{db}", test_db_url)


def as_postgres_sql(sql: str) -> None:
    cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c", sql]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, check=True, capture_output=True, text=True)


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    venv_bin = str(Path(sys.executable).parent)
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=180,
                            env={**os.environ, **env, "PATH": venv_bin + os.pathsep + os.environ["PATH"]})
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


SERVE_IN_PROCESS = """
import json, sys
from werkzeug.test import Client
from ckan.cli import load_config
from ckan.config.middleware import make_app
client = Client(make_app(load_config(sys.argv[1])))
answers = []
for action, params in json.loads(sys.argv[2]):
    response = client.post(f"/api/3/action/{action}", json=params)
    answers.append(response.get_json()["result"])
print(json.dumps(answers))
"""


def ask_restored_site(ini: Path, *calls: tuple[str, dict]) -> list[dict]:
    """The restored site's answers to API calls, served in-process from its config."""
    out = run(sys.executable, "-c", SERVE_IN_PROCESS, ini, json.dumps(calls), env={}).stdout
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def fresh_databases(ckan_ini: Path, tmp_path_factory):
    """Empty databases for the restore, and a config naming them; dropped afterwards."""
    text = ckan_ini.read_text()
    site = re.search(r"^ckan\.site_id = (\S+)$", text, re.M).group(1)
    names = {site: f"govservice{RESTORE_SUFFIX}",
             site.replace("govservice", "govservice_datastore", 1): f"govservice_datastore{RESTORE_SUFFIX}"}
    restored = text
    for old, new in names.items():   # database names in the URLs, and the site id
        restored = re.sub(rf"/{old}$", f"/{new}", restored, flags=re.M)
    restored = re.sub(r"^ckan\.site_id = .*$", f"ckan.site_id = govservice{RESTORE_SUFFIX}", restored, flags=re.M)
    ini = tmp_path_factory.mktemp("restore") / "ckan.ini"
    ini.write_text(restored)
    harvest_db = f"govharvest{RESTORE_SUFFIX}"
    databases = [*names.values(), harvest_db]
    for db in databases:
        as_postgres_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        as_postgres_sql(f'CREATE DATABASE "{db}" OWNER govservice TEMPLATE template0 ENCODING \'UTF8\'')
    yield ini, harvest_db
    solr_url = re.search(r"^solr_url = (\S+)$", text, re.M).group(1)
    requests.post(f"{solr_url}/update?commit=true", timeout=30,
                  json={"delete": {"query": f'site_id:"govservice{RESTORE_SUFFIX}"'}})
    for db in databases:
        as_postgres_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


@pytest.fixture
def catalogue(clean_db, clean_index, monkeypatch):
    """Two departments' datasets, one with DataStore rows."""
    import ckan.plugins.toolkit as tk
    # no bulk-catalogue rebuild jobs left queued for another test's worker
    monkeypatch.setitem(tk.config, "ckanext.govservice.catalogue.auto_rebuild", False)
    market = factories.Organization(name="market-regulation", title="市场监督管理局")
    health = factories.Organization(name="health-commission", title="卫生健康委员会")
    licence = factories.Dataset(owner_org=market["id"], name="qiye-yingye-zhizhao", title="企业营业执照核发")
    factories.Dataset(owner_org=health["id"], name="food-permit", title="Food business licence issuance")
    stats = factories.Resource(package_id=licence["id"], name="月度统计")
    helpers.call_action(
        "datastore_create", context={"user": factories.Sysadmin()["name"]}, resource_id=stats["id"], force=True,
        fields=[{"id": "period", "type": "text"}, {"id": "received", "type": "int"}],
        records=[{"period": "2026-01", "received": 120}, {"period": "2026-02", "received": 95}])
    return stats["id"]


@pytest.fixture
def harvest_source():
    """A registered harvest source in the test slot's harvest database."""
    env_file = ROOT / "var" / "harvest.env"
    test_url = dict(line.split("=", 1) for line in env_file.read_text().splitlines())["GOVHARVEST_TEST_DB_URL"]
    url = test_url + (f"_{SLOT}" if SLOT else "")
    env = {"GOVHARVEST_DB_URL": url}
    name = "backup-restore-source"
    run("govharvest", "source", "add", name, "--department", "market-regulation", "--format", "csv",
        "--location", "https://example.invalid/services.csv", "--schedule", "30 2 * * *",
        "--default", "audience=business", env=env)
    yield url
    run("psql", "-X", "-q", "-d", url, "-c", f"DELETE FROM source WHERE name = '{name}'", env={})


def test_a_backup_restored_into_fresh_databases_finds_the_same_datasets(
        ckan_ini, catalogue, harvest_source, fresh_databases, tmp_path):
    restore_ini, harvest_db = fresh_databases
    original = helpers.call_action("package_search", q="*:*", rows=100, sort="name asc")
    dump = tmp_path / "backup"

    run(GOVSERVICE, "backup", dump, env={"CKAN_INI": str(ckan_ini), "GOVHARVEST_DB_URL": harvest_source})
    restore = run(GOVSERVICE, "restore", dump,
                  env={"CKAN_INI": str(restore_ini),
                       "GOVHARVEST_DB_URL": harvest_url(harvest_source, harvest_db)})

    manifest = json.loads((dump / "manifest.json").read_text())
    assert manifest["counts"]["datasets"] == 2
    assert manifest["counts"]["datastore_tables"] >= 1      # clean_db leaves older tables
    assert manifest["counts"]["harvest_sources"] >= 1
    assert "restore complete" in restore.stdout
    # Search goes through Solr, re-indexed from the restored database.
    found, chinese, rows = ask_restored_site(
        restore_ini,
        ("package_search", {"q": "*:*", "rows": 100, "sort": "name asc"}),
        ("package_search", {"q": "营业执照"}),
        ("datastore_search", {"resource_id": catalogue, "sort": "period"}))
    assert [d["name"] for d in found["results"]] == [d["name"] for d in original["results"]] \
        == ["food-permit", "qiye-yingye-zhizhao"]
    assert [d["name"] for d in chinese["results"]] == ["qiye-yingye-zhizhao"]
    assert [(r["period"], r["received"]) for r in rows["records"]] == [("2026-01", 120), ("2026-02", 95)]
    # The harvest database, read back from the restored copy: the source as registered, every migration.
    import psycopg2
    with psycopg2.connect(harvest_url(harvest_source, harvest_db)) as conn, conn.cursor() as cur:
        cur.execute("SELECT name, department, kind, format, location, schedule, enabled FROM source "
                    "WHERE name = 'backup-restore-source'")
        assert cur.fetchall() == [("backup-restore-source", "market-regulation", "services", "csv",
                                   "https://example.invalid/services.csv", "30 2 * * *", True)]
        cur.execute("SELECT name FROM schema_migration ORDER BY name")
        assert [r[0] for r in cur.fetchall()] == sorted(
            p.name for p in (ROOT / "harvesters" / "govharvest" / "migrations").glob("*.sql"))
    shown = run("govharvest", "source", "show", "backup-restore-source",
                env={"GOVHARVEST_DB_URL": harvest_url(harvest_source, harvest_db)}).stdout
    assert '"audience": "business"' in shown        # the defaults column came through too
