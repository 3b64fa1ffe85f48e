"""Fetch a source's data to a local file, safely and completely, or fail saying why.

Nothing is parsed here, and nothing is published: a fetch that fails (unreachable,
5xx, timeout, truncated body) ends the job before anything in CKAN changes.

Every feed is treated as hostile. Each fetch over the network goes through one
guarded client (``_get``), whoever asks (the services pipeline, the JSON feed's
pages, the CKAN reader, statistics):

* every hop is checked: redirects are followed here, at most MAX_REDIRECTS, and
  each must be http(s) and pass the address policy (``address_allowed``: global
  addresses only, unless the operator allows the host by name);
* a name is resolved once (``resolve``), its addresses checked, and the
  connection made to the checked address, the Host header and TLS name (SNI,
  certificate) staying the name: a second DNS answer cannot move it elsewhere;
* at most ``settings.max_feed_bytes()`` reach the disk, counted after
  decompression; a larger Content-Length is refused before reading;
* a fetch ends by ``settings.fetch_deadline()`` in all, however slowly the
  server sends;
* the source's credentials go to its own origin only.

A local path (or ``file:``) is read only as a source's registered location, which
an operator registers (``govharvest source add``); never because a feed says so
(a redirect, a ``next`` link). Errors name the location without its query
string and say why, never quoting the body.
"""
from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import urllib3
from requests.certs import where as trusted_certificates   # the CA bundle requests used

from ckanext.govservice.core.untrusted import load_json

from . import __version__, settings
from .errors import ExtractError

CHUNK = 1 << 16
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
CREDENTIALS = ("authorization", "proxy-authorization", "cookie")


@dataclass
class Fetched:
    path: Path              # the body, spooled to disk
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False


def shown(location: str) -> str:
    """A location as an error may show it: no query string, fragment or user."""
    parts = urlsplit(location)
    if parts.scheme not in ("http", "https"):
        return parts.path or location
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def origin(location: str) -> tuple[str, str, int | None]:
    """Scheme, host and port: what must match for a link to be the source's own."""
    parts = urlsplit(location)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, parts.hostname or "", parts.port or default


def address_allowed(host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address,
                    local: bool = False) -> bool:
    """May a fetch for ``host`` connect to ``address``? Only a global address
    (``is_global``: not loopback, private, shared 100.64.0.0/10, link-local,
    documentation, reserved…), unless the operator allows the host by name
    (GOVHARVEST_ALLOW_PRIVATE_HOSTS, e.g. the demo feed server) or registered
    the source as local (``local``)."""
    allowed = {h.lower() for h in settings.allowed_private_hosts()}
    return (address.is_global and not address.is_multicast) or host.lower() in allowed or local


