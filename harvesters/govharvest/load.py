"""Write harvested records (services, basic items, documents) into CKAN through
its Action API, with retries."""
from __future__ import annotations

import re
import time
from typing import Any, Callable

import ckanapi

from .catalogues import CATALOGUES

RETRIES = 4


def with_retries(call: Callable[[], Any], *, retries: int = RETRIES, pause: float = 0.5) -> Any:
    """Retry on CKAN 5xx answers and network failures, backing off; never on a
    validation error, which is the record's fault and is reported instead."""
    for attempt in range(retries + 1):
        try:
            return call()
        except ckanapi.CKANAPIError as e:
            if attempt == retries or not _is_server_error(e):
                raise
        except (ConnectionError, OSError):
            if attempt == retries:
                raise
        time.sleep(pause * 2 ** attempt)


def _is_server_error(e: ckanapi.CKANAPIError) -> bool:
    """ckanapi reports an unexpected answer as repr([url, status, body]); a 5xx
    status is worth another try. (The URL comes first and may be long, so the
    status is found by its place in the list, not by position in the text.)"""
    return re.search(r"', 5\d\d, ", str(e)) is not None


def error_messages(error_dict: dict[str, Any]) -> dict[str, list[str]]:
    """CKAN's validation errors as plain sentences per top-level field.

    CKAN answers a list field's errors as a list with one dict per entry
    (``{"fees": [{}, {"amount": ["must not be negative"]}]}``); a publisher
    reads "entry 2, amount: must not be negative" instead. ``__type`` and
    entries without errors are left out."""
    messages: dict[str, list[str]] = {}
    for field, errors in error_dict.items():
        if field == "__type":
            continue
        found = list(_sentences(errors, ""))
        if found:
            messages[field] = found
    return messages


def _sentences(errors: Any, where: str):
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from _sentences(value, f"{where}{key}: ")
    elif isinstance(errors, list):
        entries = any(isinstance(e, dict) for e in errors)
        for number, value in enumerate(errors, 1):
            yield from _sentences(value, f"{where}entry {number}, " if entries else where)
    elif errors not in (None, ""):
        yield f"{where}{errors}"


def error_sentence(error_dict: dict[str, Any]) -> str:
    """All of CKAN's validation errors in one line: "field: reason; field: reason"."""
    return "; ".join(f"{field}: {m}" for field, found in error_messages(error_dict).items()
                     for m in found)


# The key field of each dataset type (catalogues.py).
CATALOGUE_KEYS = {c.dataset_type: c.key for c in CATALOGUES.values()}


def _already_there(error_dict: dict[str, Any], dataset: dict[str, Any]) -> bool:
    """A create refused only because the dataset exists: its name is taken, or (a
    basic item, a document) its code is already used."""
    if "already in use" in str(error_dict.get("name", "")):
        return True
    key = CATALOGUE_KEYS.get(dataset.get("type", ""))
    return key != "service_code" and set(error_dict) - {"__type", "name"} == {key} and \
        "already used by" in str(error_dict[key])


def _solr_phrase(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"')


class CkanTarget:
    """The CKAN the harvest writes into."""

    def __init__(self, ckan: ckanapi.RemoteCKAN | ckanapi.LocalCKAN):
        self.ckan = ckan

    def upsert(self, dataset: dict[str, Any], known_name: str | None) -> dict:
        """Create the dataset, or update it when it exists already (by name, which
        is stable: department + service code for a service, the code for a basic
        item or a document), so a re-run never duplicates."""
        action = self.ckan.action
        name = known_name
        if name is None:
            try:
                return with_retries(lambda: action.package_create(**dataset))
            except ckanapi.ValidationError as e:
                if not _already_there(e.error_dict, dataset):
                    raise
                # a record loaded by a run that died before it could note the name
                name = self.existing_name(dataset)
                if name is None:   # another source's (another publisher's) entry: not ours to change
                    raise
        return with_retries(lambda: action.package_update(**{**dataset, "id": name}))

    upsert_service = upsert

    def existing_name(self, dataset: dict[str, Any]) -> str | None:
        """The name of the dataset that already holds this record's code."""
        if dataset.get("type", "service") == "service":
            found = self.ckan.action.govservice_service_show(
                service_code=dataset["service_code"], department=dataset["owner_org"])
            return found["name"]
        key = CATALOGUE_KEYS[dataset["type"]]
        found = self.ckan.action.package_search(
            fq=f'dataset_type:{dataset["type"]} AND {key}:"{_solr_phrase(dataset[key])}"',
            rows=10, include_private=True)["results"]
        ours = [d["name"] for d in found if d.get(key) == dataset[key]
                and d.get("source") == dataset.get("source")]
        return ours[0] if ours else None

    def withdraw(self, name: str) -> None:
        with_retries(lambda: self.ckan.action.package_patch(id=name, status="withdrawn"))

    def after_load(self) -> None:
        """The end of a load: over HTTP, CKAN queued its background work as it saved
        each dataset (a waiting job absorbs the next), so nothing is left to do."""
