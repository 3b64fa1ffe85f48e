"""A source's credentials: a reference resolved at fetch time into the
Authorization header of a guarded feed harvested into the test site; the secret
is never stored, logged, reported or shown (the reference's own rules:
unit/test_credentials.py)."""
from __future__ import annotations

import base64
import functools
import http.server
import json
import logging
import threading

import pytest
from click.testing import CliRunner

from govharvest import cli, db, sources

from test_pipeline import HEADER, ROWS, harvest, services_of

SECRET = "Bearer s3cret-7f1c9a"
BASIC = "feeduser:pa55-e2d8"


class _Guarded(http.server.SimpleHTTPRequestHandler):
    """Serves the folder only to a request carrying SECRET or BASIC."""

    def do_GET(self):
        allowed = {SECRET, "Basic " + base64.b64encode(BASIC.encode()).decode()}
        if self.headers.get("Authorization") not in allowed:
            self.send_error(401)
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def guarded_feed(tmp_path, monkeypatch, harvest_db, department):
    monkeypatch.setenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    (tmp_path / "services.csv").write_text(HEADER + ROWS["SC-1"], encoding="utf-8")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Guarded, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/services.csv"
    server.shutdown()


def add_source(department, location, ref):
    with db.connect() as conn:
        return sources.add(conn, name="guarded", department=department["name"], format="csv",
                           location=location, credentials_ref=ref)


def shown_by_cli(*args) -> str:
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False).output


def test_an_env_reference_opens_the_feed_and_the_secret_appears_nowhere(
        portal, department, guarded_feed, monkeypatch, caplog):
    monkeypatch.setenv("FEED_TOKEN", SECRET)
    add_source(department, guarded_feed, "env:FEED_TOKEN")
    caplog.set_level(logging.DEBUG)

    report = harvest(portal, "guarded")

    assert report["counts"]["new"] == 1, report
    assert sorted(services_of(portal, department)) == ["SC-1"]
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT row_to_json(source)::text AS row FROM source")
        stored = cur.fetchone()["row"]
    shown = [json.dumps(report), caplog.text, stored, shown_by_cli("source", "show", "guarded"),
             shown_by_cli("report", str(report["job"]))]
    assert not [text for text in shown if "s3cret" in text]
    assert "env:FEED_TOKEN" in stored


def test_a_basic_auth_file_reference_works(portal, department, guarded_feed, tmp_path):
    secret_file = tmp_path / "feed.secret"
    secret_file.write_text(BASIC + "\n")
    add_source(department, guarded_feed, f"basic:file:{secret_file}")
    assert harvest(portal, "guarded")["counts"]["new"] == 1


def test_a_wrong_or_missing_secret_fails_the_job_without_showing_it(
        portal, department, guarded_feed, monkeypatch, caplog):
    monkeypatch.setenv("FEED_TOKEN", "Bearer wrong-s3cret")
    add_source(department, guarded_feed, "env:FEED_TOKEN")

    wrong = harvest(portal, "guarded")
    monkeypatch.delenv("FEED_TOKEN")
    missing = harvest(portal, "guarded")

    assert wrong["status"] == "failed" and "HTTP 401" in wrong["error"]
    assert missing["status"] == "failed" and "$FEED_TOKEN, which is not set" in missing["error"]
    assert "s3cret" not in json.dumps([wrong, missing]) + caplog.text
