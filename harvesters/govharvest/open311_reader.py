"""Read an Open311 GeoReport v2 service list (``services.json`` or
``services.xml``, told apart by the first bytes) into service records.

An Open311 list says little about a service: a code, a name, a description,
keywords, a group, and whether requests to it are processed at once. The
mapping (the inverse of what this platform serves at /open311/v2/, see
``ckanext.govservice.open311``; datasets/formats/open311.md for publishers):

============  ==================================================================
Open311       service record
============  ==================================================================
service_code  ``service_code``
service_name  ``title`` (a source may map it to ``title_en`` instead)
description   ``notes`` (or ``notes_en``)
keywords      ``themes``: each comma-separated keyword that names a theme, by its
              value or its Chinese or English label; other keywords are free tags
              the platform has no field for, and are left out
group         ``themes`` too when it names a theme; otherwise it is the publishing
              department's name (as this platform serves it) or a category, and is
              left out: the source's department owns every record
type          ``realtime`` → ``committed_limit`` 0 (decided on the spot, as this
              platform publishes it); ``batch`` and ``blackbox`` say nothing of
              the time limit
metadata      not taken: a service definition lists request form fields, not
              catalogue facts, so definitions are never fetched
============  ==================================================================

What every service needs and an Open311 list never carries — service type,
audience, in-person visits, and the committed time limit of a ``batch``
service — comes from the source's defaults (``govharvest source add …
--default audience=citizen``). A record still lacking one is rejected naming
the field and saying so (``LACKS``); the rest of the list still lands.

A body that is neither a JSON list nor a ``<services>`` document, or an Open311
error answer (``[{"code": 404, "description": …}]``), fails the whole harvest
before anything is loaded. An empty list is a valid answer (a department with
no active services); the withdrawal threshold then holds it for a person.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator
from xml.etree import ElementTree as ET

from ckanext.govservice import schema

from .errors import FormatError

Raw = Iterator[tuple[str, dict[str, Any]]]

# The service schema's required fields an Open311 list has no element for.
LACKS = ("service_type", "audience", "committed_limit", "in_person_visits")
# Open311 names of the text fields; a source's own mapping may send them elsewhere
# ({"service_name": "title_en"}), or nowhere (null).
MAPPING = {"service_name": "title", "description": "notes"}


class ListError(ValueError):
    """The body is not an Open311 service list; the message says why."""


def theme_names() -> dict[str, str]:
    """Every way a theme may be written (value, zh or en label), folded, to its value."""
    names = {}
    for choice in schema.choices(schema.field("themes")):
        for name in (choice["value"], schema.label(choice, "zh_Hans_CN"), schema.label(choice, "en")):
            names[name.strip().casefold()] = choice["value"]
    return names


def parse(data: bytes) -> list[dict[str, Any]]:
    """The list's entries as dicts of text, from JSON or XML. Raises ListError."""
    text = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] == b"<":
        return _parse_xml(text)
    try:
        body = json.loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise ListError(f"the body is neither JSON nor XML: {e}") from None
    if isinstance(body, dict) and "services" in body:   # a wrapped list, seen in the wild
        body = body["services"]
    if not isinstance(body, list):
        raise ListError("a services.json body is a JSON list of services")
    if body and all(isinstance(e, dict) and "code" in e and "description" in e
                    and "service_code" not in e for e in body):
        raise ListError(f"the server answered with an Open311 error: {body[0]['description']}")
    for i, entry in enumerate(body, 1):
        if not isinstance(entry, dict):
            raise ListError(f"service {i} of the list is not a JSON object")
    return body


def _parse_xml(text: bytes) -> list[dict[str, Any]]:
    if b"<!DOCTYPE" in text[:2048] or b"<!ENTITY" in text:
        raise ListError("the XML declares a DOCTYPE or entities, which a service list never needs")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise ListError(f"the XML does not parse: {e}") from None
    if root.tag == "errors":
        raise ListError("the server answered with an Open311 error: "
                        + (root.findtext("error/description") or "(no description)"))
    if root.tag != "services":
        raise ListError(f"the XML root is <{root.tag}>, not <services>: is this an Open311 service list?")
    return [{child.tag: (child.text or "").strip() for child in service}
            for service in root.findall("service")]


def record(entry: dict[str, Any], themes: dict[str, str]) -> dict[str, Any]:
    """One Open311 entry as a service record (before the source's mapping and defaults)."""
    out = {k: v for k, v in entry.items() if k not in ("keywords", "group", "type", "metadata")}
    words = str(entry.get("keywords") or "").split(",") + [str(entry.get("group") or "")]
    found = {themes[w.strip().casefold()] for w in words if w.strip().casefold() in themes}
    if found:
        out["themes"] = sorted(found)
    if str(entry.get("type", "")).strip().lower() == "realtime":
        out["committed_limit"] = 0
    return out


def read(path: Path) -> Raw:
    """The reader of the ``open311`` format (see formats.READERS)."""
    try:
        entries = parse(Path(path).read_bytes())
    except ListError as e:
        raise FormatError(f"Open311 service list could not be read: {e}") from None
    themes = theme_names()
    for i, entry in enumerate(entries, 1):
        yield f"service {i}", record(entry, themes)


read.mapping = MAPPING   # under the source's own mapping
read.lacks = LACKS       # the pipeline rejects a record still lacking one after the defaults
