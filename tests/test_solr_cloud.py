"""SolrCloud, run for real and broken on purpose.

One ZooKeeper 3.9.4, two Solr 9.10.1 cloud nodes and the nginx in front of
them (the address CKAN's solr_url names), started once per session
the way an operator starts them (`GOVSERVICE_SOLR_MODE=cloud stack/stack.sh
start solr`), on ports and in a folder of their own (var/solrcloud-test<slot>)
beside the stack's single Solr; collection `ckan`, 2 shards x 2 replicas, from
the configset the single core is generated with. The test site (in-process)
is pointed at the collection by its ``solr_url``, as `make up` in cloud mode
points the portal.

Measured on the 2-vCPU development machine: the cluster starts in about 30 s;
after kill -9 of a node, writes are refused until ZooKeeper expires the dead
node's session (zkClientTimeout, 15 s; about 15-20 s in all), searches never.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.lib import search
from ckan.tests import factories, helpers

from ckanext.govservice.tests import factories as gov

from .stackctl import ROOT, STACK
from .test_crawl import CITY, _department_services, load_network

pytestmark = [pytest.mark.stack, pytest.mark.timeout(900)]   # replicas recovering on a busy machine may take minutes

SLOT = os.environ.get("GOVSERVICE_TEST_SLOT", "")
SAMPLE = ("taxation",)   # a JSON feed: 32 services (a larger sample costs CI a minute per 40)


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Cloud:
    """The running cluster: its collection's URL and cloud.sh's commands."""

    def __init__(self, env: dict[str, str], zk_port: int, lb_port: int, ports: list[int]):
        self.env, self.zk_port, self.ports = env, zk_port, ports
        self.url = f"http://127.0.0.1:{lb_port}/solr/ckan"          # through the nginx, as CKAN is configured
        self.node_urls = [f"http://127.0.0.1:{p}/solr/ckan" for p in ports]

    def run(self, *args: str) -> str:
        done = subprocess.run(["bash", str(ROOT / "stack" / "solr" / "cloud.sh"), *args], env=self.env,
                              capture_output=True, text=True, timeout=700)   # wait-active may wait 5 x 120 s
        assert done.returncode == 0, f"cloud.sh {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def replicas(self) -> dict[str, list[tuple[str, int]]]:
        """Each shard's replicas: (node, documents it holds itself, asked with distrib=false)."""
        status = requests.get(f"http://127.0.0.1:{self.ports[0]}/solr/admin/collections",
                              params={"action": "CLUSTERSTATUS", "collection": "ckan", "wt": "json"},
                              timeout=30).json()
        shards = status["cluster"]["collections"]["ckan"]["shards"]
        found = {}
        for name, shard in shards.items():
            found[name] = []
            for replica in shard["replicas"].values():
                answer = requests.get(f"{replica['base_url']}/{replica['core']}/select",
                                      params={"q": "*:*", "rows": 0, "distrib": "false", "wt": "json"},
                                      timeout=30).json()
                found[name].append((replica["node_name"], answer["response"]["numFound"]))
        return found


@pytest.fixture(scope="session")
def solr_cloud():
    zk_port, lb_port, *ports = _free_ports(4)
    folder = ROOT / "var" / f"solrcloud-test{SLOT}"
    shutil.rmtree(folder, ignore_errors=True)
    env = {**os.environ, "GOVSERVICE_SOLR_MODE": "cloud", "GOVSERVICE_SOLR_PORT": str(lb_port),
           "GOVSERVICE_SOLR_CLOUD_PORTS": f"{ports[0]} {ports[1]}", "GOVSERVICE_ZK_PORT": str(zk_port),
           "GOVSERVICE_SOLR_CLOUD_DIR": str(folder), "GOVSERVICE_SOLR_CLOUD_HEAP": "384m",
           "GOVSERVICE_SOLR_CACHE": str(Path(os.environ.get("GOVSERVICE_CACHE", Path.home() / ".cache" / "govservice"))
                                        / "solr-9.10.1")}
    started = subprocess.run(["bash", str(STACK), "start", "solr"], env=env, capture_output=True,
                             text=True, timeout=300)
    cloud = Cloud(env, zk_port, lb_port, ports)
    try:
        assert started.returncode == 0, f"SolrCloud did not start:\n{started.stdout}\n{started.stderr}"
        assert "collection ckan: created" not in started.stdout   # stack.sh keeps that line to itself
        yield cloud
    finally:
        subprocess.run(["bash", str(STACK), "stop", "solr"], env=env, capture_output=True, timeout=300)


