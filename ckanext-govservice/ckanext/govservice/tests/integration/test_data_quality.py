"""Data quality per department: the guide fields that matter, and broken links found
on a local test server through the harvesters' guarded client."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ckan.tests import helpers

from ckanext.govservice import data_quality

from .. import factories as gov


class Links(BaseHTTPRequestHandler):
    seen: list[tuple[str, str]] = []

    def _answer(self, with_body: bool):
        Links.seen.append((self.command, self.path))
        code = {"/ok": 200, "/gone": 404, "/moved": 301, "/head-refused": 200}.get(self.path, 500)
        if self.path == "/head-refused" and self.command == "HEAD":
            code = 405
        self.send_response(code)
        if code == 301:
            self.send_header("Location", "/gone")
        self.send_header("Content-Length", "2")
        self.end_headers()
        if with_body:
            self.wfile.write(b"ok")

    def do_HEAD(self):
        self._answer(False)

    def do_GET(self):
        self._answer(True)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Links)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", "127.0.0.1")   # as a harvest source would need
    Links.seen = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def online(url):
    return {"channel_type": "online", "url": url}


def test_the_score_counts_the_fields_that_matter(statistics_db, sysadmin, dept):
    gov.service(dept["id"], service_code="SR-1", name="sr-1")                       # passes all four
    gov.service(dept["id"], service_code="SR-2", name="sr-2", documents=[],
                fees=[{"name": "工本费", "amount": 10, "currency": "CNY"}])            # no documents, no fee basis
    gov.service(dept["id"], service_code="SR-3", name="sr-3", legal_basis=[],
                channels=[{"channel_type": "phone", "phone": "0571-12345"}])            # nowhere to go
    answer = data_quality.score("market-regulation")
    assert answer["services"] == 3
    assert answer["checks"] == {"documents": 0.666667, "channel_addresses": 0.666667,
                                "fee_basis": 0.666667, "legal_basis": 0.666667}
    assert answer["score"] == 0.666667                                              # 8 of 12 checks
    assert answer["failing"] == [
        {"name": "sr-2", "service_code": "SR-2", "checks": ["documents", "fee_basis"]},
        {"name": "sr-3", "service_code": "SR-3", "checks": ["channel_addresses", "legal_basis"]}]


def test_broken_links_are_found_on_a_local_server_head_then_get(statistics_db, sysadmin, dept, server):
    gov.service(dept["id"], service_code="SR-1", name="sr-1",
                channels=[online(f"{server}/ok"), online(f"{server}/head-refused")],
                legal_basis=[{"title": "条例", "url": f"{server}/gone"}])
    gov.service(dept["id"], service_code="SR-2", name="sr-2",
                channels=[online(f"{server}/moved"), online("http://169.254.169.254/latest")])
    waits = []
    report = data_quality.check_links("market-regulation", sleep=waits.append)
    assert (report["checked"], report["addresses"], report["broken"]) == (5, 5, 3)
    broken = {(b["service_code"], b["url"].replace(server, ""), b["field"]): b["reason"]
              for b in data_quality.score("market-regulation")["broken_links"]}
    assert broken[("SR-1", "/gone", "legal_basis")] == "HTTP 404"
    assert broken[("SR-2", "/moved", "channels")] == "HTTP 404"                    # followed to /gone
    assert "169.254.169.254" in broken[("SR-2", "http://169.254.169.254/latest", "channels")]
    assert "private or local address" in broken[("SR-2", "http://169.254.169.254/latest", "channels")]
    assert len(broken) == 3
    # HEAD first; GET only where HEAD was refused; the metadata address never asked
    assert ("GET", "/head-refused") in Links.seen and ("GET", "/ok") not in Links.seen
    assert len(waits) >= 3 and all(0 < w <= 0.5 for w in waits)                    # 2 a second at most


def test_an_address_no_service_lists_any_more_is_forgotten_at_the_next_check(statistics_db, sysadmin, dept, server):
    made = gov.service(dept["id"], service_code="SR-1", name="sr-1",
                       channels=[online(f"{server}/gone")], legal_basis=[])
    data_quality.check_links("market-regulation", sleep=lambda s: None)
    assert [b["url"] for b in data_quality.score("market-regulation")["broken_links"]] == [f"{server}/gone"]
    helpers.call_action("package_patch", context=dict(sysadmin), id=made["id"],
                        channels=[online(f"{server}/ok")])
    report = data_quality.check_links("market-regulation", sleep=lambda s: None)
    assert (report["checked"], report["broken"], report["forgotten"]) == (1, 0, 1)
    assert data_quality.score("market-regulation")["broken_links"] == []
