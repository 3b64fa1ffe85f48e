"""Read a CPSV-AP 3.2 feed — Turtle or JSON-LD, told apart by its first bytes —
into service records, like the CSV, XLSX and JSON readers do.

The mapping from RDF to service fields is the platform's own, in
``ckanext.govservice.rdf.services_from_cpsv`` (one implementation, the exact
inverse of what the platform publishes), so a feed written by another
GovService platform, or by anyone who follows datasets/formats/cpsv-ap.md,
reads back field for field. This module only decides what a feed is and what
of each service becomes a record:

* every ``cpsv:PublicService`` in the graph is one record, placed in the
  report as ``service <its URI>``;
* the feed's source owns every service in it: the competent authority in the
  RDF (``cv:hasCompetentAuthority``) and the publisher's URL name for the
  service (``foaf:page``) are not taken over — the record lands in the
  source's department under a name this platform makes from department and code;
* derived fields (``cv:processingTime`` …) are recomputed by the platform;
* what a service lacks is left out, never guessed, so CKAN's validation
  rejects it field by field — e.g. the CPSV-AP specification's own example
  has an English title but no Chinese one, no service type, audience,
  committed time limit or in-person visits, and a Europass channel type the
  platform's vocabulary does not have: it is rejected naming those fields.

A feed that is not Turtle or JSON-LD, does not parse, fetches a remote JSON-LD
``@context`` (never fetched: inline it or send expanded JSON-LD), or holds no
``cpsv:PublicService`` at all fails the whole harvest before anything is
loaded, so a wrong URL cannot withdraw a department's services.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from .errors import FormatError

# ckanext.govservice.rdf is imported when a feed is read, not with this module:
# it loads CKAN (seconds), and every govharvest command imports the readers.
PUBLIC_SERVICE = URIRef("http://purl.org/vocab/cpsv#PublicService")

Raw = Iterator[tuple[str, dict[str, Any]]]

# What the platform recomputes or decides itself, whatever the feed says.
NOT_TAKEN = ("uri", "department", "name", "processing_time")


class FeedError(ValueError):
    """The body is not a CPSV-AP feed; the message says why."""


def detect(head: bytes) -> str:
    """``json-ld`` or ``turtle`` from the first bytes of the body."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"{", b"["):
        return "json-ld"
    if text[:1] == b"<" and not text.startswith((b"<http", b"<urn:")):
        raise FeedError("this looks like XML (RDF/XML or HTML): a CPSV-AP feed is Turtle or JSON-LD")
    return "turtle"


def _remote_contexts(node: Any) -> list[str]:
    """The URLs of the top-level @context(s) of a JSON-LD document."""
    docs = node if isinstance(node, list) else [node]
    urls = []
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        context = doc.get("@context")
        for c in context if isinstance(context, list) else [context]:
            if isinstance(c, str):
                urls.append(c)
    return urls


def parse(data: bytes) -> Graph:
    """The feed's graph. Raises FeedError when it is not Turtle or JSON-LD RDF."""
    fmt = detect(data[:1024])
    g = Graph()
    try:
        if fmt == "json-ld":
            remote = _remote_contexts(json.loads(data.decode("utf-8-sig")))
            if remote:
                raise FeedError(f"the JSON-LD @context is a URL ({remote[0]}), which the harvester "
                                "does not fetch: inline the context, or send Turtle")
        g.parse(data=data.decode("utf-8-sig"), format=fmt)
    except FeedError:
        raise
    except Exception as e:   # rdflib's parsers raise many kinds
        where = "JSON-LD" if fmt == "json-ld" else "Turtle"
        raise FeedError(f"the feed is not valid {where}: {type(e).__name__}: {e}") from None
    if (None, RDF.type, PUBLIC_SERVICE) not in g:
        raise FeedError("the feed has no cpsv:PublicService: is the address that of a CPSV-AP feed?")
    return g


def records(g: Graph) -> Raw:
    """(``service <URI>``, record) for every public service, sorted by service code."""
    from ckanext.govservice.rdf import services_from_cpsv
    for service in services_from_cpsv(g):
        where = f"service {service.get('uri')}"
        yield where, {k: v for k, v in service.items() if k not in NOT_TAKEN}


def read(path: Path) -> Raw:
    """The reader of the ``cpsv`` format (see formats.READERS): a feed that is not
    CPSV-AP raises FormatError, which fails the job before any loading."""
    try:
        g = parse(Path(path).read_bytes())
    except FeedError as e:
        raise FormatError(f"CPSV-AP feed could not be read: {e}") from None
    yield from records(g)