@pytest.fixture
def on_cloud(solr_cloud, monkeypatch, with_plugins, clean_db):
    """The test site indexes into and searches the cloud collection, emptied of its documents."""
    monkeypatch.setitem(tk.config, "solr_url", solr_cloud.url)
    monkeypatch.setitem(tk.config, "ckanext.govservice.catalogue.auto_rebuild", False)
    monkeypatch.setitem(tk.config, "ckanext.govservice.statistics.background_jobs", False)
    search.clear_all()
    return solr_cloud


def _names(**params) -> tuple[int, list[str]]:
    result = helpers.call_action("package_search", rows=1000, **params)
    return result["count"], [d["name"] for d in result["results"]]


def _services(n: int, context: dict, **extra) -> list[dict]:
    org = gov.department()
    return [gov.service(org["id"], context, title=f"云端检索事项{i}", **extra) for i in range(n)]


# ---------------------------------------------------------------- same answers

QUERIES = [   # (what, package_search parameters, whether the order must match too)
    ("a Chinese word", {"q": "证明", "sort": "name asc"}, True),
    ("a Chinese phrase, by relevance", {"q": "税务登记"}, False),
    ("an English word", {"q": "tax"}, False),
    ("a filter on a typed field", {"fq": "is_free_b:true", "sort": "committed_days_f asc, name asc"}, True),
    ("a department", {"fq": "organization:taxation", "sort": "name asc"}, True),
    ("a page in the middle", {"q": "*:*", "sort": "name asc", "rows": 7, "start": 10}, True),
]
FACETS = ["organization", "themes_ss", "life_events_ss", "channel_types_ss", "in_person_visits_i",
          "online_depth_ss", "service_type_ss", "is_free_b"]


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
def test_the_demo_services_in_the_collection_answer_as_in_the_single_core(solr_cloud, monkeypatch):
    monkeypatch.setitem(tk.config, "ckanext.govservice.catalogue.auto_rebuild", False)
    context = {"user": factories.Sysadmin()["name"]}
    departments = json.loads((CITY / "departments.json").read_text("utf-8"))["departments"]
    published = 0
    load_network([d for d in departments if d["name"] in SAMPLE], context)
    for d in (d for d in departments if d["name"] in SAMPLE):   # indexed into the single core
        org = factories.Organization(name=d["name"], title=d["title"], title_en=d["title_en"],
                                         level=d["level"], area=d["area"])
        for record in _department_services(d):
            try:
                helpers.call_action("package_create", context=dict(context),
                                    **{**record, "type": "service", "owner_org": org["id"]})
                published += 1
            except tk.ValidationError:
                pass   # a planted mistake
    single_url = tk.config["solr_url"]
    indexed = helpers.call_action("package_search", q="*:*", rows=0)["count"]   # and the catalogues' entries
    monkeypatch.setitem(tk.config, "solr_url", solr_cloud.url)
    search.clear_all()
    search.rebuild()   # the same datasets, from the same database, into the collection
    assert sum(n for shard in solr_cloud.replicas().values() for _, n in shard[:1]) == indexed > published

    def ask(url: str) -> dict:
        monkeypatch.setitem(tk.config, "solr_url", url)
        answers = {what: helpers.call_action("package_search", **{"rows": 1000, **params})
                   for what, params, _ in QUERIES}
        answers["facets"] = helpers.call_action("package_search", q="*:*", fq="+dataset_type:service", rows=0,
                                                **{"facet.field": json.dumps(FACETS), "facet.limit": -1})
        return answers

    single, cloud = ask(single_url), ask(solr_cloud.url)
    assert single["facets"]["count"] == cloud["facets"]["count"] == published >= 30
    assert cloud["facets"]["search_facets"] == single["facets"]["search_facets"]
    assert len(cloud["facets"]["search_facets"]["themes_ss"]["items"]) >= 1
    for what, _params, ordered in QUERIES:
        names_single = [d["name"] for d in single[what]["results"]]
        names_cloud = [d["name"] for d in cloud[what]["results"]]
        assert cloud[what]["count"] == single[what]["count"] > 0, what
        if ordered:
            assert names_cloud == names_single, what
        else:   # relevance: each shard scores with its own term statistics, so ties may reorder
            assert sorted(names_cloud) == sorted(names_single), what


# ---------------------------------------------------------------- a node killed

