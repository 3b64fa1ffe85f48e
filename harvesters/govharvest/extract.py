"""Fetch a source's data to a local file, safely and completely, or fail saying why.

Nothing is parsed here, and nothing is published: a fetch that fails (unreachable,
5xx, timeout, truncated body) ends the job before anything in CKAN changes.
"""
from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
import urllib3

from . import settings
from .errors import ExtractError

CHUNK = 1 << 16


@dataclass
class Fetched:
    path: Path              # the body, spooled to disk
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False


def check_location(location: str) -> None:
    """Refuse anything but http(s) URLs to public addresses, and local paths.

    A source must not become a way to reach internal services: loopback,
    private and link-local addresses are refused unless allowed by the operator.
    """
    parts = urlsplit(location)
    if parts.scheme in ("", "file"):
        return
    if parts.scheme not in ("http", "https"):
        raise ExtractError(f"source location must be http(s) or a local path, not {parts.scheme}:")
    host = parts.hostname or ""
    if host in settings.allowed_private_hosts():
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror:
        raise ExtractError(f"source host {host} cannot be resolved") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address.is_loopback or address.is_private or address.is_link_local \
                or address.is_reserved or address.is_multicast or address.is_unspecified:
            raise ExtractError(
                f"source host {host} resolves to {address}, a private or local address; "
                "an operator can allow it with GOVHARVEST_ALLOW_PRIVATE_HOSTS")


def fetch(location: str, *, timeout: float = 30, etag: str | None = None,
          last_modified: str | None = None, headers: dict | None = None) -> Fetched:
    check_location(location)
    fd, name = tempfile.mkstemp(prefix="govharvest-")
    os.close(fd)
    path = Path(name)
    parts = urlsplit(location)
    if parts.scheme in ("", "file"):
        source = Path(parts.path if parts.scheme == "file" else location)
        if not source.is_file():
            raise ExtractError(f"source file {source} does not exist")
        shutil.copyfile(source, path)
        return Fetched(path)
    request_headers = dict(headers or {})
    if etag:
        request_headers["If-None-Match"] = etag
    if last_modified:
        request_headers["If-Modified-Since"] = last_modified
    try:
        with requests.get(location, headers=request_headers, timeout=timeout, stream=True) as r:
            if r.status_code == 304:
                return Fetched(path, etag, last_modified, not_modified=True)
            if r.status_code >= 400:
                raise ExtractError(f"source answered HTTP {r.status_code} at {location}")
            received = 0
            with open(path, "wb") as out:
                for chunk in r.raw.stream(CHUNK, decode_content=True):
                    out.write(chunk)
                    received += len(chunk)
            expected = r.headers.get("Content-Length")
            if expected and not r.headers.get("Content-Encoding") and received != int(expected):
                raise ExtractError(f"source body was truncated: {received} of {expected} bytes "
                                   f"from {location}")
            return Fetched(path, r.headers.get("ETag"), r.headers.get("Last-Modified"))
    except ExtractError:
        path.unlink(missing_ok=True)
        raise
    except requests.Timeout:
        path.unlink(missing_ok=True)
        raise ExtractError(f"source did not answer within {timeout} s: {location}") from None
    except requests.ConnectionError as e:
        path.unlink(missing_ok=True)
        raise ExtractError(f"source is unreachable: {location} ({type(e).__name__})") from None
    except urllib3.exceptions.HTTPError as e:     # the body stopped short of what was declared
        path.unlink(missing_ok=True)
        raise ExtractError(f"source body was truncated or broken at {location}: "
                           f"{type(e).__name__}") from None


def fetch_json_pages(location: str, *, timeout: float = 30, etag: str | None = None,
                     last_modified: str | None = None, max_pages: int = 10000,
                     headers: dict | None = None) -> Fetched:
    """Follow a paginated JSON feed ({"services": [...], "next": url}) to its end,
    spooling the services as JSON lines: one page in memory at a time.

    The first page carries the HTTP validators: if it is not modified, neither is
    the feed, and nothing else is fetched.
    """
    import json

    first = fetch(location, timeout=timeout, etag=etag, last_modified=last_modified, headers=headers)
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
                    body = json.loads(page.path.read_text(encoding="utf-8-sig"))
                except ValueError as e:
                    raise ExtractError(f"page {seen + 1} of the feed is not JSON ({e}): {url}") from None
                finally:
                    page.path.unlink(missing_ok=True)
                items = body.get("services") if isinstance(body, dict) else body
                if not isinstance(items, list):
                    raise ExtractError(f'page {seen + 1} of the feed has no "services" list: {url}')
                for item in items:
                    out.write(json.dumps(item, ensure_ascii=False) + "\n")
                seen += 1
                url = body.get("next") if isinstance(body, dict) else None
                if not url:
                    break
                if seen >= max_pages:
                    raise ExtractError(f"the feed has more than {max_pages} pages: {location}")
                page = fetch(url, timeout=timeout, headers=headers)
    except Exception:
        out_path.unlink(missing_ok=True)
        raise
    return Fetched(out_path, first.etag, first.last_modified)
