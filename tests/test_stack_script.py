"""stack/stack.sh as an operator meets it: clear refusals, quick reruns."""
import os
import socket
import subprocess

import pytest

from .stackctl import ROOT, STACK

pytestmark = pytest.mark.stack


def run_stack(*args, env=None):
    return subprocess.run(["bash", str(STACK), *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def test_a_port_taken_by_another_program_is_named_with_its_process(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]

        result = run_stack("start", "redis", env={"GOVSERVICE_VAR": str(tmp_path),
                                                  "GOVSERVICE_REDIS_PORT": str(port)})

    assert result.returncode == 1
    assert f"port {port} (for redis) is already in use by" in result.stderr
    assert f"(pid {os.getpid()})" in result.stderr      # the process holding it: this test
    assert "GOVSERVICE_REDIS_PORT" in result.stderr


def test_up_when_everything_is_up_starts_nothing():
    result = run_stack("up")

    assert result.returncode == 0, result.stderr
    assert "starting" not in result.stdout
    assert "up: CKAN http://127.0.0.1:" in result.stdout


def test_status_lists_every_service_with_its_port_and_log():
    out = run_stack("status").stdout
    for service, port in [("postgresql", "5432"), ("redis", "6379"), ("solr", "8983"), ("ckan", "5000")]:
        line = next(l for l in out.splitlines() if l.startswith(service))
        assert line.split()[1:3] == ["running", port]
    assert "govservice_health: ok" in out
