"""Turn a record as a department sent it into the service schema's shape.

Cells from spreadsheets are text: lists come separated by ; ， 、 or newlines,
repeating subfields (documents, channels, fees…) as JSON text. Values keep
their meaning; checking them is CKAN's validation's job, against the one schema.
"""
from __future__ import annotations

import json
import re
from typing import Any, Mapping

from ckanext.govservice.core import schema, tabular

from .catalogues import SERVICES, Catalogue
from .errors import RecordError

LIST_SEPARATORS = re.compile(r"[;；,，、\n]+")


def _kind(f: Mapping[str, Any]) -> str:
    kind = schema.field_kind(f)
    return kind if kind in ("rows", "list") else "scalar"


# What a services feed may carry: no derived fields, no provenance (the harvesters set it).
FIELDS = schema.input_fields()


def normalise(raw: Mapping[str, Any], mapping: Mapping[str, str] | None = None,
              catalogue: Catalogue = SERVICES) -> dict[str, Any]:
    """The record with the catalogue's schema field names and shapes; unknown
    fields are dropped, a field's former name (``local_code``) is read as its own."""
    mapping = mapping or {}
    fields = FIELDS if catalogue is SERVICES else catalogue.input_fields()
    former = tabular.FORMER_NAMES.get(catalogue.dataset_type, {})
    key_field = fields[catalogue.key]
    sent = {mapping.get(key, key) for key in raw}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = mapping.get(key, key)
        if name not in fields and name in former:
            if former[name] in sent:   # the field under its own name too: that one counts
                continue
            name = former[name]
        f = fields.get(name)
        if f is None or name == "owner_org":
            continue
        kind = _kind(f)
        if isinstance(value, str):
            value = value.strip()
        if value in (None, ""):
            if kind != "scalar":
                out[name] = []
            continue
        if kind == "list":
            if isinstance(value, str):
                value = [v.strip() for v in LIST_SEPARATORS.split(value) if v.strip()]
            out[name] = sorted(set(map(str, value)))
        elif kind == "rows":
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    raise RecordError(name, "must be a JSON list of objects "
                                            f"(got {value[:40]!r})") from None
            if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
                raise RecordError(name, "must be a list of objects")
            out[name] = [{k: v for k, v in r.items() if v not in (None, "")} for r in value]
        else:
            out[name] = value if not isinstance(value, float) or not value.is_integer() else int(value)
    key = catalogue.key
    if not str(out.get(key, "")).strip():
        raise RecordError(key, f"is missing: every record needs its "
                               f"{schema.label(key_field, 'en').lower()} ({schema.label(key_field, 'zh_Hans_CN')})")
    out[key] = str(out[key]).strip()
    return out
