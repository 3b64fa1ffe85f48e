"""docker/nginx's proxy config, run for real: Debian's nginx (unpacked by
docker/tools/install.sh; production runs the nginx:1.28 image) with the template
rendered as the nginx image renders it, in front of the running portal on a
free local port. Anonymous API reads are cached, personal ones never, answers
are gzipped and oversized requests refused."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from .stackctl import CKAN_URL, ROOT

pytestmark = pytest.mark.stack

NGINX = Path(os.environ.get("GOVSERVICE_VAR", ROOT / "var")) / "docker-tools" / "nginx" / "usr" / "sbin" / "nginx"
TEMPLATE = ROOT / "docker" / "nginx" / "templates" / "default.conf.template"
SETTINGS = {"NGINX_CLIENT_MAX_BODY_SIZE": "1m", "NGINX_PUSH_MAX_BODY_SIZE": "2m",
            "NGINX_API_CACHE_TTL": "60s", "NGINX_API_CACHE_MAX_SIZE": "50m"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    if not NGINX.exists():
        pytest.fail(f"{NGINX} is missing: run `make install` (docker/tools/install.sh)")
    run = tmp_path_factory.mktemp("nginx")
    port, admin_port = free_port(), free_port()
    conf = TEMPLATE.read_text()
    for name, value in SETTINGS.items():    # the image's envsubst: only the NGINX_* it is given
        conf = conf.replace("${%s}" % name, value)
    assert not re.search(r"^[^#]*\$\{", conf, re.M)   # every setting given
    ckan = CKAN_URL.removeprefix("http://")
    conf = (conf.replace("server ckan:5000", f"server {ckan}")
                .replace("server harvest-admin:8800", f"server 127.0.0.1:{free_port()}")
                .replace("listen 8080;", f"listen 127.0.0.1:{port};")
                .replace("listen 8800;", f"listen 127.0.0.1:{admin_port};")
                .replace("/var/cache/nginx/ckan-api", str(run / "cache")))
    (run / "default.conf").write_text(conf)
    temp = " ".join(f"{kind}_temp_path {run / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # started as root, nginx's workers drop to `nobody`, who cannot enter pytest's 0700 tmp dirs
    user = "user root;" if os.geteuid() == 0 else ""
    (run / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
error_log {run}/error.log warn;
pid {run}/nginx.pid;
events {{ worker_connections 64; }}
http {{
  types {{ application/json json; text/html html; }}
  access_log {run}/access.log;
  {temp}
  include {run}/default.conf;
}}""")
    subprocess.run([NGINX, "-p", run, "-c", run / "nginx.conf", "-t"], check=True, capture_output=True)
    subprocess.run([NGINX, "-p", run, "-c", run / "nginx.conf"], check=True, capture_output=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            requests.get(f"{base}/nginx-health", timeout=2)
            break
        except requests.ConnectionError:
            assert time.monotonic() < deadline, (run / "error.log").read_text()
            time.sleep(0.1)
    # CKAN itself may be restarting (another `make up` picked up new code): wait for it
    deadline = time.monotonic() + 120
    while requests.get(f"{base}/api/3/action/status_show", timeout=60, headers={"Authorization": "x"}).status_code != 200:
        assert time.monotonic() < deadline, "the portal behind the proxy did not answer"
        time.sleep(1)
    yield base
    pid = int((run / "nginx.pid").read_text())
    os.kill(pid, 15)


def test_the_health_endpoint_answers(proxy):
    assert requests.get(f"{proxy}/nginx-health", timeout=5).text == "ok\n"


def test_an_anonymous_api_read_is_served_from_the_cache_the_second_time(proxy):
    url = f"{proxy}/api/3/action/package_search?rows=1&q=cache-{time.time_ns()}"
    first, second = requests.get(url, timeout=30), requests.get(url, timeout=30)
    assert (first.headers["X-Cache-Status"], second.headers["X-Cache-Status"]) == ("MISS", "HIT")
    assert first.json() == second.json()


@pytest.mark.parametrize("personal", [{"headers": {"Authorization": "a-token"}},
                                      {"cookies": {"ckan": "a-session"}}], ids=["token", "session"])
def test_a_read_with_a_token_or_a_session_is_never_cached(proxy, personal):
    url = f"{proxy}/api/3/action/package_search?rows=1&q=personal-{time.time_ns()}"
    statuses = [requests.get(url, timeout=30, **personal).headers["X-Cache-Status"] for _ in range(2)]
    assert statuses == ["BYPASS", "BYPASS"]


def test_api_answers_are_gzipped(proxy):
    response = requests.get(f"{proxy}/api/3/action/package_search?rows=20", timeout=30,
                            headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.json()["success"] is True


def test_a_request_over_the_size_limit_is_refused_before_ckan(proxy):
    response = requests.post(f"{proxy}/api/3/action/package_create", data=b"x" * (2 * 1024 * 1024), timeout=30)
    assert response.status_code == 413


def test_writes_are_not_cached(proxy):
    response = requests.post(f"{proxy}/api/3/action/status_show", json={}, timeout=30)
    assert response.json()["success"] is True
    assert response.headers.get("X-Cache-Status") is None
