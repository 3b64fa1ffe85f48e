"""Read a CPSV-AP 3.2 feed — Turtle or JSON-LD, told apart by its first bytes —
into service records, like the CSV, XLSX and JSON readers do.

The reading is the platform's own, in ``ckanext.govservice.core.cpsv``
(``parse_feed`` and ``services_from_cpsv``: one implementation, the exact
inverse of what the platform publishes), so a feed written by another
GovService platform, or by anyone who follows datasets/formats/cpsv-ap.md,
reads back field for field. This module only decides what of each service
becomes a record:

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

A feed that ``parse_feed`` refuses (not Turtle or JSON-LD, does not parse, a
remote JSON-LD ``@context``, no ``cpsv:PublicService``) fails the whole
harvest before anything is loaded, so a wrong URL cannot withdraw a
department's services.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from rdflib import Graph

from ckanext.govservice.core.cpsv import FeedError, detect, services_from_cpsv
from ckanext.govservice.core.cpsv import parse_feed as parse

from .errors import FormatError

Raw = Iterator[tuple[str, dict[str, Any]]]

__all__ = ["FeedError", "detect", "parse", "read", "records"]

# What the platform recomputes or decides itself, whatever the feed says.
NOT_TAKEN = ("uri", "department", "name", "processing_time")


def records(g: Graph) -> Raw:
    """(``service <URI>``, record) for every public service, sorted by service code."""
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
