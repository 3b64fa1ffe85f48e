"""Hostile bodies, harvested over HTTP into the test site: XML entity expansion
and external entities, JSON-LD that names contexts to fetch, JSON nested without
end, a 50 MB single line, a wrong encoding, an error body meant to flood or
forge the report. Each ends the job failed with a clear reason, quotes no more
than a short escaped excerpt of the body, fetches nothing the feed names, and
leaves every published service exactly as it was: ``package_show`` equal field
for field and no new activity.

(The fetch itself — redirects, addresses, sizes, time — is test_hostile_feeds.py.)
"""
from __future__ import annotations

import functools
import http.server
import json
import threading
import uuid

import pytest

from govharvest import db, sources
from test_pipeline import ROWS, harvest, services_of, write_feed

from feed_samples import our_feed
from test_hostile_feeds import _Hostile, connections, hostile  # noqa: F401  (fixtures)

BILLION_LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE services [\n <!ENTITY lol "lol">\n'
                  + "".join(f' <!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">\n'
                            for i in range(1, 10))
                  + "]>\n<services><service><service_code>&lol9;</service_code></service></services>")
EXTERNAL_ENTITY = ('<?xml version="1.0"?>\n<!DOCTYPE services [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
                   "<services><service><service_code>&secret;</service_code></service></services>")
# a DOCTYPE after 3 KB of comment, in UTF-16 (no BOM: expat detects it): no byte pattern on the raw body finds it
HIDDEN_DOCTYPE = ('<?xml version="1.0" encoding="UTF-16"?>\n<!--' + " " * 3000 + "-->\n"
                  + BILLION_LAUGHS.split("\n", 1)[1]).encode("utf-16-le")


def _jsonld_naming(context_url: str, where: str) -> bytes:
    """Our own JSON-LD feed of one service, with a context to fetch added ``where``."""
    doc = json.loads(our_feed([0], "json-ld"))
    nodes = doc if isinstance(doc, list) else doc.get("@graph", [doc])
    if where == "node":
        nodes[0]["@context"] = context_url
    else:
        nodes[0]["@context"] = {"@version": 1.1, "@import": context_url}
    return json.dumps(doc).encode()


def _nested(depth: int) -> bytes:
    return ('{"services": [{"service_code": "SC-9", "title": ' + "[" * depth + "]" * depth + "}]}").encode()


