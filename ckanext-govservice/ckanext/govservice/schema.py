"""Read the service schema (schemas/service.yaml) — the one source of truth.

Everything that needs to know a service's fields (the index, the bulk files,
`govservice_schema`, feed templates) asks this module rather than listing
fields again.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

SCHEMA_DIR = Path(__file__).parent / "schemas"
LANGUAGES = ("zh_Hans_CN", "en")


@functools.cache
def service_schema() -> dict[str, Any]:
    with open(SCHEMA_DIR / "service.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def service_fields() -> list[dict[str, Any]]:
    return service_schema()["dataset_fields"]


def field(name: str) -> dict[str, Any]:
    for f in service_fields():
        if f["field_name"] == name:
            return f
    raise KeyError(name)


def label(item: dict[str, Any], lang: str) -> str:
    text = item.get("label", item.get("field_name", ""))
    if isinstance(text, dict):
        return text.get(lang) or text.get("en") or next(iter(text.values()))
    return text


def choices(f: dict[str, Any]) -> list[dict[str, Any]]:
    return f.get("choices") or []


def vocabulary_field(f: dict[str, Any]) -> dict[str, Any] | None:
    """For a repeating field, the subfield that carries its vocabulary (channel_type…)."""
    for sub in f.get("repeating_subfields", []):
        if sub.get("govservice_vocabulary"):
            return sub
    return None


def choice_label(f: dict[str, Any], value: str, lang: str) -> str:
    for c in choices(f):
        if c["value"] == value:
            return label(c, lang)
    return value


# ---------------------------------------------------------------- the search index

# Dynamic Solr fields added by stack/solr/patch_schema.py.
SOLR_SUFFIX = {list: "_ss", str: "_ss", bool: "_b", int: "_i", float: "_f"}


def solr_field_kind(f: dict[str, Any]) -> type:
    """The Python type a faceted field indexes as, from how the schema declares it."""
    validators = f.get("validators", "") + " " + f.get("output_validators", "")
    if "govservice_boolean" in validators:
        return bool
    if "govservice_natural_number" in validators:
        return int
    if "govservice_number" in validators:
        return float
    if f.get("preset") in ("multiple_checkbox", "multiple_select") or f.get("repeating_subfields"):
        return list
    return str


def facet_fields() -> dict[str, str]:
    """{field_name: Solr field} for every field declared with govservice_facet."""
    out = {}
    for f in service_fields():
        facet = f.get("govservice_facet")
        if not facet:
            continue
        out[f["field_name"]] = facet if facet == "organization" else facet + SOLR_SUFFIX[solr_field_kind(f)]
    return out