def resolve(host: str, port: int) -> list[str]:
    """The addresses a name resolves to. The guarded client calls this once per
    hop and connects to what it checked (tests replace it to play DNS)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise ExtractError(f"source host {host} cannot be resolved") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


def checked_address(host: str, port: int, where: str, local: bool = False) -> str:
    """Resolve ``host`` once, check every answer, and return the address to connect to."""
    answers = resolve(host, port)
    if not answers:
        raise ExtractError(f"source host {host} cannot be resolved ({where})")
    for answer in answers:
        address = ipaddress.ip_address(answer)
        if not address_allowed(host, address, local):
            raise ExtractError(
                f"source host {host} resolves to {address}, a private or local address "
                f"({where}); an operator can allow it with GOVHARVEST_ALLOW_PRIVATE_HOSTS")
    return answers[0]


def check_location(location: str) -> None:
    """Refuse anything but http(s) URLs to allowed addresses, and local paths.

    A source must not become a way to reach internal services: loopback,
    private, shared and link-local addresses are refused unless allowed by the operator.
    """
    parts = urlsplit(location)
    if parts.scheme in ("", "file"):
        return
    _check_scheme(parts.scheme)
    checked_address(parts.hostname or "", origin(location)[2], shown(location))


def _check_scheme(scheme: str) -> None:
    if scheme not in ("http", "https"):
        raise ExtractError(f"source location must be http(s) or a local path, not {scheme}:")


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 and not n % (1 << 20) else f"{n} bytes"


def fetch(location: str, *, timeout: float = 30, etag: str | None = None,
          last_modified: str | None = None, headers: dict | None = None, local: bool = False) -> Fetched:
    """The source's body on disk. ``location`` is the source's registered location
    (an http(s) URL, or a local path); ``local``: the operator registered the
    source as local, so it may read a file here or reach a private address.
    ``timeout`` bounds each wait, settings.fetch_deadline() the whole fetch.
    Raises ExtractError."""
    parts = urlsplit(location)
    if parts.scheme in ("", "file"):
        if not local:
            raise ExtractError(f"source location {shown(location)} is a file on this machine, and the "
                               "source is not registered as local")
        return _copy_local(Path(parts.path if parts.scheme == "file" else location))
    _check_scheme(parts.scheme)    # the address is checked where the connection is made, once
    request_headers = dict(headers or {})
    if etag:
        request_headers["If-None-Match"] = etag
    if last_modified:
        request_headers["If-Modified-Since"] = last_modified
    return _get(location, request_headers, timeout, local)


def _spool() -> Path:
    fd, name = tempfile.mkstemp(prefix="govharvest-")
    os.close(fd)
    return Path(name)


def _copy_local(source: Path) -> Fetched:
    if not source.is_file():
        raise ExtractError(f"source file {source} does not exist")
    limit = settings.max_feed_bytes()
    if source.stat().st_size > limit:
        raise ExtractError(f"the feed is larger than {_size(limit)}: {source}")
    path = _spool()
    shutil.copyfile(source, path)
    return Fetched(path)


def _get(location: str, headers: dict, timeout: float, local: bool = False) -> Fetched:
    """One guarded fetch: redirects followed and checked, the body bounded in
    size and time, spooled to disk."""
    deadline_s = settings.fetch_deadline()
    deadline = time.monotonic() + deadline_s
    where = shown(location)
    path = _spool()
    response = pool = None
    try:
        response, pool = _follow(location, headers, timeout, deadline, local=local)
        if response.status == 304:
            return Fetched(path, headers.get("If-None-Match"), headers.get("If-Modified-Since"),
                           not_modified=True)
        if response.status >= 400:
            raise ExtractError(f"source answered HTTP {response.status} at {where}")
        _spool_body(response, path, deadline, where)
        return Fetched(path, response.headers.get("ETag"), response.headers.get("Last-Modified"))
    except ExtractError:
        path.unlink(missing_ok=True)
        raise
    except urllib3.exceptions.HTTPError as e:
        path.unlink(missing_ok=True)
        if time.monotonic() >= deadline:
            raise ExtractError(f"the feed did not arrive within {deadline_s:g} s: {where}") from None
        # (NewConnectionError is a kind of TimeoutError in urllib3: asked first)
        if isinstance(e, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.SSLError)):
            raise ExtractError(f"source is unreachable: {where} ({type(e).__name__})") from None
        if isinstance(e, urllib3.exceptions.TimeoutError):
            raise ExtractError(f"source did not answer within {timeout:g} s: {where}") from None
        # the body stopped short of what was declared, or could not be decoded
        raise ExtractError(f"source body was truncated or broken at {where}: "
                           f"{type(e).__name__}") from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        if response is not None:
            response.close()
        if pool is not None:
            pool.close()


def _follow(location: str, headers: dict, timeout: float, deadline: float, method: str = "GET",
            local: bool = False):
    """(response, its pool) at the end of the location's redirects, every hop
    checked by the address policy; credentials only to the location's origin."""
    url, where = location, shown(location)
    for _hop in range(MAX_REDIRECTS + 1):
        own = origin(url) == origin(location)
        sent = headers if own else {k: v for k, v in headers.items() if k.lower() not in CREDENTIALS}
        response, pool = _request(url, sent, timeout, deadline, where, method, local)
        target = response.headers.get("Location")
        if response.status not in REDIRECTS or not target:
            return response, pool
        response.close()
        pool.close()
        url = urljoin(url, target)
        scheme = urlsplit(url).scheme
        if scheme not in ("http", "https"):
            raise ExtractError(f"source {where} redirected to a {scheme or 'local'}: address; "
                               "only http(s) redirects are followed")
        where = f"{shown(location)}, redirected to {shown(url)}"
    raise ExtractError(f"source {shown(location)} answered with more than {MAX_REDIRECTS} redirects")


