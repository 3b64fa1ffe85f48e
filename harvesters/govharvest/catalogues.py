"""What a harvest source of each kind fills: a CKAN dataset type, the field that
keys its records, and the list its JSON feed carries.

One pipeline (pipeline.py) harvests all three catalogues the same way —
extract, read and normalise, compare, load, report — told apart only by the
``Catalogue`` of the source's kind:

* ``services``: a department's services (``service``, keyed by ``service_code``,
  unique within the department);
* ``basic_items``: the basic catalogue (基本目录, ``basic_item``, keyed by
  ``basic_code``, unique on the platform), published by the source's department
  (e.g. the province's government service office);
* ``documents``: the document catalogue (材料目录, ``document``, keyed by
  ``document_code``);
* ``service_centres``: a department's service centres (办事大厅,
  ``service_centre``, keyed by ``centre_code``, unique on the platform). Their
  counters name the services they handle by implementation code; a code no
  service has yet is flagged on the centre, not refused, so centres may run in
  the first tier, before the services.

The fields, columns and labels of each come from its schema
(``schemas/<dataset type>.yaml``) through ``core.schema`` and ``core.tabular``.

Order: a service names the basic item it implements (``basic_code``) and the
catalogue codes of its documents, and CKAN's validation refuses a code it does
not know. So when several sources are due together, the catalogue kinds run
first and the services after them (``HARVEST_ORDER``): the scheduler queues
them in that order, and a later tier's jobs wait on the Redis queue until the
earlier tier's jobs queued in the same tick have ended, however many workers
take jobs (queue.schedule_once).
The ``statistics`` kind is not a catalogue: its rows go to the statistics store
(statistics.py), after the services they count.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ckanext.govservice.core import schema


@dataclass(frozen=True)
class Catalogue:
    kind: str                  # the source kind, and the JSON feed's list key
    dataset_type: str          # the CKAN dataset type (and schema) it fills
    key: str                   # the field that identifies a record
    formats: tuple[str, ...]   # the feed formats a source of this kind may have

    @property
    def feed_key(self) -> str:
        """The key of the list in a JSON feed page: {"basic_items": [...], "next": …}."""
        return self.kind

    def fields(self) -> list[dict[str, Any]]:
        return schema.load(self.dataset_type)["dataset_fields"]

    def input_fields(self) -> dict[str, dict[str, Any]]:
        """{field_name: field} of what a feed of this kind may carry: every field
        but the derived ones and the provenance the harvesters set."""
        return {f["field_name"]: f for f in self.fields()
                if not f.get("govservice_derived") and f["field_name"] not in schema.PROVENANCE}


SERVICES = Catalogue("services", "service", "service_code",
                     ("csv", "xlsx", "json", "json-file", "cpsv", "open311", "ckan"))
BASIC_ITEMS = Catalogue("basic_items", "basic_item", "basic_code", ("csv", "xlsx", "json", "json-file", "ckan"))
DOCUMENTS = Catalogue("documents", "document", "document_code", ("csv", "xlsx", "json", "json-file", "ckan"))
SERVICE_CENTRES = Catalogue("service_centres", "service_centre", "centre_code",
                            ("csv", "xlsx", "json", "json-file", "ckan"))

CATALOGUES: dict[str, Catalogue] = {c.kind: c for c in (SERVICES, BASIC_ITEMS, DOCUMENTS, SERVICE_CENTRES)}

# The order due sources are run in, tier by tier: the catalogues a service
# refers to, then the services, then the statistics rows that count them.
# Queue rows (every minute) wait for nothing: in the first tier.
HARVEST_ORDER = (("basic_items", "documents", "service_centres", "queues"), ("services",), ("statistics",))


def of(source: dict[str, Any]) -> Catalogue:
    """The catalogue a (non-statistics) source fills."""
    return CATALOGUES[source.get("kind") or "services"]


def harvest_tier(source: dict[str, Any]) -> int:
    """The tier of HARVEST_ORDER a source's kind is in (0: the catalogues)."""
    kind = source.get("kind") or "services"
    return next(i for i, kinds in enumerate(HARVEST_ORDER) if kind in kinds)
