"""Read the ``service`` datasets of another CKAN (another GovService platform,
e.g. a province's, or a city's own portal) through its Action API.

The source's location is the remote site's address, or one of its
organisation pages to take only that department's services:

    https://data.province.gov.cn
    https://data.province.gov.cn/organization/market-regulation

``fetch`` pages through ``package_search`` (``fq=dataset_type:service``, and
the organisation when given), sorted by dataset name and continued from the
last name seen (keyset paging: a deep page costs the remote no more than the
first, and a dataset added or removed mid-harvest does not shift the pages).
Each page is mapped at once and spooled to disk as JSON lines, so memory holds
one page whatever the remote's size. Any page that fails fails the whole
harvest before anything is loaded.

Mapping (``record``): every service field of the one schema is taken as the
remote shows it, except what this platform decides itself: the URL name
(made here from the source's department and the code), the owning
organisation (the source's department owns every record), derived fields and
provenance. The record's identity in the source is the remote department's
name and the service code, ``market-regulation/SC-0001``, so one source can
follow several remote departments; two of them with the same code would land
on one service here, and the second is rejected. A remote dataset without the
schema's fields (a plain CKAN dataset typed ``service``) is rejected record by
record by validation, naming the fields.

A ``basic_items`` or ``documents`` source reads the remote's ``basic_item`` or
``document`` datasets the same way (``dataset_type`` and ``key``); their codes
are unique on a platform, so a record's identity is its code alone.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlencode, urlsplit, urlunsplit

from . import extract
from .compare import RECORD_ID

Raw = Iterator[tuple[str, dict[str, Any]]]

PAGE_ROWS = 100
NOT_TAKEN = {"name", "owner_org", "id", "organization"}


def site_and_organization(location: str) -> tuple[str, str | None]:
    """(the remote site's base URL, the organisation name or None) from a source location."""
    parts = urlsplit(location.strip())
    if parts.scheme not in ("http", "https"):
        raise extract.ExtractError("a CKAN source's location is the site's http(s) address, "
                                   f"e.g. https://data.example.gov.cn (got {location!r})")
    path = parts.path.rstrip("/")
    organization = None
    head, sep, tail = path.rpartition("/organization/")
    if sep and tail and "/" not in tail:
        path, organization = head, tail
    return urlunsplit((parts.scheme, parts.netloc, path, "", "")), organization


def search_url(site: str, organization: str | None, after: str | None, rows: int,
               dataset_type: str = "service") -> str:
    fq = f"dataset_type:{dataset_type}"
    if organization:
        fq += f' AND organization:"{organization}"'
    if after:
        fq += f' AND name:{{"{after}" TO *]'
    # public datasets only, even with credentials: a remote draft is not for publishing here
    query = urlencode({"fq": fq, "sort": "name asc", "rows": rows})
    return f"{site}/api/3/action/package_search?{query}"


def record(dataset: dict[str, Any], key: str = "service_code") -> dict[str, Any]:
    """A remote ``package_show`` dict as a record: its fields, its identity (a
    service: remote department + service code; a catalogue entry: its code)."""
    org = dataset.get("organization") or {}
    department = org.get("name") or dataset.get("owner_org") or ""
    out = {k: v for k, v in dataset.items() if k not in NOT_TAKEN}
    if key == "service_code":
        out[RECORD_ID] = f"{department}/{dataset.get('service_code', '')}"
    return out


def _page(url: str, headers: dict | None, timeout: float, local: bool = False) -> dict[str, Any]:
    fetched = extract.fetch(url, headers=headers, timeout=timeout, local=local)
    try:
        body = json.loads(fetched.path.read_bytes())
    except ValueError:
        raise extract.ExtractError(f"the source did not answer as a CKAN Action API "
                                   f"(not JSON): {url}") from None
    finally:
        fetched.path.unlink(missing_ok=True)
    if not isinstance(body, dict) or "success" not in body:
        raise extract.ExtractError(f"the source did not answer as a CKAN Action API: {url}")
    if not body["success"]:
        raise extract.ExtractError(f"the remote CKAN refused the search: {body.get('error')}")
    return body["result"]


def fetch(location: str, *, headers: dict | None = None, timeout: float = 60,
          rows: int | None = None, max_pages: int = 100_000, local: bool = False,
          dataset_type: str = "service", key: str = "service_code") -> extract.Fetched:
    """Every service (or ``dataset_type`` entry, identified by ``key``) of the remote
    site or organisation, spooled as JSON lines of ``{"dataset": remote name,
    "record": record}``; ``local``: the source is registered as local (a private
    address allowed). Raises extract.ExtractError."""
    site, organization = site_and_organization(location)
    rows = rows or PAGE_ROWS
    fd, name = tempfile.mkstemp(prefix="govharvest-", suffix=".jsonl")
    os.close(fd)
    path = Path(name)
    after, pages = None, 0
    try:
        with open(path, "w", encoding="utf-8") as out:
            while True:
                result = _page(search_url(site, organization, after, rows, dataset_type),
                               headers, timeout, local)
                datasets = result.get("results") or []
                for dataset in datasets:
                    out.write(json.dumps({"dataset": dataset.get("name"), "record": record(dataset, key)},
                                         ensure_ascii=False) + "\n")
                pages += 1
                if len(datasets) < rows:
                    break
                if pages >= max_pages:
                    raise extract.ExtractError(f"the remote has more than {max_pages} pages of services")
                after = datasets[-1]["name"]
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return extract.Fetched(path)


def read(path: Path) -> Raw:
    """The reader of the ``ckan`` format (see formats.READERS): the spooled records."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            item = json.loads(line)
            yield f"dataset {item['dataset']}", item["record"]
