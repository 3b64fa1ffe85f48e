"""Every link of the test site, loaded with a sample of the demo city, answers 2xx or 3xx.

The sample is four departments read from the demo's own feeds with the
harvesters' readers (a JSON file, a JSON feed, CPSV-AP Turtle, an Open311
list), among them the education bureau whose services without a statutory
limit once made their pages fail, their statistics loaded through the
platform's loader, so the performance pages have figures to draw, and the
bulk catalogue files built. The crawl
(tests/crawl.py, the same code `make crawl` runs against a live portal)
starts from the home and search pages in both languages.
"""
from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage

import ckan.plugins.toolkit as tk
from ckan.tests import factories, helpers

from ckanext.govservice import catalogue_publish
from ckanext.govservice.tests.integration.conftest import statistics_db  # noqa: F401  (a fixture)
from govharvest import formats, statistics as statistics_feed
from govharvest.normalise import RecordError, normalise

from .crawl import Answer, crawl, report, site_path

CITY = Path(__file__).resolve().parent.parent / "datasets" / "demo" / "city"
SAMPLE = ("education", "taxation", "housing-provident-fund", "urban-management")


def _department_services(d: dict) -> list[dict]:
    """The department's services as its harvest reads them (reader, mapping, defaults)."""
    fmt = d["services"]["format"]
    reader = formats.READERS["json-file" if fmt == "json" else fmt]
    mapping = getattr(reader, "mapping", {})
    defaults = d["services"].get("defaults", {})
    services = []
    for _where, raw in reader(CITY / d["services"]["file"]):
        try:
            record = normalise({**defaults, **raw}, mapping)
        except RecordError:
            continue   # a planted mistake: the harvest rejects it too
        services.append(record)
    return services


def _demo_city_module():
    """datasets/tests/demo_city.py, where the demo's catalogues are read as the harvesters read them."""
    if "demo_city" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "demo_city", CITY.parent.parent / "tests" / "demo_city.py")
        sys.modules["demo_city"] = module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules["demo_city"]


def load_network(departments: list[dict], context: dict) -> None:
    """What the catalogue harvests put in place before any department's services:
    the catalogues' publisher, every document, and the basic items the given
    departments' services name (creating all of them would take a minute)."""
    office = json.loads((CITY / "departments.json").read_text("utf-8"))["catalogues"]
    basic_items, documents = _demo_city_module().read_catalogues(office)
    org = factories.Organization(name=office["name"], title=office["title"], title_en=office["title_en"],
                                 level=office["level"], area=office["area"])
    named = {s.get("basic_code") for d in departments for s in _department_services(d)}
    for dataset_type, entries in (("document", documents),
                                  ("basic_item", [b for b in basic_items if b["basic_code"] in named])):
        for entry in entries:
            helpers.call_action("package_create", context=dict(context),
                                **{**entry, "type": dataset_type, "owner_org": org["id"]})


def _of_every_shape(services: list[dict], at_least: int = 8) -> list[dict]:
    """A department's services, one of each shape (the set of fields it fills: without a
    statutory limit, without documents, ...) topped up to ``at_least``: every kind of
    page a service makes, without crawling every service's pages (the render test
    renders every demo service everywhere)."""
    shapes, chosen = set(), []
    for record in services:
        shape = frozenset(k for k, v in record.items() if v not in (None, "", [], {}))
        if shape not in shapes:
            shapes.add(shape)
            chosen.append(record)
    return chosen + [r for r in services if r not in chosen][:max(0, at_least - len(chosen))]


def _load(d: dict, context: dict, tmp_path: Path) -> int:
    org = factories.Organization(name=d["name"], title=d["title"], title_en=d["title_en"],
                                 level=d["level"], area=d["area"])
    published = 0
    for record in _of_every_shape(_department_services(d)):
        try:
            helpers.call_action("package_create", context=dict(context),
                                **{**record, "type": "service", "owner_org": org["id"]})
            published += 1
        except tk.ValidationError:
            pass   # a planted mistake that only the platform's rules catch
    csv_path = tmp_path / f"{d['name']}-statistics.csv"
    statistics_feed.to_platform_csv(CITY / d["statistics"]["file"], d["statistics"]["format"], csv_path)
    upload = FileStorage(stream=io.BytesIO(csv_path.read_bytes()), filename="statistics.csv",
                         content_type="text/csv")
    helpers.call_action("govservice_statistics_load", context=dict(context),
                        department=d["name"], upload=upload)
    return published