def test_node_1_killed_with_sigkill_search_and_harvest_go_on_and_it_recovers_losing_nothing(
        on_cloud, sysadmin_context, harvest_into_cloud):
    """CKAN's solr_url names the nginx in front of the nodes, not a node: with node 1
    dead (SIGKILL, as when its host dies) every search still answers with every
    document, a harvest gets through once node 2's replicas lead every shard, and
    node 1 catches up when it is back."""
    made = _services(6, sysadmin_context)
    expected = (6, sorted(s["name"] for s in made))
    assert _names(sort="name asc") == expected
    harvest_into_cloud.feed("节点故障期间采集的事项")
    on_cloud.run("kill-node", "1")
    try:
        # every document is still found (each shard has a replica on node 2), whichever
        # node the round robin picks: node 1's turn is skipped
        for _ in range(6):
            assert _names(sort="name asc") == expected
        facets = helpers.call_action("package_search", q="*:*", rows=0,
                                     **{"facet.field": json.dumps(["organization"])})
        assert facets["count"] == 6
        with pytest.raises(requests.ConnectionError):   # node 1 really is gone
            requests.get(f"{on_cloud.node_urls[0]}/select", params={"q": "*:*"}, timeout=5)
        # a harvest keeps writing: CKAN's index updates are refused until ZooKeeper has
        # expired the dead node's session and node 2's replicas lead every shard; the
        # harvester retries a 5xx, and a run that still fails is completed by the next
        killed = time.monotonic()
        runs = [harvest_into_cloud.run()]
        while runs[-1]["status"] != "done":
            assert runs[-1]["error"].startswith("unexpected error: SearchIndexError: Solr returned an error"), runs[-1]
            assert time.monotonic() - killed < 90, f"harvests did not get through within 90 s of the kill: {runs}"
            runs.append(harvest_into_cloud.run())
        write_gap = time.monotonic() - killed
        assert sum(r["counts"].get("new", 0) for r in runs) == 3
        harvested = _names(fq=f"organization:{harvest_into_cloud.department}", sort="name asc")
        assert harvested[0] == 3
        assert all(helpers.call_action("package_show", id=n)["title"].startswith("节点故障期间采集的事项")
                   for n in harvested[1])
    finally:
        on_cloud.run("start-node", "1")
    on_cloud.run("wait-active", "120")
    # node 1 caught up: both replicas of each shard hold the same documents, 9 in all
    replicas = on_cloud.replicas()
    assert sorted(len(r) for r in replicas.values()) == [2, 2]
    for shard, held in replicas.items():
        assert len({n for _, n in held}) == 1, f"{shard}: {held}"
        assert len({node for node, _ in held}) == 2, f"{shard} is not on both nodes: {held}"
    assert sum(held[0][1] for held in replicas.values()) == 9
    print(f"after kill -9 of node 1 the harvest was through in {write_gap:.1f} s, in {len(runs)} run(s)")


# ---------------------------------------------------------------- ZooKeeper stopped

FEED_HEADER = "事项编码,事项名称,事项类型,服务对象,法定办结时限,承诺办结时限,到办事现场次数\r\n"


class Harvest:
    """A CSV source of a department of its own, harvested by govharvest into the test
    site served over HTTP (tests/testsite.py) with its solr_url on the collection."""

    def __init__(self, folder: Path, site: str, token: str, department: str):
        self.folder, self.site, self.token, self.department = folder, site, token, department

    def feed(self, title: str, n: int = 3) -> None:
        rows = "".join(f"Z-{i},{title}{i},public_service,citizen,10,5,0\r\n" for i in range(1, n + 1))
        path = self.folder / "services.csv"
        path.write_bytes((FEED_HEADER + rows).encode("gbk"))
        stamp = time.time() + 2   # Last-Modified has one-second resolution
        os.utime(path, (stamp, stamp))

    def run(self) -> dict:
        from ckanapi import RemoteCKAN
        from govharvest import db, pipeline, sources
        with db.connect() as conn:
            job_id = pipeline.start_job(conn, sources.get(conn, "cloud-feed"))
        with RemoteCKAN(self.site, apikey=self.token) as ckan:
            pipeline.run_job(db.connect, job_id, ckan)
        with db.connect() as conn:
            return pipeline.report(conn, job_id)


@pytest.fixture
def harvest_into_cloud(on_cloud, ckan_ini, tmp_path, monkeypatch):
    import functools
    import http.server
    import threading

    import psycopg2
    from govharvest import db, sources

    from . import testsite

    settings = dict(line.split("=", 1) for line in (ROOT / "var" / "harvest.env").read_text().splitlines()
                    if line.startswith("GOVHARVEST_TEST_DB_URL="))
    url = settings["GOVHARVEST_TEST_DB_URL"] + (f"_{SLOT}" if SLOT else "")
    monkeypatch.setenv("GOVHARVEST_ENV_FILE", "")
    monkeypatch.setenv("GOVHARVEST_DB_URL", url)
    monkeypatch.setenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("TRUNCATE job_outcome, record, job, source RESTART IDENTITY CASCADE")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    org = gov.department()
    admin = factories.Sysadmin()
    token = helpers.call_action("api_token_create", context={"user": admin["name"], "ignore_auth": True},
                                user=admin["name"], name="cloud harvest")["token"]
    with db.connect() as conn:
        sources.add(conn, name="cloud-feed", department=org["name"], format="csv",
                    location=f"http://127.0.0.1:{server.server_address[1]}/services.csv")
    try:
        with testsite.serve(ckan_ini, overrides={**testsite.NO_JOBS, "solr_url": on_cloud.url}) as site:
            yield Harvest(tmp_path, site, token, org["name"])
    finally:
        server.shutdown()