def _request(url: str, headers: dict, timeout: float, deadline: float, where: str, method: str = "GET",
             local: bool = False, body: bytes | None = None):
    """GET (HEAD, or POST ``body``) one URL on a connection pinned to its checked address; no redirect followed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = origin(url)[2]
    address = checked_address(host, port, where, local)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise urllib3.exceptions.TimeoutError("deadline")
    wait = urllib3.Timeout(connect=min(timeout, remaining), read=min(timeout, remaining))
    if parts.scheme == "https":
        # connect to the address, but speak TLS to the name: SNI and certificate are the host's
        pool = urllib3.HTTPSConnectionPool(address, port, server_hostname=host, assert_hostname=host,
                                           ca_certs=trusted_certificates(), retries=False, maxsize=1)
    else:
        pool = urllib3.HTTPConnectionPool(address, port, retries=False, maxsize=1)
    request_headers = {"User-Agent": f"govharvest/{__version__}", "Accept-Encoding": "gzip, deflate",
                       **headers, "Host": parts.netloc.rpartition("@")[2]}
    target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    try:
        return pool.urlopen(method, target, body=body, headers=request_headers, timeout=wait, redirect=False,
                            retries=False, preload_content=False, decode_content=True,
                            assert_same_host=False), pool
    except BaseException:
        pool.close()
        raise


def link_status(location: str, *, timeout: float = 10) -> int:
    """The HTTP status a web address ends at after its redirects, through the same
    guarded client as a feed (every hop http(s) and allowed by the address policy,
    the name resolved once, bounded in time): HEAD first, then GET when the server
    will not answer HEAD (405, 501, or no answer to it). No body is read. Raises
    ExtractError for an address the policy refuses or that cannot be reached."""
    _check_scheme(urlsplit(location).scheme)
    where = shown(location)
    status = None
    for method in ("HEAD", "GET"):
        deadline = time.monotonic() + timeout * 2
        response = pool = None
        try:
            response, pool = _follow(location, {}, timeout, deadline, method)
            status = response.status
            if method == "HEAD" and status in (405, 501):
                continue
            return status
        except urllib3.exceptions.HTTPError as e:
            if method == "HEAD":
                continue
            raise _unanswered(e, where, timeout) from None
        finally:
            _release(response, pool)
    return status


def _unanswered(e: urllib3.exceptions.HTTPError, where: str, timeout: float) -> ExtractError:
    """Why a request to a checked address got no answer, in a publisher's words."""
    if isinstance(e, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.SSLError)):
        return ExtractError(f"unreachable: {where} ({type(e).__name__})")
    return ExtractError(f"no answer within {timeout:g} s: {where} ({type(e).__name__})")


def _release(response, pool) -> None:
    if response is not None:
        response.close()
    if pool is not None:
        pool.close()


def post(location: str, body: bytes, headers: dict, *, timeout: float = 10) -> int:
    """POST ``body`` to a web address given by a user (a webhook's target), through
    the same guarded client: http(s) only, the name resolved once and every
    address checked by the policy (so a name that now resolves to a private
    address is refused: DNS rebinding), bounded in time, no redirect followed
    (a 3xx is the answer). Returns the HTTP status, reading no more than 64 KiB
    of the answer. Raises ExtractError for a refused or unreachable address."""
    _check_scheme(urlsplit(location).scheme)
    where = shown(location)
    response = pool = None
    try:
        response, pool = _request(location, headers, timeout, time.monotonic() + timeout * 2, where,
                                  "POST", body=body)
        response.read(CHUNK, decode_content=False)
        return response.status
    except urllib3.exceptions.HTTPError as e:
        raise _unanswered(e, where, timeout) from None
    finally:
        _release(response, pool)