@pytest.fixture
def demo_sample(statistics_db, with_plugins, monkeypatch, tmp_path):  # noqa: F811
    monkeypatch.setitem(tk.config, "ckanext.govservice.catalogue.auto_rebuild", False)
    monkeypatch.setitem(tk.config, "ckanext.govservice.statistics.background_jobs", False)
    context = {"user": factories.Sysadmin()["name"]}
    departments = [d for d in json.loads((CITY / "departments.json").read_text("utf-8"))["departments"]
                   if d["name"] in SAMPLE]
    load_network(departments, context)
    published = {d["name"]: _load(d, context, tmp_path) for d in departments}
    catalogue_publish.build()   # the bulk files the home page links to, as the demo's worker builds them
    return published


def test_every_link_reachable_from_the_home_and_search_pages_answers(app, demo_sample):
    assert demo_sample["education"] >= 8   # the sample is really loaded

    def fetch(path: str) -> Answer:
        response = app.get(path, status=None, follow_redirects=False)
        content_type = response.headers.get("Content-Type", "")
        return Answer(response.status_code, content_type,
                      response.get_data(as_text=True) if content_type.startswith("text/html") else "",
                      response.headers.get("Location"))

    visits = crawl(fetch, tk.config["ckan.site_url"])
    failed = [v for v in visits if v.failed]
    assert not failed, report(visits)
    print(report(visits).splitlines()[-1])
    visited = {v.url for v in visits}
    # the crawl reached what a citizen would: services in both languages, and their performance
    assert any(u.startswith("/service/education-") for u in visited)
    assert any(u.startswith("/en/service/education-") for u in visited)
    assert "/performance/education" in visited


# ---------------------------------------------------------------- the crawler itself (pure)

SITE = "http://127.0.0.1:5000"


def test_only_addresses_within_the_site_are_kept_in_one_spelling():
    assert site_path("/service/?b=2&a=1#top", "/", SITE) == "/service/?a=1&b=2"
    assert site_path("http://127.0.0.1:5000/en/", "/", SITE) == "/en/"
    assert site_path("education", "/service/theme/", SITE) == "/service/theme/education"
    for elsewhere in ("https://zwfw.example.gov.cn/", "mailto:a@b.cn", "tel:12345",
                      "javascript:alert(1)", "#content", "//other.example/"):
        assert site_path(elsewhere, "/", SITE) is None, elsewhere


def test_a_crawl_follows_links_and_redirects_and_names_what_failed_and_where():
    pages = {
        "/": Answer(200, "text/html", '<a href="/a">a</a> <a href="/moved">m</a> '
                                      '<script src="/app.js"></script> <a href="https://x.org/">x</a>'),
        "/a": Answer(200, "text/html; charset=utf-8", '<a href="None">n</a> <a href="/a?f=1&g=2">deep</a>'),
        "/moved": Answer(302, "text/html", "", "http://127.0.0.1:5000/b"),
        "/b": Answer(200, "text/html", ""),
        "/app.js": Answer(200, "application/javascript", ""),
    }
    asked = []

    def fetch(path):
        asked.append(path)
        return pages.get(path, Answer(404, "text/html", "not found"))

    visits = crawl(fetch, SITE, start=["/"])
    assert asked == ["/", "/a", "/moved", "/app.js", "/None", "/b"]   # /a?f=1&g=2: two parameters, not followed
    assert [(v.url, v.status, v.linked_from) for v in visits if v.failed] == [("/None", 404, "/a")]
    assert report(visits).splitlines() == ["404 /None   (linked from /a)",
                                           "6 addresses visited, 1 failed"]
