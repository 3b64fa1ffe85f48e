"""Read a fetched file into raw records, by the source's format.

Each reader yields (source line or position, raw record). A file that cannot be
parsed at all raises FormatError with the reason, before anything is loaded.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable, Iterator

from ckanext.govservice.core import tabular
from ckanext.govservice.core.untrusted import load_json

from . import ckan_reader, cpsv, open311_reader, settings
from .catalogues import SERVICES, Catalogue
from .errors import FormatError

Raw = Iterator[tuple[str, dict[str, Any]]]


def read_csv(path: Path, dataset_type: str = "service") -> Raw:
    """A CSV of any encoding; a record longer than tabular.MAX_RECORD_CHARS (a line
    without end) fails the file, naming the line and the bound, whatever the
    process-wide csv.field_size_limit() is."""
    with open(path, "rb") as f:
        try:
            for line, record, _unknown in tabular.read_csv(f, dataset_type):
                yield f"line {line}", record
        except (ValueError, UnicodeDecodeError) as e:
            raise FormatError(f"CSV could not be read: {e}") from None


def not_utf8(e: UnicodeDecodeError) -> str:
    """Why a body that should be UTF-8 could not be decoded, without quoting it."""
    return f"the file is not UTF-8 (byte {e.start}: {e.reason}); send it as UTF-8"


def read_xlsx(path: Path, dataset_type: str = "service") -> Raw:
    try:
        for line, record, _unknown in tabular.read_xlsx(str(path), settings.max_feed_bytes(),
                                                        dataset_type):
            yield f"row {line}", record
    except (ValueError, KeyError, OSError) as e:
        raise FormatError(f"XLSX could not be read: {e}") from None
    except Exception as e:   # openpyxl raises zipfile/XML errors on a damaged file
        raise FormatError(f"XLSX could not be read: {type(e).__name__}: {e}") from None


def read_json_feed(path: Path, feed_key: str = "services") -> Raw:
    """The platform's JSON feed: {"services": [...]} (one page) or a bare list
    ({"basic_items": [...]}, {"documents": [...]} for the other catalogues)."""
    try:
        body = load_json(Path(path).read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        raise FormatError(f"JSON could not be parsed: {not_utf8(e)}") from None
    except ValueError as e:
        raise FormatError(f"JSON could not be parsed: {e}") from None
    items = body.get(feed_key) if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise FormatError(f'JSON feed must be a list of {feed_key.replace("_", " ")} '
                          f'or {{"{feed_key}": [...]}}')
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise FormatError(f"JSON feed item {i + 1} is not an object")
        yield f"item {i + 1}", item


def read_json_lines(path: Path) -> Raw:
    """The JSON feed as extract.fetch_json_pages spools it: one service per line."""
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            try:
                item = load_json(line, f"feed item {i}")
            except ValueError as e:
                raise FormatError(f"feed item {i} is not JSON: {e}") from None
            if not isinstance(item, dict):
                raise FormatError(f"feed item {i} is not an object")
            yield f"item {i}", item


READERS: dict[str, Callable[[Path], Raw]] = {
    "csv": read_csv,
    "xlsx": read_xlsx,
    "json": read_json_lines,     # fetched page by page, see extract.fetch_json_pages
    "json-file": read_json_feed,  # one JSON document, e.g. a pushed file
    "cpsv": cpsv.read,           # CPSV-AP RDF, Turtle or JSON-LD (see cpsv.py)
    "open311": open311_reader.read,   # GeoReport v2 services.json / .xml
    "ckan": ckan_reader.read,    # another CKAN's service datasets, fetched by ckan_reader.fetch
}


def reader(fmt: str, catalogue: Catalogue = SERVICES) -> Callable[[Path], Raw]:
    """The reader of a format for a catalogue: the spreadsheet readers take the
    catalogue's columns, the JSON document its list key; the others read services only."""
    if catalogue is SERVICES:
        return READERS[fmt]
    if fmt not in catalogue.formats:
        raise FormatError(f"a {catalogue.kind} source cannot be read as {fmt} "
                          f"(one of {', '.join(catalogue.formats)})")
    if fmt in ("csv", "xlsx"):
        return functools.partial(READERS[fmt], dataset_type=catalogue.dataset_type)
    if fmt == "json-file":
        return functools.partial(read_json_feed, feed_key=catalogue.feed_key)
    return READERS[fmt]
