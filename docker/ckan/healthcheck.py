#!/usr/bin/env python3
"""Container health checks of the ckan image: ``healthcheck.py ROLE``, exit 0 = healthy.

A health check runs beside the service, with the container's configured
environment rather than the one the entrypoint built, so the settings are read
from the service process itself (/proc/1/environ; GOVSERVICE_HEALTH_PID to
check another process).

  web               CKAN answers status_show on its port
  harvest-admin     the harvest admin app answers its login page
  worker            a CKAN job worker of this host is registered in Redis
  harvest-worker    a harvest worker of this host is registered in Redis
  scheduler         the periodic tasks' scheduler of this host beat in Redis lately
  harvest-scheduler the harvest database and Redis answer
  cli               the same (the operators' tools container)
  init              the tools' API token has been written (migrations done)
"""
from __future__ import annotations

import json
import os
import socket
import sys
import urllib.request
from pathlib import Path


def process_env() -> dict[str, str]:
    pid = os.environ.get("GOVSERVICE_HEALTH_PID", "1")
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=4) as response:
        body = response.read()
    return response.status == 200 and (not url.endswith("status_show") or json.loads(body)["success"])


def port_of(bind: str) -> str:
    return bind.rsplit(":", 1)[1]


def worker_here(redis_url: str, queue_part: str) -> bool:
    import rq
    from redis import Redis

    host = socket.gethostname()
    return any(w.hostname == host and any(queue_part in q for q in w.queue_names())
               for w in rq.Worker.all(connection=Redis.from_url(redis_url, socket_timeout=4)))


def check(role: str, env: dict[str, str]) -> bool:
    if role == "web":
        return http_ok(f"http://127.0.0.1:{port_of(env['GOVSERVICE_CKAN_BIND'])}/api/3/action/status_show")
    if role == "harvest-admin":
        return http_ok(f"http://127.0.0.1:{port_of(env['GOVSERVICE_HARVEST_ADMIN_BIND'])}/login")
    if role == "worker":
        return worker_here(env["GOVSERVICE_REDIS_URL"], "default")
    if role == "harvest-worker":
        return worker_here(env["GOVHARVEST_REDIS_URL"], "")
    if role == "scheduler":   # schedule.py's heartbeat, written every 30 s, kept 120 s
        from redis import Redis
        return bool(Redis.from_url(env["GOVSERVICE_REDIS_URL"], socket_timeout=4).exists(
            f"govservice:schedule:alive:{socket.gethostname()}"))
    if role in ("harvest-scheduler", "cli"):
        import psycopg2
        from redis import Redis

        Redis.from_url(env["GOVHARVEST_REDIS_URL"], socket_timeout=4).ping()
        psycopg2.connect(env["GOVHARVEST_DB_URL"], connect_timeout=4).close()
        return True
    if role == "init":
        return Path(env["GOVSERVICE_TOKEN_FILE"]).stat().st_size > 0
    raise SystemExit(f"healthcheck: unknown role {role}")


if __name__ == "__main__":
    try:
        healthy = check(sys.argv[1], process_env())
    except Exception as e:  # any failure to check is "unhealthy", with the reason in docker inspect
        print(f"unhealthy: {type(e).__name__}: {e}")
        sys.exit(1)
    print("healthy" if healthy else "unhealthy")
    sys.exit(0 if healthy else 1)
