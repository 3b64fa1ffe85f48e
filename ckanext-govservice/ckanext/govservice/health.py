"""Probes of the services the platform stands on, for `govservice_health`.

Each probe returns a plain dict: ``{"status": "up", "version": ...}`` or
``{"status": "down", "error": "<what failed, in words an operator can act
on>"}``. A probe never raises: a dead dependency is a finding, not a crash.
Every probe is bounded by ``ckanext.govservice.health.timeout``.
"""
from __future__ import annotations

import socket
import time
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

import requests
import rq
import sqlalchemy as sa
from redis import Redis

import ckan
import ckan.model as model
import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.lib import jobs

UP, DOWN = "up", "down"
Probe = dict[str, Any]


def overall_status(services: dict[str, Probe]) -> str:
    """``ok`` when every service is up, otherwise ``degraded``."""
    return "ok" if all(s["status"] == UP for s in services.values()) else "degraded"


def redact_url(url: str) -> str:
    """The URL without user name or password, safe to show to anyone."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def timed(probe: Callable[[], Probe]) -> Probe:
    """Run a probe, adding how long it took; turn any exception into "down"."""
    started = time.perf_counter()
    try:
        result = probe()
    except Exception as e:  # a health check reports failures, it never raises
        result = {"status": DOWN, "error": _reason(e)}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _reason(e: Exception) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _timeout() -> float:
    return tk.config.get("ckanext.govservice.health.timeout")


def check_ckan() -> Probe:
    return {"status": UP, "version": ckan.__version__}


def check_postgresql() -> Probe:
    url = tk.config["sqlalchemy.url"]
    try:
        with model.meta.engine.connect() as conn:
            conn.execute(sa.text("SET LOCAL statement_timeout = :ms"),
                         {"ms": int(_timeout() * 1000)})
            version = conn.execute(sa.text("SHOW server_version")).scalar()
            database = conn.execute(sa.text("SELECT current_database()")).scalar()
    except sa.exc.SQLAlchemyError as e:
        return {"status": DOWN, "url": redact_url(url),
                "error": f"PostgreSQL did not answer at {redact_url(url)}: {_reason(e.orig or e)}"}
    return {"status": UP, "version": str(version).split()[0], "database": database}


def check_datastore() -> Probe:
    if not p.plugin_loaded("datastore"):
        return {"status": DOWN, "error": "the datastore plugin is not enabled in ckan.plugins"}
    from ckanext.datastore.backend.postgres import get_read_engine

    from ckanext.datastore.backend.postgres import get_write_engine

    from .statistics_store import tables

    url = tk.config["ckan.datastore.read_url"]
    try:
        with get_read_engine().connect() as conn:
            database = conn.execute(sa.text("SELECT current_database()")).scalar()
            user = conn.execute(sa.text("SELECT current_user")).scalar()
        with get_write_engine().connect() as conn:
            kpi_tables = tables.revision(conn)
    except sa.exc.SQLAlchemyError as e:
        return {"status": DOWN,
                "error": f"the DataStore database did not answer at {redact_url(url)}: {_reason(e.orig or e)}"}
    if kpi_tables != tables.head_revision():
        return {"status": DOWN, "database": database, "read_role": user, "kpi_tables": kpi_tables,
                "error": f"the KPI engine's tables are at revision {kpi_tables or '(none)'}, the code needs "
                         f"{tables.head_revision()}: run `ckan db upgrade -p govservice`"}
    return {"status": UP, "database": database, "read_role": user, "kpi_tables": kpi_tables}


def replica_hosts() -> list[str]:
    """The DataStore replicas ``ckan.datastore.read_url`` names (its ``host``
    parameters other than the primary's, which is ``ckan.datastore.write_url``'s)."""
    read = sa.engine.make_url(tk.config["ckan.datastore.read_url"])
    write = sa.engine.make_url(tk.config["ckan.datastore.write_url"])
    hosts = read.query.get("host") or ()
    primary = f"{write.host}:{write.port or 5432}"
    return [h for h in ([hosts] if isinstance(hosts, str) else hosts) if h != primary]


def check_datastore_replica() -> Probe:
    """Each streaming replica of the DataStore database: a standby, how far its
    replay is behind the primary (bytes of WAL, and seconds when it is behind),
    and where the DataStore's reads are served now."""
    from ckanext.datastore.backend.postgres import get_read_engine, get_write_engine

    read = sa.engine.make_url(tk.config["ckan.datastore.read_url"])
    found: Probe = {"status": UP, "replicas": {}}
    with get_write_engine().connect() as conn:
        primary_lsn = conn.execute(sa.text("SELECT pg_current_wal_lsn()::text")).scalar()
    for host in replica_hosts():
        name, _, port = host.rpartition(":")
        one = sa.create_engine(read.set(host=name, port=int(port), query={}), poolclass=sa.pool.NullPool,
                               connect_args={"connect_timeout": max(1, int(_timeout()))})
        try:
            with one.connect() as conn:
                standby, lag_bytes, lag_seconds = conn.execute(sa.text("""
                    SELECT pg_is_in_recovery(),
                           pg_wal_lsn_diff(CAST(:primary AS pg_lsn), pg_last_wal_replay_lsn()),
                           CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                                ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END"""),
                    {"primary": primary_lsn}).one()
        except sa.exc.SQLAlchemyError as e:
            found["replicas"][host] = {"status": DOWN}
            found.update(status=DOWN, error=f"the DataStore replica at {host} did not answer "
                         f"({_reason(e.orig or e)}): DataStore and KPI reads are served by the primary")
            continue
        finally:
            one.dispose()
        if not standby:
            found["replicas"][host] = {"status": DOWN}
            found.update(status=DOWN, error=f"the DataStore replica at {host} is not a standby "
                         "(promoted?): it no longer follows the primary")
            continue
        found["replicas"][host] = {"status": UP, "lag_bytes": max(0, int(lag_bytes or 0)),
                                   "lag_seconds": round(float(lag_seconds or 0), 3)}
    try:
        with get_read_engine().connect() as conn:
            port, standby = conn.execute(sa.text("SELECT inet_server_port(), pg_is_in_recovery()")).one()
        found["reads_served_by"] = f"replica on port {port}" if standby else "primary (fail-over)"
    except sa.exc.SQLAlchemyError as e:
        found.update(status=DOWN, reads_served_by=None,
                     error=f"DataStore reads reach neither replica nor primary: {_reason(e.orig or e)}")
    return found


