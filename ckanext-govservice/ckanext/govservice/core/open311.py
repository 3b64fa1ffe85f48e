"""Open311 GeoReport v2 service lists, both ways: the list this platform serves
(``service_entry``, ``to_xml``; the CKAN views are in ``ckanext.govservice.views.open311``)
and a department's list read into service records (``parse``, ``record``; the
harvester's reader is ``govharvest.open311_reader``).

Writing (https://wiki.open311.org/GeoReport_v2/):

==============  ================================================================
Open311         GovService
==============  ================================================================
jurisdiction_id a department's URL name (CKAN organisation name); leave it out
                for every department. Unknown → 404.
service_code    the service code (基本编码)
service_name    the title (``title_en`` with ``locale=en``, falling back to Chinese)
description     the description (``notes`` / ``notes_en``)
metadata        always ``false``: a service request needs no extra attributes here
type            ``realtime`` when the committed time limit is 0 (即办, decided on
                the spot); ``batch`` otherwise (the request is processed within
                the committed limit). Never ``blackbox``.
keywords        the theme labels, comma-separated
group           the department's name
==============  ================================================================

Reading, the inverse (datasets/formats/open311.md for publishers). An Open311
list says little about a service: a code, a name, a description, keywords, a
group, and whether requests to it are processed at once.

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
service — is listed in ``LACKS``; the harvester takes it from the source's
defaults or rejects the record naming the field.

A body that is neither a JSON list nor a ``<services>`` document, or an Open311
error answer (``[{"code": 404, "description": …}]``), raises ``ListError``.
"""
from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET
from xml.parsers import expat

from . import schema
from .untrusted import Refused, excerpt, load_json, parse_xml

# ---------------------------------------------------------------- writing: the platform's service list

def service_type(service: dict[str, Any]) -> str:
    """Open311 ``type``: realtime for services decided on the spot, batch for the rest."""
    return "realtime" if service.get("committed_limit") in (0, "0") else "batch"


def _locale_text(service: dict[str, Any], key: str, en_key: str, locale: str) -> str:
    if locale == "en" and service.get(en_key):
        return service[en_key]
    return service.get(key) or ""


def service_entry(service: dict[str, Any], department: dict[str, Any] | None = None,
                  locale: str = "zh_Hans_CN") -> dict[str, Any]:
    """One element of the Open311 service list, from a ``package_show`` dict."""
    department = department or service.get("organization") or {}
    themes = schema.field("themes")
    return {
        "service_code": service["service_code"],
        "service_name": _locale_text(service, "title", "title_en", locale),
        "description": _locale_text(service, "notes", "notes_en", locale),
        "metadata": False,
        "type": service_type(service),
        "keywords": ",".join(schema.choice_label(themes, t, locale) for t in service.get("themes") or []),
        "group": _locale_text(department, "title", "title_en", locale) or department.get("name", ""),
    }


def service_definition(service: dict[str, Any]) -> dict[str, Any]:
    """The Open311 service definition: no attributes, since ``metadata`` is false."""
    return {"service_code": service["service_code"], "attributes": []}


def to_xml(root: str, item: str, rows: list[dict[str, Any]]) -> bytes:
    top = ET.Element(root)
    for row in rows:
        el = ET.SubElement(top, item) if item else top
        for key, value in row.items():
            if isinstance(value, list):
                child = ET.SubElement(el, key)
                for sub in value:
                    ET.SubElement(child, key.rstrip("s")).text = str(sub)
                continue
            ET.SubElement(el, key).text = (
                "true" if value is True else "false" if value is False else str(value))
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")


# ---------------------------------------------------------------- reading: a department's service list

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
        body = load_json(text.decode("utf-8"), "the service list")
    except UnicodeDecodeError as e:
        raise ListError(f"the body is neither JSON nor XML: it is not UTF-8 (byte {e.start}: "
                        f"{e.reason})") from None
    except ValueError as e:
        raise ListError(f"the body is neither JSON nor XML: {e}") from None
    if isinstance(body, dict) and "services" in body:   # a wrapped list, seen in the wild
        body = body["services"]
    if not isinstance(body, list):
        raise ListError("a services.json body is a JSON list of services")
    if body and all(isinstance(e, dict) and "code" in e and "description" in e
                    and "service_code" not in e for e in body):
        raise ListError(f"the server answered with an Open311 error: {excerpt(body[0]['description'])}")
    for i, entry in enumerate(body, 1):
        if not isinstance(entry, dict):
            raise ListError(f"service {i} of the list is not a JSON object")
    return body


def _parse_xml(text: bytes) -> list[dict[str, Any]]:
    try:
        root = parse_xml(text)   # a DOCTYPE or entity refused, in whatever encoding it hides
    except Refused as e:
        raise ListError(str(e)) from None
    except (ET.ParseError, expat.ExpatError) as e:
        raise ListError(f"the XML does not parse: {e}") from None
    if root.tag == "errors":
        raise ListError("the server answered with an Open311 error: "
                        + excerpt(root.findtext("error/description") or "(no description)"))
    if root.tag != "services":
        raise ListError(f"the XML root is <{excerpt(root.tag, 60)}>, not <services>: "
                        "is this an Open311 service list?")
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
