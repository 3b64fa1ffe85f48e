"""Follow every link of the portal, within the site, and list each that fails.

Starts from the home page and the search pages (both languages), follows
links (<a href>) and fetches what pages load (<link href>, <script src>,
<img src>), and reports every answer that is not 2xx or 3xx with the page
that linked to it. Redirects are followed as links.

Search pages link to every facet value, and each of those pages to every
pair of values: to stay finite, a link whose query has more than
``max_query_params`` parameters is not followed (one facet, one page number
or one sort, by default). Downloads and other non-HTML answers are checked
for their status, not read.

Against a live portal (read-only, one request at a time)::

    make crawl PORTAL=http://127.0.0.1:5000
    .venv/bin/python -m tests.crawl http://127.0.0.1:5000 --max-pages 5000

The test suite crawls the test site loaded with a sample of the demo city
(tests/test_crawl.py), through the same ``crawl`` function.
"""
from __future__ import annotations

import argparse
import sys
from collections import deque
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Callable, Iterable, NamedTuple
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

START = ("/", "/service/", "/dataset/", "/en/", "/en/service/", "/en/dataset/")
# Addresses a crawl must not ask for: they change state (log out) or are a
# form's target rather than a page.
SKIP_PATHS = ("/user/_logout", "/user/logout")
# Which attributes of which tags hold an address to follow (read as a page)
# or only to fetch (what the page loads).
FOLLOWED = {("a", "href")}
FETCHED = {("link", "href"), ("script", "src"), ("img", "src")}


class Answer(NamedTuple):
    status: int
    content_type: str
    body: str
    location: str | None = None


Fetch = Callable[[str], Answer]


@dataclass(frozen=True)
class Visit:
    url: str
    status: int
    linked_from: str | None

    @property
    def failed(self) -> bool:
        return not 200 <= self.status < 400


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.followed: list[str] = []
        self.fetched: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if (tag, name) in FOLLOWED:
                self.followed.append(value)
            elif (tag, name) in FETCHED:
                self.fetched.append(value)


def links(html: str) -> tuple[list[str], list[str]]:
    """(addresses to follow, addresses only to fetch) in a page, as written."""
    parser = _Links()
    parser.feed(html)
    parser.close()
    return parser.followed, parser.fetched


def site_path(href: str, page: str, site: str) -> str | None:
    """``href`` on ``page`` as a path and query within the site, or None when it
    leads elsewhere (another host, mailto:, tel:, javascript:, a bare fragment)."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    absolute = urljoin(site.rstrip("/") + page, href)
    parts, home = urlsplit(absolute), urlsplit(site)
    if parts.scheme not in ("http", "https") or parts.netloc != home.netloc:
        return None
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return urlunsplit(("", "", parts.path or "/", query, ""))


def _worth_following(path: str, max_query_params: int) -> bool:
    parts = urlsplit(path)
    if parts.path in SKIP_PATHS:
        return False
    return len(parse_qsl(parts.query, keep_blank_values=True)) <= max_query_params


def crawl(fetch: Fetch, site: str, start: Iterable[str] = START, *, max_pages: int = 20_000,
          max_query_params: int = 1) -> list[Visit]:
    """Visit every address reachable from ``start``; return each visit in order.

    ``fetch(path)`` answers one GET without following redirects; ``site`` is
    the portal's own address (links to it in full count as within the site).
    """
    queue = deque((path, None) for path in start)
    seen = set(start)
    visits: list[Visit] = []

    def enqueue(hrefs: Iterable[str], page: str, follow_only_some: bool) -> None:
        for href in hrefs:
            path = site_path(href, page, site)
            if path is None or path in seen:
                continue
            if follow_only_some and not _worth_following(path, max_query_params):
                continue
            seen.add(path)
            queue.append((path, page))

    while queue and len(visits) < max_pages:
        path, linked_from = queue.popleft()
        answer = fetch(path)
        visits.append(Visit(path, answer.status, linked_from))
        if answer.location and 300 <= answer.status < 400:
            enqueue([answer.location], path, follow_only_some=False)
        elif answer.status < 300 and answer.content_type.startswith("text/html"):
            followed, fetched = links(answer.body)
            enqueue(followed, path, follow_only_some=True)
            # what the page loads is checked, not read as a page
            for href in fetched:
                asset = site_path(href, path, site)
                if asset and asset not in seen:
                    seen.add(asset)
                    queue.append((asset, path))
    return visits


def report(visits: list[Visit]) -> str:
    """One line per failed address (status, address, the page linking to it), then the totals."""
    failed = [v for v in visits if v.failed]
    lines = [f"{v.status} {v.url}   (linked from {v.linked_from or 'the start'})" for v in failed]
    lines.append(f"{len(visits)} addresses visited, {len(failed)} failed")
    return "\n".join(lines)


def http_fetch(site: str, timeout: float = 60) -> Fetch:
    """A fetch over HTTP for a live portal."""
    import requests
    session = requests.Session()
    session.headers["User-Agent"] = "govservice-crawl"

    def fetch(path: str) -> Answer:
        try:
            r = session.get(site.rstrip("/") + path, allow_redirects=False, timeout=timeout)
        except requests.RequestException as e:
            print(f"no answer from {path}: {e}", file=sys.stderr)
            return Answer(599, "", "")
        content_type = r.headers.get("Content-Type", "")
        body = r.text if content_type.startswith("text/html") else ""
        return Answer(r.status_code, content_type, body, r.headers.get("Location"))
    return fetch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("portal", help="the portal's address, e.g. http://127.0.0.1:5000")
    parser.add_argument("--max-pages", type=int, default=20_000)
    parser.add_argument("--max-query-params", type=int, default=1)
    args = parser.parse_args(argv)
    visits = crawl(http_fetch(args.portal), args.portal, max_pages=args.max_pages,
                   max_query_params=args.max_query_params)
    print(report(visits))
    return 1 if any(v.failed for v in visits) else 0


if __name__ == "__main__":
    sys.exit(main())