def probes() -> dict[str, Callable[[], Probe]]:
    """The probes to run: PROBES, and the DataStore replica's when read_url names one."""
    if replica_hosts():
        return {**PROBES, "datastore_replica": check_datastore_replica}
    return PROBES


def check_solr() -> Probe:
    core_url = tk.config["solr_url"].rstrip("/")
    auth = None
    if tk.config.get("solr_user") and tk.config.get("solr_password"):
        auth = (tk.config["solr_user"], tk.config["solr_password"])
    shown = redact_url(core_url)
    try:
        ping = requests.get(f"{core_url}/admin/ping", params={"wt": "json"},
                            auth=auth, timeout=_timeout())
        ping.raise_for_status()
        system = requests.get(f"{core_url}/admin/system", params={"wt": "json"},
                              auth=auth, timeout=_timeout())
        system.raise_for_status()
        count = requests.get(f"{core_url}/select",
                             params={"q": "*:*", "rows": 0, "wt": "json"},
                             auth=auth, timeout=_timeout())
        count.raise_for_status()
    except requests.ConnectionError:
        return {"status": DOWN, "url": shown,
                "error": f"Solr is not reachable at {shown} (connection refused or host unknown)"}
    except requests.Timeout:
        return {"status": DOWN, "url": shown,
                "error": f"Solr did not answer at {shown} within {_timeout()} s"}
    except requests.HTTPError as e:
        return {"status": DOWN, "url": shown,
                "error": f"Solr answered HTTP {e.response.status_code} at {e.request.url.split('?')[0]}"}
    lucene = system.json().get("lucene", {})
    result = {"status": UP, "url": shown,
              "version": lucene.get("solr-spec-version"),
              "documents": count.json()["response"]["numFound"]}
    if system.json().get("mode") == "solrcloud":
        zk_connected = count.json()["responseHeader"].get("zkConnected", True)
        result.update(_solr_cloud(core_url, system.json().get("zkHost"), zk_connected, auth))
    return result


def _zookeeper(zk_host: str) -> dict[str, str]:
    """Each ZooKeeper server of Solr's zkHost (``h1:2181,h2:2181/chroot``), asked
    ``srvr`` (a four-letter command ZooKeeper allows by default): its mode and
    version, or ``down: <reason>``. A server that refuses the command still answered."""
    found = {}
    for server in filter(None, zk_host.split("/", 1)[0].split(",")):
        host, _, port = server.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=_timeout()) as conn:
                conn.sendall(b"srvr")
                answer = b""
                while chunk := conn.recv(4096):
                    answer += chunk
        except OSError as e:
            found[server] = f"down: {_reason(e)}"
            continue
        fields = dict(line.split(": ", 1) for line in answer.decode("utf-8", "replace").splitlines()
                      if ": " in line)
        version = fields.get("Zookeeper version", "").split("-")[0].split(",")[0]
        found[server] = " ".join(filter(None, [fields.get("Mode", "up"), version]))
    return found


def _lost_zookeeper(zk_host: str | None, reason: str) -> str:
    return (f"SolrCloud has lost its ZooKeeper at {zk_host} ({reason}): searches answer from the "
            "last known cluster state, every index update is refused until it is back")