def test_zookeeper_stopped_health_says_so_updates_fail_clearly_and_nothing_is_lost(
        on_cloud, sysadmin_context, harvest_into_cloud):
    harvest = harvest_into_cloud
    made = _services(3, sysadmin_context)
    harvest.feed("云端采集事项")
    first = harvest.run()
    assert (first["status"], first["counts"].get("new")) == ("done", 3), first
    health = helpers.call_action("govservice_health", context={"ignore_auth": True})["services"]["solr"]
    assert (health["status"], health["mode"], health["live_nodes"], health["replicas_active"]) == ("up", "cloud", 2, 4)
    assert health["zookeeper"] == {f"127.0.0.1:{on_cloud.zk_port}": "standalone 3.9.4"}

    on_cloud.run("stop-zookeeper")
    try:
        stopped = time.monotonic()
        while True:   # the nodes notice within a few seconds
            health = helpers.call_action("govservice_health", context={"ignore_auth": True})
            solr = health["services"]["solr"]
            if solr["status"] == "down" or time.monotonic() - stopped > 30:
                break
            time.sleep(1)
        assert health["status"] == "degraded"
        assert solr["status"] == "down"
        assert solr["error"].startswith(f"SolrCloud has lost its ZooKeeper at 127.0.0.1:{on_cloud.zk_port} "
                                        f"(127.0.0.1:{on_cloud.zk_port}: down: ConnectionRefusedError")
        assert "every index update is refused until it is back" in solr["error"]
        anonymous = {"ignore_auth": False, "user": ""}
        assert helpers.call_action("govservice_health", context=anonymous)["services"]["solr"] == {"status": "down"}
        # searches still answer, from the cluster state the nodes last saw
        assert _names()[0] == 6   # 3 made here, 3 harvested
        # an update fails, naming Solr, and leaves the database as it was
        with pytest.raises(search.SearchIndexError, match="Solr returned an error"):
            helpers.call_action("package_patch", context=dict(sysadmin_context), id=made[0]["id"],
                                title="ZooKeeper 停止时的修改")
        model.Session.remove()
        assert helpers.call_action("package_show", id=made[0]["id"])["title"] == made[0]["title"]
        # a harvest meanwhile fails, its report naming Solr's refusal; nothing is noted as loaded
        harvest.feed("停机期间修改的事项")
        during = harvest.run()
        assert during["status"] == "failed", during
        assert during["error"].startswith("unexpected error: SearchIndexError: Solr returned an error"), during
        print(f"harvest during the outage: {during['error']}")
        assert during["changed"] == [] and during["new"] == []
    finally:
        on_cloud.run("start-zookeeper")
    back = time.monotonic()
    on_cloud.run("wait-active", "120")
    # the same update, sent again as a harvest's next run sends it, goes through
    # once the replicas have settled their leaders again: nothing published was lost
    while True:
        try:
            helpers.call_action("package_patch", context=dict(sysadmin_context), id=made[0]["id"],
                                title="ZooKeeper 恢复后的修改")
            break
        except search.SearchIndexError:
            model.Session.remove()
            assert time.monotonic() - back < 180, "updates did not resume within 180 s of ZooKeeper's return"
            time.sleep(1)
    print(f"updates resumed {time.monotonic() - back:.1f} s after ZooKeeper started again")
    assert _names(q="ZooKeeper 恢复后的修改")[1] == [made[0]["name"]]
    # the next harvest completes what the failed one could not write
    after = harvest.run()
    assert (after["status"], after["counts"].get("changed")) == ("done", 3), after
    titles = sorted(d["title"] for d in helpers.call_action(
        "package_search", fq=f"organization:{harvest.department}", rows=10)["results"])
    assert titles == [f"停机期间修改的事项{i}" for i in range(1, 4)]
    assert _names()[0] == 6
    on_cloud.run("wait-active", "120")
    health = helpers.call_action("govservice_health", context={"ignore_auth": True})["services"]["solr"]
    assert (health["status"], health["live_nodes"], health["replicas_active"]) == ("up", 2, 4)
