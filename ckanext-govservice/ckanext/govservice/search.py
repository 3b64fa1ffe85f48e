"""What a service puts into Solr beyond CKAN's defaults: typed facet fields,
and its repeating subfields flattened into searchable text."""
from __future__ import annotations

import json
from typing import Any

from .core import schema


def _labels(f: dict[str, Any], values: list[str]) -> list[str]:
    """A vocabulary's codes as the words people search with, in both languages."""
    return [schema.choice_label(f, v, lang) for v in values for lang in schema.LANGUAGES]


def _text_of(rows: list[dict[str, Any]], f: dict[str, Any]) -> str:
    """The human words of a repeating field (names, addresses, channel kinds),
    not its codes, flags or links."""
    words = []
    for sub in f["repeating_subfields"]:
        values = [r[sub["field_name"]] for r in rows if r.get(sub["field_name"]) not in (None, "")]
        if sub.get("govservice_vocabulary"):
            words += _labels(sub, values)
        elif sub.get("choices") or "url" in sub["field_name"]:
            continue
        else:
            words += [str(v) for v in values]
    return " ".join(words)


def service_index_fields(service: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(fields to add to the Solr document, keys to drop from it) for a validated service."""
    add: dict[str, Any] = {}
    drop: list[str] = []
    facets = schema.facet_fields()
    for f in schema.service_fields():
        name = f["field_name"]
        value = service.get(name)
        if f.get("repeating_subfields"):
            rows = value if isinstance(value, list) else []
            # CKAN would index the JSON itself, keys and all; index the words instead.
            drop.append(name)
            add[f"extras_{name}"] = _text_of(rows, f)
            vocab = schema.vocabulary_field(f)
            if name in facets and vocab:
                add[facets[name]] = sorted({r[vocab["field_name"]] for r in rows
                                            if r.get(vocab["field_name"])})
            continue
        if isinstance(value, str) and value.startswith("["):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        if isinstance(value, list):
            drop.append(name)   # CKAN's catch-all field holds one value only
        if f.get("govservice_vocabulary") and value not in (None, "", []):
            add[f"extras_{name}"] = " ".join(_labels(f, value if isinstance(value, list) else [value]))
        if name in facets and name != "owner_org" and value not in (None, "", []):
            add[facets[name]] = value
    return add, drop


def performance_index_fields(performance: dict[str, Any] | None) -> dict[str, Any]:
    """The latest 12 months' KPIs as sortable, filterable Solr fields (absent = no data):
    the KPIs kpis.yaml flags ``summary``, named by ``schema.performance_solr_fields``."""
    out: dict[str, Any] = {}
    for kpi, solr_field in schema.performance_solr_fields().items():
        value = (performance or {}).get(kpi)
        if value is not None:
            out[solr_field] = int(value) if solr_field.endswith("_i") else float(value)
    return out