# (format, file, body or a function of the hostile server's URL, what the job's error must say)
HOSTILE = {
    "xml-billion-laughs": ("open311", "services.xml", BILLION_LAUGHS.encode(), "declares a DOCTYPE"),
    "xml-external-entity": ("open311", "services.xml", EXTERNAL_ENTITY.encode(), "declares a DOCTYPE"),
    "xml-doctype-hidden-in-utf16": ("open311", "services.xml", HIDDEN_DOCTYPE, "declares a DOCTYPE"),
    "xml-wrong-encoding": ("open311", "services.xml",
                           '<?xml version="1.0" encoding="UTF-8"?><services><service>'
                           "<service_code>SC-9</service_code><service_name>营业执照</service_name>"
                           "</service></services>".encode("gbk"), "the XML does not parse"),
    "jsonld-context-in-a-node": ("cpsv", "services.jsonld", lambda url: _jsonld_naming(url + "/ctx", "node"),
                                 "names a JSON-LD context to fetch"),
    "jsonld-import": ("cpsv", "services.jsonld", lambda url: _jsonld_naming(url + "/import", "import"),
                      "names a JSON-LD context to fetch"),
    "jsonld-deeply-nested": ("cpsv", "services.jsonld", b'{"@graph": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                             "deeper than 64 levels"),
    "json-deeply-nested": ("json-file", "services.json", _nested(100_000), "deeper than 64 levels"),
    "json-wrong-encoding": ("json-file", "services.json",
                            json.dumps({"services": [{"service_code": "SC-9", "title": "营业执照"}]},
                                       ensure_ascii=False).encode("gbk"), "is not UTF-8"),
    "csv-50-mb-single-line": ("csv", "services.csv", b"=" * (50 << 20), "longer than"),
}


# (path on the hostile server, settings for the run, what the job's error must say)
FETCHES = {
    "redirect-to-a-private-address": ("/redirect?to=http://10.0.0.1/services.csv", {},
                                      "resolves to 10.0.0.1, a private or local address"),
    "redirect-to-the-metadata-service": ("/redirect?to=http://169.254.169.254/latest/meta-data/", {},
                                         "resolves to 169.254.169.254, a private or local address"),
    "redirect-to-a-local-file": ("/redirect?to=file:///etc/passwd", {}, "redirected to a file: address"),
    "endless-redirects": ("/loop", {}, "answered with more than 5 redirects"),
    "gzip-bomb": ("/bomb", {"GOVHARVEST_MAX_FEED_BYTES": str(1 << 20)}, "the feed is larger than 1 MiB"),
    "slow-drip": ("/drip", {"GOVHARVEST_FETCH_DEADLINE": "1"}, "the feed did not arrive within 1 s"),
    "truncated-body": ("/short", {}, "truncated"),
    "server-error": ("/fail", {}, "source answered HTTP 503"),
}


class _Files(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def good_feed(settings, tmp_path_factory):
    """A feed server for the module, and the state every test starts from (made
    once, by the first test: two services harvested from a good feed, as
    published then). Every hostile run must leave that state as it is, so the
    tests share it instead of harvesting it again each."""
    folder = tmp_path_factory.mktemp("feed")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Files, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"folder": folder, "url": f"http://127.0.0.1:{server.server_address[1]}"}
    server.shutdown()


@pytest.fixture
def published(portal, settings, good_feed, monkeypatch):
    """The module's department and how its two services looked after the good harvest."""
    monkeypatch.setenv("GOVHARVEST_DB_URL", settings["GOVHARVEST_TEST_DB_URL"])
    monkeypatch.setenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    if "published" not in good_feed:
        with db.connect() as conn, conn.cursor() as cur:
            cur.execute("TRUNCATE job_outcome, record, job, source RESTART IDENTITY CASCADE")
            department = portal.action.organization_create(name=f"harvest-hostile-{uuid.uuid4().hex[:8]}")
            sources.add(conn, name="csv-feed", department=department["name"], format="csv",
                        location=f"{good_feed['url']}/services.csv")
        write_feed(good_feed["folder"], [ROWS["SC-1"], ROWS["SC-2"]])
        assert harvest(portal, "csv-feed")["status"] == "done"
        good_feed.update(department=department, published=_as_published(portal, department))
    return good_feed


def _as_published(portal, department) -> dict:
    return {code: (portal.action.package_show(id=d["id"]),
                   [a["id"] for a in portal.action.package_activity_list(id=d["id"])])
            for code, d in services_of(portal, department).items()}


def _serve(good_feed, fmt, file, body) -> None:
    """Serve ``body`` at a location of its own and point the source at it (a new
    location forgets the last fetch's validators: no "not modified" answer)."""
    file = f"{uuid.uuid4().hex[:8]}-{file}"
    (good_feed["folder"] / file).write_bytes(body)
    with db.connect() as conn:
        sources.update(conn, "csv-feed", format=fmt, location=f"{good_feed['url']}/{file}")


def _unchanged(portal, published) -> bool:
    """Every service of the department byte for byte as after the good harvest, no new activity."""
    return _as_published(portal, published["department"]) == published["published"]


@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_a_hostile_body_fails_the_job_clearly_and_changes_nothing_published(
        attack, portal, published, hostile):
    fmt, file, body, reason = HOSTILE[attack]   # a context named is on the hostile server
    _serve(published, fmt, file, body(hostile) if callable(body) else body)

    report = harvest(portal, "csv-feed")

    assert report["status"] == "failed"
    assert reason in report["error"], report["error"]
    assert len(report["error"]) <= 600
    assert "root:" not in report["error"] and "lollol" not in report["error"]
    assert _Hostile.seen == []                            # nothing the feed named was fetched
    assert _unchanged(portal, published)


def test_an_error_body_quoted_in_the_report_is_short_and_escaped(portal, published):
    flood = "\x1b[2J\nFORGED: job 1 done\n" + "说明" * 1_000_000
    _serve(published, "open311", "services.json",
           json.dumps([{"code": 403, "description": flood}]).encode())

    report = harvest(portal, "csv-feed")

    assert report["status"] == "failed"
    assert report["error"].startswith("Open311 service list could not be read: the server answered "
                                      r"with an Open311 error: \x1b[2J\nFORGED: job 1 done\n说明说明")
    assert report["error"].endswith("more characters)")
    assert len(report["error"]) <= 600
    assert _unchanged(portal, published)


def test_a_turtle_syntax_error_quotes_a_bounded_excerpt(portal, published):
    body = ("@prefix cpsv: <http://purl.org/vocab/cpsv#> .\n<http://a.example/s> a cpsv:PublicService ;\n"
            "  <http://a.example/p> " + "\x07" * 10_000 + "}}} .\n").encode()
    _serve(published, "cpsv", "services.ttl", body)

    report = harvest(portal, "csv-feed")

    assert report["status"] == "failed"
    assert report["error"].startswith("CPSV-AP feed could not be read: the feed is not valid Turtle")
    assert "\x07" not in report["error"] and len(report["error"]) <= 600
    assert _unchanged(portal, published)


@pytest.mark.parametrize("attack", sorted(FETCHES))
def test_a_hostile_server_fails_the_job_clearly_and_changes_nothing_published(
        attack, portal, published, hostile, connections, monkeypatch):
    path, run_settings, reason = FETCHES[attack]
    for name, value in run_settings.items():
        monkeypatch.setenv(name, value)
    with db.connect() as conn:
        sources.update(conn, "csv-feed", location=f"{hostile}{path}")

    report = harvest(portal, "csv-feed")

    assert report["status"] == "failed"
    assert reason in report["error"], report["error"]
    assert set(connections) <= {"127.0.0.1"}               # nothing else was connected to
    assert _unchanged(portal, published)


def test_a_name_that_rebinds_to_loopback_fails_the_harvest_and_changes_nothing_published(
        portal, published, hostile, connections, monkeypatch):
    """DNS rebinding through a whole harvest: the source's name answers a global
    address when checked and loopback on every later lookup. The job connects
    only to the address it checked (refused here: the test lets no packet leave)
    and fails; loopback, where our own services listen, is never reached."""
    from govharvest import extract
    port = hostile.rsplit(":", 1)[1]
    with db.connect() as conn:
        sources.update(conn, "csv-feed", location=f"http://feeds.rebind.example:{port}/ok")
    monkeypatch.setenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", "")
    asked = []

    def rebinding(host, port):
        asked.append(host)
        return ["8.8.4.4"] if len(asked) == 1 else ["127.0.0.1"]

    monkeypatch.setattr(extract, "resolve", rebinding)

    report = harvest(portal, "csv-feed")

    assert report["status"] == "failed"
    assert "unreachable" in report["error"], report["error"]
    assert asked == ["feeds.rebind.example"]          # resolved once, then pinned
    assert connections == ["8.8.4.4"]                 # never loopback
    assert _Hostile.seen == []
    assert _unchanged(portal, published)
