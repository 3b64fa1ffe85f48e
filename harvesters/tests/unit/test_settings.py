"""The command line finds the checkout's settings by itself, and a setting that
is missing or a database that does not answer ends a command with one line
naming the fix, never a traceback. Unit tests: nothing needs to be running
(the unreachable database is a closed port on loopback)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from govharvest import settings

GOVHARVEST = Path(sys.executable).with_name("govharvest")


def _checkout(tmp_path: Path, lines: str | None) -> Path:
    (tmp_path / "stack").mkdir()
    (tmp_path / "stack" / "stack.sh").write_text("#!/bin/sh\n")
    if lines is not None:
        (tmp_path / "var").mkdir()
        (tmp_path / "var" / "harvest.env").write_text(lines)
    return tmp_path


def test_the_checkouts_settings_file_is_read_by_default(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "CHECKOUT", _checkout(tmp_path, "GOVHARVEST_DB_URL=postgresql://a@h:1/db\n"
                                                                  "GOVHARVEST_CKAN_URL=http://portal\n"))
    monkeypatch.delenv("GOVHARVEST_ENV_FILE", raising=False)
    monkeypatch.delenv("GOVSERVICE_VAR", raising=False)
    monkeypatch.delenv("GOVHARVEST_DB_URL", raising=False)
    monkeypatch.setenv("GOVHARVEST_CKAN_URL", "http://mine")     # the environment wins
    settings.load_env_file()
    assert settings.database_url() == "postgresql://a@h:1/db"
    assert settings.ckan_url() == "http://mine"


def test_govservice_var_moves_the_default_file(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "CHECKOUT", _checkout(tmp_path, None))
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "harvest.env").write_text("GOVHARVEST_DB_URL=postgresql://moved/db\n")
    monkeypatch.delenv("GOVHARVEST_ENV_FILE", raising=False)
    monkeypatch.delenv("GOVHARVEST_DB_URL", raising=False)
    monkeypatch.setenv("GOVSERVICE_VAR", str(tmp_path / "elsewhere"))
    settings.load_env_file()
    assert settings.database_url() == "postgresql://moved/db"


def test_an_empty_env_file_setting_reads_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "CHECKOUT", _checkout(tmp_path, "GOVHARVEST_DB_URL=postgresql://a@h:1/db\n"))
    monkeypatch.setenv("GOVHARVEST_ENV_FILE", "")
    monkeypatch.delenv("GOVHARVEST_DB_URL", raising=False)
    settings.load_env_file()
    assert "GOVHARVEST_DB_URL" not in os.environ


def test_outside_a_checkout_there_is_no_default_file(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "CHECKOUT", tmp_path)      # no stack/stack.sh: an installed package
    assert settings.default_env_file() is None


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    """govharvest with only the given GOVHARVEST_* settings, from a folder outside the checkout."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GOVHARVEST_", "GOVSERVICE_VAR"))}
    return subprocess.run([str(GOVHARVEST), *args], env={**clean, **env}, cwd="/",
                          capture_output=True, text=True, timeout=60)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


@pytest.mark.parametrize("command", [("jobs",), ("source", "list"), ("report", "1"), ("db", "upgrade")])
def test_no_database_setting_is_one_line_naming_make_up(command):
    line = _one_line_error(_run(*command, GOVHARVEST_ENV_FILE=""))
    assert line == ("Error: the harvest database is not set: run `make up` in the checkout (it writes "
                    "var/harvest.env), or set GOVHARVEST_DB_URL "
                    "(e.g. postgresql://user:password@127.0.0.1:5432/govharvest)")


def test_a_database_that_does_not_answer_is_one_line_naming_where_and_the_fix():
    port = _closed_port()
    line = _one_line_error(_run("jobs", GOVHARVEST_ENV_FILE="",
                                GOVHARVEST_DB_URL=f"postgresql://someone:secret@127.0.0.1:{port}/govharvest"))
    assert line.startswith(f"Error: the harvest database govharvest on 127.0.0.1:{port} cannot be reached (")
    assert line.endswith("start the stack with `make up` in the checkout, or check GOVHARVEST_DB_URL")
    assert "secret" not in line


def test_a_missing_settings_file_is_named():
    line = _one_line_error(_run("jobs", GOVHARVEST_ENV_FILE="/nonexistent/harvest.env"))
    assert line.startswith("Error: GOVHARVEST_ENV_FILE names /nonexistent/harvest.env, which does not exist: "
                           "run `make up` in the checkout")


def test_a_missing_token_file_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("GOVHARVEST_CKAN_URL", "http://127.0.0.1:1")
    monkeypatch.delenv("GOVHARVEST_CKAN_TOKEN", raising=False)
    monkeypatch.setenv("GOVHARVEST_CKAN_TOKEN_FILE", str(tmp_path / "api-token"))
    with pytest.raises(settings.NotConfigured, match=r"the CKAN API token file .*api-token "
                                                     r"\(GOVHARVEST_CKAN_TOKEN_FILE\) does not exist: run `make up`"):
        settings.ckan()


def test_push_to_an_admin_app_that_does_not_answer_is_one_line(tmp_path):
    feed = tmp_path / "services.json"
    feed.write_text('{"services": []}')
    port = _closed_port()
    line = _one_line_error(_run("push", str(feed), "--department", "tax", GOVHARVEST_PUSH_TOKEN="t", GOVHARVEST_ENV_FILE="",
                                GOVHARVEST_ADMIN_URL=f"http://127.0.0.1:{port}"))
    assert line == (f"Error: http://127.0.0.1:{port}/api/push/tax cannot be reached: start the stack with "
                    "`make up` (or `make demo` for the admin app), or check its address")


def test_the_queue_that_does_not_answer_is_one_line():
    port = _closed_port()
    # the database is reached first: without one, its line comes first; the queue's own
    # message is checked through the group's handler directly
    from click.testing import CliRunner
    from govharvest import cli
    import redis

    @cli.main.command("_queue_probe", hidden=True)
    def _probe():
        redis.Redis(port=port).ping()
    try:
        result = CliRunner().invoke(cli.main, ["_queue_probe"],
                                    env={"GOVHARVEST_ENV_FILE": "",
                                         "GOVHARVEST_REDIS_URL": f"redis://127.0.0.1:{port}/10"})
    finally:
        cli.main.commands.pop("_queue_probe")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: the job queue's Redis (redis://127.0.0.1:{port}/10) cannot be reached (")
    assert result.output.rstrip().endswith("start the stack with `make up`, or check GOVHARVEST_REDIS_URL")
