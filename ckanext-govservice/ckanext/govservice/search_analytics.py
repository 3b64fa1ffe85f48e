"""Search analytics for the data office (issue 15): what citizens type in the
service search box, per day, in the DataStore database's ``govservice_kpi.search_day``.

Recorded (counted in Redis, written to the table once a minute and before
every report): the query text (cleaned as the search reads it, lower-cased), how
many results it found, and whether a service was opened from its results (the
service page asked with the search page as its referrer). Nothing about who
searched: no address, no user, no cookie. Off with
``ckanext.govservice.search.analytics = false``; rows older than
``ckanext.govservice.search.analytics_retention_days`` are deleted.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

import ckan.plugins.toolkit as tk

from .core import search_query
from .statistics_store import tables

log = logging.getLogger(__name__)
TABLE = f"{tables.SCHEMA}.search_day"
SEARCH_ENDPOINT = "service.search"
SERVICE_ENDPOINT = "service.read"
_purged: set[tuple[str, dt.date]] = set()


def enabled() -> bool:
    return bool(tk.config.get("ckanext.govservice.search.analytics"))


def query_key(q: str | None) -> str:
    return search_query.clean(q or "").lower()


# Counts wait in Redis and reach PostgreSQL in one statement a minute (and
# before every report): a search page costs one Redis round trip, not a
# database transaction. Each field of the hash is "<day>\x1f<query>\x1f<metric>".
PENDING = "govservice:search_day:pending"
FLUSHING = "govservice:search_day:flushing"
FLUSH_EVERY = 60            # seconds
METRICS = ("searches", "zero_results", "results", "opened")
SEP = "\x1f"
_last_flush = 0.0


def _redis():
    from ckan.lib.redis import connect_to_redis
    return connect_to_redis()


def _bump(q: str, searches: int = 0, zero: int = 0, results: int = 0, opened: int = 0) -> None:
    key = query_key(q)
    if not key or not enabled():
        return
    counts = {"searches": searches, "zero_results": zero, "results": results, "opened": opened}
    today = dt.date.today()
    try:
        pipe = _redis().pipeline(transaction=False)
        for metric, n in counts.items():
            if n:
                pipe.hincrby(PENDING, SEP.join((today.isoformat(), key, metric)), n)
        pipe.execute()
    except Exception:   # Redis away: straight to the table, as before batching
        log.warning("search analytics: Redis unavailable, writing %r directly", key, exc_info=True)
        _write({(today, key): counts})
        return
    _flush_now_and_then()


def _flush_now_and_then() -> None:
    global _last_flush
    now = time.monotonic()
    if now - _last_flush < FLUSH_EVERY:
        return
    _last_flush = now
    try:
        if _redis().set(FLUSHING, "1", nx=True, ex=FLUSH_EVERY):   # one process flushes a minute
            flush()
    except Exception:
        log.warning("search analytics: flushing the counts failed", exc_info=True)


def flush() -> int:
    """Move the counts waiting in Redis into the table; return how many (day, query) rows.

    The waiting hash is renamed first, so searches counted meanwhile wait for
    the next flush; if the database refuses, the counts go back to wait."""
    r = _redis()
    taken = f"{PENDING}:{uuid.uuid4().hex}"
    try:
        r.rename(PENDING, taken)
    except Exception as e:   # nothing waiting: Redis answers "no such key"
        if "no such key" in str(e).lower():
            return 0
        raise
    r.expire(taken, 86400)
    waiting = r.hgetall(taken)
    rows: dict[tuple[dt.date, str], dict[str, int]] = {}
    for field, n in waiting.items():
        field = field.decode() if isinstance(field, bytes) else field
        head, metric = field.rsplit(SEP, 1)
        day, query = head.split(SEP, 1)
        rows.setdefault((dt.date.fromisoformat(day), query), dict.fromkeys(METRICS, 0))[metric] += int(n)
    try:
        _write(rows)
    except Exception:
        pipe = r.pipeline(transaction=False)
        for field, n in waiting.items():
            pipe.hincrby(PENDING, field, int(n))
        pipe.delete(taken)
        pipe.execute()
        raise
    r.delete(taken)
    return len(rows)


def _write(rows: dict[tuple[dt.date, str], dict[str, int]]) -> None:
    if not rows:
        return
    today = dt.date.today()
    with tables.engine().begin() as conn:
        conn.execute(sa.text(f"""
            INSERT INTO {TABLE} AS s (day, query, searches, zero_results, results, opened)
            VALUES (:day, :query, :searches, :zero_results, :results, :opened)
            ON CONFLICT (day, query) DO UPDATE SET
              searches = s.searches + EXCLUDED.searches, zero_results = s.zero_results + EXCLUDED.zero_results,
              results = s.results + EXCLUDED.results, opened = s.opened + EXCLUDED.opened"""),
            [{"day": day, "query": query, **counts} for (day, query), counts in sorted(rows.items())])
        url = str(conn.engine.url)
        if (url, today) not in _purged:
            days = int(tk.config.get("ckanext.govservice.search.analytics_retention_days"))
            conn.execute(sa.text(f"DELETE FROM {TABLE} WHERE day < :oldest"),
                         {"oldest": today - dt.timedelta(days=days)})
            _purged.add((url, today))


def record_search(params: dict[str, Any], results: dict[str, Any]) -> None:
    """A search made on the service search page (first page only: paging is not searching again)."""
    q = (params.get("extras") or {}).get("ext_govservice_query")
    if not q or int(params.get("start") or 0) or _endpoint() != SEARCH_ENDPOINT:
        return
    count = int(results.get("count") or 0)
    _bump(q, searches=1, zero=int(count == 0), results=count)


def _endpoint() -> str | None:
    try:
        return tk.request.endpoint
    except (RuntimeError, AttributeError):    # no request: the API in-process, a command
        return None


def record_open(response):
    """After a service page answered 200: when it was opened from the search
    page's results (its referrer), count an open for that query."""
    try:
        if response.status_code == 200 and tk.request.endpoint == SERVICE_ENDPOINT and tk.request.referrer:
            ref = urlsplit(tk.request.referrer)
            ours = {tk.request.host, urlsplit(tk.config.get("ckan.site_url") or "").netloc}
            if ref.netloc in ours and ref.path.rstrip("/").endswith("/service"):
                q = parse_qs(ref.query).get("q", [""])[0]
                if q:
                    _bump(q, opened=1)
    except Exception:
        log.warning("search analytics: recording an open failed", exc_info=True)
    return response


def install(app) -> None:
    app.after_request(record_open)


def report(days: int = 30, limit: int = 20) -> dict[str, list[dict[str, Any]]]:
    """The last ``days`` days: the most searched queries, those that found
    nothing, and those searched at least twice whose results nobody opened."""
    try:
        flush()
    except Exception:   # the report still shows what reached the table
        log.warning("search analytics: flushing before the report failed", exc_info=True)
    since = dt.date.today() - dt.timedelta(days=days - 1)
    sums = f"""SELECT query, sum(searches) AS searches, sum(zero_results) AS zero_results,
                      sum(results) AS results, sum(opened) AS opened
                 FROM {TABLE} WHERE day >= :since GROUP BY query"""
    with tables.engine().connect() as conn:
        def rows(where: str) -> list[dict[str, Any]]:
            return [dict(r._mapping) for r in conn.execute(sa.text(
                f"SELECT * FROM ({sums}) t {where} ORDER BY searches DESC, query LIMIT :limit"),
                {"since": since, "limit": limit})]
        return {"top": rows(""), "zero": rows("WHERE zero_results > 0"),
                "unopened": rows("WHERE opened = 0 AND results > 0 AND searches >= 2")}
