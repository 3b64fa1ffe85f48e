"""Every feed hostile: a server on 127.0.0.1, started by the test, that
misbehaves on request, and what the guarded fetch (extract.fetch) does about it.

Only 127.0.0.1 is ever connected to: every connection goes through a recorder
that refuses any other address, so a test that expects a refusal also shows
that no connection was attempted.
"""
from __future__ import annotations

import gzip
import http.server
import json
import shutil
import ssl
import subprocess
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import urllib3.util.connection

from govharvest import extract

SERVICES = [{"service_code": "SC-1", "title": "事项"}]


class _Hostile(http.server.BaseHTTPRequestHandler):
    """/redirect?to=URL, /loop, /drip, /bomb, /liar, /short, /fail, /endless, /page?next=URL, /ok."""
    seen: list[dict] = []    # every request's path and Authorization header

    def do_GET(self):
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        type(self).seen.append({"path": parts.path, "authorization": self.headers.get("Authorization")})
        getattr(self, "_" + parts.path.strip("/"), self._ok)(query)

    def _ok(self, query):
        self._send(json.dumps({"services": SERVICES, "next": None}).encode())

    def _redirect(self, query):
        self.send_response(302)
        self.send_header("Location", query["to"])
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _loop(self, query):
        self._redirect({"to": "/loop"})

    def _page(self, query):
        self._send(json.dumps({"services": SERVICES, "next": query["next"]}).encode())

    def _drip(self, query):       # a byte every 0.2 s, for a minute
        self.send_response(200)
        self.send_header("Content-Length", "300")
        self.end_headers()
        for _ in range(300):
            try:
                self.wfile.write(b"x")
                self.wfile.flush()
            except OSError:
                return
            time.sleep(0.2)

    def _bomb(self, query):       # 24 KiB of gzip that inflates to 24 MiB
        body = gzip.compress(b"\0" * (24 << 20), compresslevel=9)
        self.send_response(200)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _liar(self, query):       # says 10 bytes, sends 100 000
        self.send_response(200)
        self.send_header("Content-Length", "10")
        self.end_headers()
        try:
            self.wfile.write(b"y" * 100_000)
        except OSError:
            pass

    def _short(self, query):      # says 1000 bytes, sends 10, hangs up
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"SC-1,truncated")
        self.close_connection = True

    def _fail(self, query):
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _endless(self, query):    # no length, 8 MiB then close
        self.send_response(200)
        self.end_headers()
        try:
            for _ in range(128):
                self.wfile.write(b"z" * 65536)
        except OSError:
            pass
        self.close_connection = True

    def _send(self, body: bytes):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def connections(monkeypatch):
    """Every address a fetch connects to; anything but 127.0.0.1 is refused here,
    before a packet leaves."""
    made = []
    real = urllib3.util.connection.create_connection

    def recorded(address, *args, **kwargs):
        made.append(address[0])
        if address[0] != "127.0.0.1":
            raise ConnectionRefusedError(f"test guard: no connection to {address[0]}")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", recorded)
    return made


@pytest.fixture
def hostile(monkeypatch, tmp_path, connections):
    """The hostile server's base URL; its host (127.0.0.1) allowed by the operator,
    and the fetch's spool files kept in tmp_path/spool to see that none is left."""
    monkeypatch.setenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(spool))
    _Hostile.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def spooled(tmp_path) -> list:
    return sorted(p.name for p in (tmp_path / "spool").iterdir())


def test_a_good_feed_is_fetched_through_the_guard(hostile, connections, tmp_path):
    fetched = extract.fetch(f"{hostile}/ok")
    assert json.loads(fetched.path.read_text())["services"] == SERVICES
    assert connections == ["127.0.0.1"]