def _solr_cloud(core_url: str, zk_host: str | None, zk_connected: bool, auth: Any) -> Probe:
    """SolrCloud's own state, from the node CKAN talks to: ZooKeeper reachable,
    live nodes, and whether every shard of the collection has an active replica.
    A node that has lost ZooKeeper still answers searches from the cluster state
    it last saw, but refuses every update, so that is "down"; a lost replica whose
    shard still has another active one is reported but leaves search whole."""
    base, collection = core_url.rsplit("/", 1)
    ensemble = _zookeeper(zk_host or "")
    found: Probe = {"mode": "cloud", "zookeeper": ensemble, "collection": collection}
    answering = [h for h, state in ensemble.items() if not state.startswith("down")]
    if ensemble and len(answering) * 2 <= len(ensemble):
        reasons = "; ".join(f"{h}: {state}" for h, state in ensemble.items())
        return {**found, "status": DOWN, "error": _lost_zookeeper(zk_host, reasons)}
    if not zk_connected:
        return {**found, "status": DOWN, "error": _lost_zookeeper(zk_host, "the node answers zkConnected=false")}
    try:
        answer = requests.get(f"{base}/admin/collections",
                              params={"action": "CLUSTERSTATUS", "collection": collection, "wt": "json"},
                              auth=auth, timeout=_timeout())
        body = answer.json()
    except (requests.RequestException, ValueError) as e:
        return {**found, "status": DOWN,
                "error": f"SolrCloud did not report its cluster state at {redact_url(base)} "
                         f"(it reads it from ZooKeeper): {_reason(e)}"}
    if answer.status_code != 200:
        reason = (body.get("error") or {}).get("msg", f"HTTP {answer.status_code}").splitlines()[0]
        if "KeeperErrorCode" in reason or "ZooKeeper" in reason or "zkClient" in reason:
            return {**found, "status": DOWN, "error": _lost_zookeeper(zk_host, reason)}
        return {**found, "status": DOWN, "error": f"SolrCloud refused CLUSTERSTATUS: {reason}"}
    cluster = body["cluster"]
    live = set(cluster.get("live_nodes", []))
    shards = cluster.get("collections", {}).get(collection, {}).get("shards", {})
    if not shards:
        return {**found, "status": DOWN, "live_nodes": len(live),
                "error": f"SolrCloud has no collection {collection!r}"}
    active = {name: sorted(r["node_name"] for r in shard["replicas"].values()
                           if r["state"] == "active" and r["node_name"] in live)
              for name, shard in shards.items()}
    found.update(live_nodes=len(live), shards=len(shards),
                 replicas=sum(len(shard["replicas"]) for shard in shards.values()),
                 replicas_active=sum(len(nodes) for nodes in active.values()))
    empty = sorted(name for name, nodes in active.items() if not nodes)
    if empty:
        return {**found, "status": DOWN,
                "error": f"SolrCloud collection {collection!r}: no active replica of {', '.join(empty)}; "
                         "searches miss those shards' documents and their updates are refused"}
    return found


def _redis() -> Redis:
    return Redis.from_url(tk.config["ckan.redis.url"],
                          socket_timeout=_timeout(),
                          socket_connect_timeout=_timeout())


def check_redis() -> Probe:
    url = tk.config["ckan.redis.url"]
    conn = _redis()
    try:
        info = conn.info("server")
    except Exception as e:
        return {"status": DOWN, "url": redact_url(url),
                "error": f"Redis did not answer at {redact_url(url)}: {_reason(e)}"}
    finally:
        conn.close()
    return {"status": UP, "url": redact_url(url), "version": info["redis_version"]}


def check_job_worker() -> Probe:
    wanted = [jobs.add_queue_name_prefix(q)
              for q in tk.config.get("ckanext.govservice.health.worker_queues")]
    conn = _redis()
    try:
        workers = rq.Worker.all(connection=conn)
        listening = [w for w in workers if set(w.queue_names()) & set(wanted)]
        queued = {jobs.remove_queue_name_prefix(q): rq.Queue(q, connection=conn).count
                  for q in wanted}
    except Exception as e:
        return {"status": DOWN, "error": f"could not read the job queues from Redis: {_reason(e)}"}
    finally:
        conn.close()
    if not listening:
        return {"status": DOWN, "workers": 0, "queued_jobs": queued,
                "error": "no job worker is listening on queue(s) "
                         + ", ".join(jobs.remove_queue_name_prefix(q) for q in wanted)
                         + "; start one with `ckan jobs worker`"}
    return {"status": UP, "workers": len(listening), "queued_jobs": queued,
            "version": f"rq {rq.__version__}"}


def may_see_details(context: dict[str, Any]) -> bool:
    """Sysadmins and the platform's own calls (``ignore_auth``: the CLI, other
    actions) see hosts, versions and database names; an API caller never sets
    ``ignore_auth``."""
    from ckan import authz
    return bool(context.get("ignore_auth")) or authz.is_sysadmin(context.get("user"))


def up_or_down(services: dict[str, Probe]) -> dict[str, Probe]:
    """The public report: each service's status and nothing else (no host,
    version, database or error text)."""
    return {name: {"status": probe["status"]} for name, probe in services.items()}


PROBES: dict[str, Callable[[], Probe]] = {
    "ckan": check_ckan,
    "postgresql": check_postgresql,
    "datastore": check_datastore,
    "solr": check_solr,
    "redis": check_redis,
    "job_worker": check_job_worker,
}
