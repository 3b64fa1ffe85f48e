"""The commands the README names work after `make up`/`make demo` with nothing
set by hand: the harvest command finds the checkout's settings (var/harvest.env)
from any folder, and CKAN's command finds ckan.ini from the checkout."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from .stackctl import ROOT

pytestmark = pytest.mark.stack

VENV_BIN = ROOT / ".venv" / "bin"


def _clean_env() -> dict[str, str]:
    """The environment of a new shell: nothing of ours set."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("GOVHARVEST_", "GOVSERVICE_", "CKAN_"))}


def _run(cmd: list[str], cwd, ok=(0,)) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=_clean_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode in ok, f"{' '.join(cmd)} failed:\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return result


def _harvest_db_jobs() -> int:
    import psycopg2
    settings = dict(line.split("=", 1) for line in (ROOT / "var" / "harvest.env").read_text().splitlines())
    with psycopg2.connect(settings["GOVHARVEST_DB_URL"]) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM job")
        return cur.fetchone()[0]


@pytest.mark.parametrize("cwd", [ROOT, "/"], ids=["from the checkout", "from another folder"])
def test_govharvest_reads_the_checkouts_settings(cwd):
    jobs = _run([str(VENV_BIN / "govharvest"), "jobs"], cwd).stdout.splitlines()
    _run([str(VENV_BIN / "govharvest"), "source", "list"], cwd)
    _run([str(VENV_BIN / "govharvest"), "db", "upgrade"], cwd)

    assert len(jobs) == min(50, _harvest_db_jobs())    # the demo's harvest database, read


def test_ckan_commands_find_ckan_ini_from_the_checkout():
    # exit 1 says a service is down (other tests stop and start them): the command ran all the same
    health = json.loads(_run([str(VENV_BIN / "ckan"), "govservice", "health"], ROOT, ok=(0, 1)).stdout)

    assert health["services"]["postgresql"]["database"] == "govservice"    # the portal's, from ckan.ini
    assert health["services"]["postgresql"]["status"] == "up"