@pytest.mark.parametrize("target", [
    "http://10.0.0.1/", "http://100.64.0.1/latest/meta-data/",
    "http://169.254.169.254/latest/meta-data/iam/",
])
def test_a_redirect_to_a_private_address_is_refused_before_connecting(hostile, connections, target):
    with pytest.raises(extract.ExtractError, match="private or local address"):
        extract.fetch(f"{hostile}/redirect?to={target}")
    assert connections == ["127.0.0.1"]     # the first hop only


def test_a_redirect_to_a_loopback_host_the_operator_did_not_allow_is_refused(hostile, connections):
    port = urlsplit(hostile).port
    with pytest.raises(extract.ExtractError, match="localhost.*private or local address"):
        extract.fetch(f"{hostile}/redirect?to=http://localhost:{port}/ok")
    assert connections == ["127.0.0.1"]


@pytest.mark.parametrize("target", ["file:///etc/passwd", "gopher://127.0.0.1/"])
def test_a_redirect_to_another_scheme_or_a_local_file_is_refused(hostile, target):
    with pytest.raises(extract.ExtractError, match="only http\\(s\\)|local"):
        extract.fetch(f"{hostile}/redirect?to={target}")


def test_a_redirect_within_the_allowed_host_is_followed(hostile):
    fetched = extract.fetch(f"{hostile}/redirect?to={hostile}/ok")
    assert json.loads(fetched.path.read_text())["services"] == SERVICES


def test_endless_redirects_stop(hostile):
    with pytest.raises(extract.ExtractError, match="redirects"):
        extract.fetch(f"{hostile}/loop")


def test_the_connection_goes_to_the_address_that_was_checked(hostile, connections, monkeypatch):
    """DNS rebinding: the name resolves to a global address when checked, to
    loopback afterwards; the fetch connects to the checked address, once resolved."""
    monkeypatch.setenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", "")
    answers = iter(["8.8.4.4", "127.0.0.1", "127.0.0.1"])
    asked = []

    def rebinding(host, port):
        asked.append(host)
        return [next(answers)]

    monkeypatch.setattr(extract, "resolve", rebinding)
    with pytest.raises(extract.ExtractError, match="unreachable"):
        extract.fetch(f"http://feeds.rebind.example:{urlsplit(hostile).port}/ok")
    assert asked == ["feeds.rebind.example"]
    assert connections == ["8.8.4.4"]       # refused by the test's guard, never loopback


def test_a_gzip_bomb_is_refused_with_the_size_and_its_spool_removed(hostile, monkeypatch, tmp_path):
    monkeypatch.setenv("GOVHARVEST_MAX_FEED_BYTES", str(1 << 20))
    with pytest.raises(extract.ExtractError, match="the feed is larger than 1 MiB"):
        extract.fetch(f"{hostile}/bomb")
    assert spooled(tmp_path) == []


def test_a_declared_length_over_the_limit_is_refused_up_front(hostile, monkeypatch, tmp_path):
    monkeypatch.setenv("GOVHARVEST_MAX_FEED_BYTES", "100")
    with pytest.raises(extract.ExtractError, match="larger than 100 bytes"):
        extract.fetch(f"{hostile}/drip")     # declares 300 bytes... of a slow drip
    assert spooled(tmp_path) == []


def test_a_body_without_a_length_is_cut_at_the_limit(hostile, monkeypatch, tmp_path):
    monkeypatch.setenv("GOVHARVEST_MAX_FEED_BYTES", str(1 << 20))
    with pytest.raises(extract.ExtractError, match="larger than 1 MiB"):
        extract.fetch(f"{hostile}/endless")
    assert spooled(tmp_path) == []


def test_a_body_longer_than_its_content_length_is_capped_at_it(hostile):
    fetched = extract.fetch(f"{hostile}/liar")
    assert fetched.path.read_bytes() == b"y" * 10


def test_a_slow_drip_fails_at_the_deadline(hostile, monkeypatch, tmp_path):
    monkeypatch.setenv("GOVHARVEST_FETCH_DEADLINE", "1")
    started = time.monotonic()
    with pytest.raises(extract.ExtractError, match="the feed did not arrive within 1 s"):
        extract.fetch(f"{hostile}/drip")
    assert time.monotonic() - started < 2.5
    assert spooled(tmp_path) == []