def _spool_body(response, path: Path, deadline: float, where: str) -> None:
    """Write the decompressed body to ``path``, at most settings.max_feed_bytes(),
    finished by the deadline (a watchdog cuts the connection then)."""
    limit = settings.max_feed_bytes()
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ExtractError(f"the feed is larger than {_size(limit)}: {where} "
                           f"declares {int(declared)} bytes")
    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), response.shutdown)
    watchdog.start()
    received = 0
    try:
        with open(path, "wb") as out:
            while time.monotonic() < deadline:
                chunk = response.read1(CHUNK, decode_content=True)
                if not chunk:
                    break
                received += len(chunk)
                if received > limit:
                    raise ExtractError(f"the feed is larger than {_size(limit)}: {where}")
                out.write(chunk)
    finally:
        watchdog.cancel()
    if time.monotonic() >= deadline:   # cut by the watchdog, or ended just then: not whole
        raise urllib3.exceptions.TimeoutError("deadline")
    if declared.isdigit() and not response.headers.get("Content-Encoding") \
            and received != int(declared):
        raise ExtractError(f"source body was truncated: {received} of {declared} bytes "
                           f"from {where}")


def next_page(location: str, page_url: str, link, page: int) -> str:
    """The URL page ``page``'s ``next`` link names, resolved against that page,
    if it is on the feed's own origin (scheme, host and port): a feed cannot send
    the harvester, or the source's credentials, anywhere else, nor to a local file."""
    url = urljoin(page_url, link) if isinstance(link, str) else ""
    if urlsplit(location).scheme not in ("http", "https") \
            or urlsplit(url).scheme not in ("http", "https") or origin(url) != origin(location):
        raise ExtractError(f"page {page} of the feed {shown(location)} has a next link off the "
                           f"feed's own site ({shown(url) if url else 'not a URL'}); only next links "
                           "on the feed's own scheme, host and port are followed")
    return url


def fetch_json_pages(location: str, *, timeout: float = 30, etag: str | None = None,
                     last_modified: str | None = None, max_pages: int = 10000,
                     headers: dict | None = None, local: bool = False,
                     feed_key: str = "services") -> Fetched:
    """Follow a paginated JSON feed ({"services": [...], "next": url}) to its end,
    spooling the services as JSON lines: one page in memory at a time. A feed of
    another catalogue names its list by ``feed_key`` ({"basic_items": [...]}).

    The first page carries the HTTP validators: if it is not modified, neither is
    the feed, and nothing else is fetched.
    """
    import json

    first = fetch(location, timeout=timeout, etag=etag, last_modified=last_modified, headers=headers,
                  local=local)
    if first.not_modified:
        return first
    fd, name = tempfile.mkstemp(prefix="govharvest-", suffix=".jsonl")
    os.close(fd)
    out_path = Path(name)
    page, url, seen = first, location, 0
    try:
        with open(out_path, "w", encoding="utf-8") as out:
            while True:
                try:
                    body = load_json(page.path.read_bytes().decode("utf-8-sig"), f"page {seen + 1}")
                except UnicodeDecodeError as e:
                    raise ExtractError(f"page {seen + 1} of the feed is not UTF-8 (byte {e.start}: "
                                       f"{e.reason}): {shown(url)}") from None
                except ValueError as e:
                    raise ExtractError(f"page {seen + 1} of the feed is not JSON ({e}): "
                                      f"{shown(url)}") from None
                finally:
                    page.path.unlink(missing_ok=True)
                items = body.get(feed_key) if isinstance(body, dict) else body
                if not isinstance(items, list):
                    raise ExtractError(f'page {seen + 1} of the feed has no "{feed_key}" list: '
                                      f'{shown(url)}')
                for item in items:
                    out.write(json.dumps(item, ensure_ascii=False) + "\n")
                seen += 1
                link = body.get("next") if isinstance(body, dict) else None
                if not link:
                    break
                if seen >= max_pages:
                    raise ExtractError(f"the feed has more than {max_pages} pages: {shown(location)}")
                url = next_page(location, url, link, seen)
                page = fetch(url, timeout=timeout, headers=headers, local=local)
    except Exception:
        out_path.unlink(missing_ok=True)
        raise
    return Fetched(out_path, first.etag, first.last_modified)
