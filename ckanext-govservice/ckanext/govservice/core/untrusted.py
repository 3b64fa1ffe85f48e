"""Reading what a department sends, which is untrusted: JSON no deeper than a
feed needs, XML without a DOCTYPE or entities (no billion laughs, no external
entity that reads a file or an address), JSON-LD that names no context to fetch,
and an excerpt of a body fit to quote in an error (bounded, escaped).

Every reader of a feed in the core (``cpsv``, ``open311``, ``tabular``) and the
harvesters parse through these, so the limits are the same whichever way a
file arrives. Each refusal is a ``ValueError`` naming what was refused; the
readers turn it into their own error.
"""
from __future__ import annotations

import io
import json
import zipfile
from typing import Any, BinaryIO
from xml.etree import ElementTree as ET
from xml.parsers import expat

MAX_JSON_DEPTH = 64       # a service feed nests four levels; JSON-LD a few more
EXCERPT_CHARS = 120       # of a body quoted in an error
MESSAGE_CHARS = 500       # of an error message as a whole


class Refused(ValueError):
    """The body is refused as a whole; the message says what it holds and why."""


def excerpt(text: Any, limit: int = EXCERPT_CHARS) -> str:
    """``text`` as an error may quote it: control characters and non-printables
    escaped (so a report or log line cannot be forged), cut at ``limit``
    characters with ``…`` and the length left out."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = str(text)
    shown = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                    for c in text[:limit])
    if len(text) > limit:
        shown += f"… ({len(text) - limit} more characters)"
    return shown


def depth_of(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """How deeply ``value`` nests lists and objects, counted without recursion;
    stops counting (and returns it) once past ``limit``."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def load_json(text: str | bytes, what: str = "the JSON", max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that refuses nesting deeper than ``max_depth`` (a deeply
    nested document otherwise exhausts the parser's recursion, or every later
    walk over it). Raises ``ValueError`` (``json``'s own, or ``Refused``)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise Refused(f"{what} nests lists or objects deeper than {max_depth} levels") from None
    if depth_of(value, max_depth) > max_depth:
        raise Refused(f"{what} nests lists or objects deeper than {max_depth} levels")
    return value


def remote_context_references(document: Any) -> list[str]:
    """Every context a JSON-LD processor would fetch: a string (or a string in a
    list) under ``@context`` at any depth — the document's, a node's, a term's
    scoped context — and every ``@import``. Walked without recursion."""
    found, stack = [], [document]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key == "@context":
                    for c in value if isinstance(value, list) else [value]:
                        if isinstance(c, str):
                            found.append(c)
                elif key == "@import" and isinstance(value, str):
                    found.append(value)
                stack.append(value)
    return found


def _no_declarations(parser) -> None:
    """Make an expat parser refuse a DOCTYPE and any entity declaration, before
    anything is expanded or fetched."""
    def refuse_doctype(name, *args):
        raise Refused("the XML declares a DOCTYPE, which a data file never needs "
                      "(entities could expand without bound or read other files)")

    def refuse_entity(name, *args):
        raise Refused(f"the XML declares the entity {excerpt(name, 40)}, which a data file never needs")

    def refuse_external(*args):
        raise Refused("the XML refers to an external entity")

    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_entity
    parser.ExternalEntityRefHandler = refuse_external


def parse_xml(data: bytes) -> ET.Element:
    """The document's root element, refusing a DOCTYPE or entity declaration in
    whatever encoding the document declares (so UTF-16 cannot hide one): the
    same parser (expat) reads the bytes first with the declarations refused.
    Raises ``Refused``, ``expat.ExpatError`` or ``ET.ParseError``."""
    check_xml_stream(io.BytesIO(data))
    return ET.fromstring(data)


def check_xml_stream(stream: BinaryIO, chunk: int = 1 << 16) -> None:
    """Read an XML stream through expat only to refuse a DOCTYPE or entity
    declaration; constant memory, whatever its size."""
    parser = expat.ParserCreate()
    _no_declarations(parser)
    while block := stream.read(chunk):
        parser.Parse(block, False)
    parser.Parse(b"", True)


def check_xlsx(path: str, max_unpacked_bytes: int) -> None:
    """Refuse an XLSX (a zip of XML parts) whose parts would unpack to more than
    ``max_unpacked_bytes`` together (a zip bomb), or whose XML parts declare a
    DOCTYPE or entities. Raises ``Refused``; a file that is not a zip raises
    ``zipfile.BadZipFile``."""
    with zipfile.ZipFile(path) as book:
        parts = book.infolist()
        unpacked = sum(part.file_size for part in parts)
        if unpacked > max_unpacked_bytes:
            raise Refused(f"the workbook unpacks to {unpacked} bytes, more than the "
                          f"{max_unpacked_bytes} allowed")
        for part in parts:
            if part.filename.endswith((".xml", ".rels")):
                with book.open(part) as stream:
                    try:
                        check_xml_stream(stream)
                    except Refused as e:
                        raise Refused(f"{excerpt(part.filename, 60)}: {e}") from None
                    except expat.ExpatError as e:
                        raise Refused(f"{excerpt(part.filename, 60)} is not well-formed XML: {e}") from None