@pytest.mark.parametrize("next_link", ["file:///etc/passwd", "http://localhost:{port}/ok",
                                       "http://127.0.0.1:1/ok"])
def test_a_next_link_off_the_feeds_origin_is_refused(hostile, next_link):
    next_link = next_link.format(port=urlsplit(hostile).port)
    with pytest.raises(extract.ExtractError, match="next"):
        extract.fetch_json_pages(f"{hostile}/page?next={next_link}")


def test_a_next_link_that_is_a_path_is_a_path_on_the_feeds_own_server(hostile):
    """Not a local file: "/etc/passwd" as a next link is read on the feed's origin."""
    fetched = extract.fetch_json_pages(f"{hostile}/page?next=/etc/passwd")
    assert [json.loads(line) for line in fetched.path.read_text().splitlines()] == SERVICES * 2
    assert [s["path"] for s in _Hostile.seen] == ["/page", "/etc/passwd"]


def test_credentials_go_with_next_links_on_the_same_origin(hostile):
    extract.fetch_json_pages(f"{hostile}/page?next=/ok", headers={"Authorization": "Bearer s3cret"})
    assert [s["authorization"] for s in _Hostile.seen] == ["Bearer s3cret"] * 2


def test_credentials_are_not_sent_to_another_origin(hostile, monkeypatch):
    """The source's credentials go to the source's origin only, not where a
    redirect points, even a host the operator allows."""
    monkeypatch.setenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", "127.0.0.1,localhost")
    monkeypatch.setattr(extract, "resolve", lambda host, port: ["127.0.0.1"])
    port = urlsplit(hostile).port
    extract.fetch(f"{hostile}/redirect?to=http://localhost:{port}/ok",
                  headers={"Authorization": "Bearer s3cret"})
    assert [(s["path"], s["authorization"]) for s in _Hostile.seen] == [
        ("/redirect", "Bearer s3cret"), ("/ok", None)]


def test_an_error_names_the_source_without_its_query(hostile):
    with pytest.raises(extract.ExtractError) as e:
        extract.fetch(f"{hostile}/redirect?to=http://10.0.0.1/&token=abc")
    assert "token=abc" not in str(e.value) and "127.0.0.1" in str(e.value)


@pytest.fixture
def tls_feed(tmp_path, monkeypatch, connections):
    """An HTTPS server on 127.0.0.1 with a self-signed certificate for
    feeds.tls.example, which the fetch resolves to 127.0.0.1 (allowed by name);
    yields (URL by name, certificate file, the TLS names clients asked for)."""
    if not shutil.which("openssl"):
        pytest.skip("openssl makes the test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=feeds.tls.example", "-addext", "subjectAltName=DNS:feeds.tls.example",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=30)
    names = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", "feeds.tls.example")
    monkeypatch.setattr(extract, "resolve", lambda host, port: ["127.0.0.1"])
    _Hostile.seen = []
    yield f"https://feeds.tls.example:{server.server_address[1]}", cert, names
    server.shutdown()
    server.server_close()


def test_https_is_pinned_to_the_address_but_verified_for_the_name(tls_feed, connections, monkeypatch):
    url, cert, names = tls_feed
    monkeypatch.setattr(extract, "trusted_certificates", lambda: str(cert))
    fetched = extract.fetch(f"{url}/ok")
    assert json.loads(fetched.path.read_text())["services"] == SERVICES
    assert connections == ["127.0.0.1"] and names == ["feeds.tls.example"]


def test_https_with_an_untrusted_certificate_is_refused(tls_feed):
    url, _cert, names = tls_feed
    with pytest.raises(extract.ExtractError, match="unreachable.*SSLError"):
        extract.fetch(f"{url}/ok")
    assert names == ["feeds.tls.example"] and _Hostile.seen == []
