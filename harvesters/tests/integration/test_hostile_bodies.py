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

import json

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


@pytest.fixture
def published(portal, department, source):
    """Two services harvested from a good feed, and how they look now."""
    write_feed(source, [ROWS["SC-1"], ROWS["SC-2"]])
    assert harvest(portal, "csv-feed")["status"] == "done"
    return _as_published(portal, department)


def _as_published(portal, department) -> dict:
    return {code: (portal.action.package_show(id=d["id"]),
                   [a["id"] for a in portal.action.package_activity_list(id=d["id"])])
            for code, d in services_of(portal, department).items()}


def _serve(folder, url, fmt, file, body) -> None:
    (folder / file).write_bytes(body)
    with db.connect() as conn:
        sources.update(conn, "csv-feed", format=fmt, location=f"{url}/{file}")


@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_a_hostile_body_fails_the_job_clearly_and_changes_nothing_published(
        attack, portal, department, source, feed_server, published, hostile):
    fmt, file, body, reason = HOSTILE[attack]   # a context named is on the hostile server
    _serve(*feed_server, fmt, file, body(hostile) if callable(body) else body)

    report = harvest(portal, "csv-feed")

    assert report["status"] == "failed"
    assert reason in report["error"], report["error"]
    assert len(report["error"]) <= 600
    assert "root:" not in report["error"] and "lollol" not in report["error"]
    assert _Hostile.seen == []                            # nothing the feed named was fetched
    assert _as_published(portal, department) == published  # byte for byte, no new activity


def test_an_error_body_quoted_in_the_report_is_short_and_escaped(portal, department, source, feed_server,
                                                                 published):
    flood = "\x1b[2J\nFORGED: job 1 done\n" + "说明" * 1_000_000
    _serve(*feed_server, "open311", "services.json",
           json.dumps([{"code": 403, "description": flood}]).encode())

    report = harvest(portal, "csv-feed")

    assert report["status"] == "failed"
    assert report["error"].startswith("Open311 service list could not be read: the server answered "
                                      r"with an Open311 error: \x1b[2J\nFORGED: job 1 done\n说明说明")
    assert report["error"].endswith("more characters)")
    assert len(report["error"]) <= 600
    assert _as_published(portal, department) == published


def test_a_turtle_syntax_error_quotes_a_bounded_excerpt(portal, department, source, feed_server, published):
    body = ("@prefix cpsv: <http://purl.org/vocab/cpsv#> .\n<http://a.example/s> a cpsv:PublicService ;\n"
            "  <http://a.example/p> " + "\x07" * 10_000 + "}}} .\n").encode()
    _serve(*feed_server, "cpsv", "services.ttl", body)

    report = harvest(portal, "csv-feed")

    assert report["status"] == "failed"
    assert report["error"].startswith("CPSV-AP feed could not be read: the feed is not valid Turtle")
    assert "\x07" not in report["error"] and len(report["error"]) <= 600
    assert _as_published(portal, department) == published
