"""The schemas (``schemas/*.yaml``) and every fact derived from them.

The one reader of the four declarations — ``service.yaml`` (a service's
fields, as ckanext-scheming reads it), ``department.yaml``, ``statistics.yaml``
(the monthly rows) and ``kpis.yaml`` — and the one place that derives what the
rest of the platform needs from them: a field's kind, its subfields, labels and
choices, the Solr field names of the facets, the bulk-file columns, the fields
a department sends, the required statistics columns, the KPIs flagged
``headline`` and ``summary``. A field added to service.yaml reaches validation,
forms, Solr, bulk files, feed templates and RDF through these functions.

Tests may point the loader at another file for a while with ``use_schema``;
everything derived is recomputed inside the block and after it.
"""
from __future__ import annotations

import contextlib
import functools
import re
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, TypeVar

import yaml

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
SCHEMAS = ("service", "department", "statistics", "kpis", "basic_item", "document", "service_centre")
LANGUAGES = ("zh_Hans_CN", "en")

# ---------------------------------------------------------------- loading

_overrides: dict[str, Path | dict[str, Any]] = {}
_derived_caches: list[Callable[..., Any]] = []

F = TypeVar("F", bound=Callable[..., Any])


def derived(function: F) -> F:
    """Cache a fact derived from the schemas; ``use_schema`` forgets it."""
    cached = functools.cache(function)
    _derived_caches.append(cached)
    return cached  # type: ignore[return-value]


def _forget() -> None:
    for cached in _derived_caches:
        cached.cache_clear()


@derived
def load(name: str) -> dict[str, Any]:
    """``schemas/<name>.yaml`` as read by YAML (service, department, statistics, kpis)."""
    if name not in SCHEMAS:
        raise KeyError(f"no schema {name!r}: the schemas are {', '.join(SCHEMAS)}")
    source = _overrides.get(name, SCHEMA_DIR / f"{name}.yaml")
    if isinstance(source, dict):
        return source
    with open(source, encoding="utf-8") as f:
        return yaml.safe_load(f)


@contextlib.contextmanager
def use_schema(name: str, source: str | Path | dict[str, Any]) -> Iterator[None]:
    """Within the block, read schema ``name`` from ``source`` (a path or a loaded dict).

    For tests: every derived fact (field kinds, columns, facets, the CPSV-AP
    mapping…) follows the other schema inside the block and the real one after it.
    """
    previous = _overrides.get(name)
    _overrides[name] = source if isinstance(source, dict) else Path(source)
    _forget()
    try:
        yield
    finally:
        if previous is None:
            _overrides.pop(name, None)
        else:
            _overrides[name] = previous
        _forget()


# ---------------------------------------------------------------- fields, labels, choices

def service_schema() -> dict[str, Any]:
    return load("service")


def service_fields() -> list[dict[str, Any]]:
    return service_schema()["dataset_fields"]


def department_fields() -> list[dict[str, Any]]:
    return load("department")["fields"]


def field(name: str) -> dict[str, Any]:
    for f in service_fields():
        if f["field_name"] == name:
            return f
    raise KeyError(name)


def subfield(f: Mapping[str, Any] | str, name: str) -> dict[str, Any]:
    """A repeating field's subfield (``subfield("channels", "channel_type")``)."""
    parent = field(f) if isinstance(f, str) else f
    for sub in parent.get("repeating_subfields") or []:
        if sub["field_name"] == name:
            return sub
    raise KeyError(f"{parent['field_name']}.{name}")


def label(item: Mapping[str, Any], lang: str) -> str:
    text = item.get("label", item.get("field_name", ""))
    if isinstance(text, dict):
        return text.get(lang) or text.get("en") or next(iter(text.values()))
    return text


def text(item: Mapping[str, Any], key: str, lang: str) -> str:
    """A text of the schema (``description``, ``definition``…) in ``lang``, English when missing."""
    value = item.get(key) or ""
    if isinstance(value, dict):
        return value.get(lang) or value.get("en") or ""
    return value


def datastore_fields(columns: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """DataStore columns (each ``name``, ``type``, ``label``, ``description``)
    with their data dictionary in both languages: ``label`` and ``notes`` (what
    CKAN's data dictionary page shows) carry Chinese then English;
    ``label_<lang>`` / ``notes_<lang>`` carry each language alone for programs."""
    out = []
    for c in columns:
        info: dict[str, str] = {
            "label": " / ".join(label(c, lang) for lang in LANGUAGES),
            "notes": "\n\n".join(text(c, "description", lang) for lang in LANGUAGES),
        }
        for lang in LANGUAGES:
            info[f"label_{lang}"] = label(c, lang)
            info[f"notes_{lang}"] = text(c, "description", lang)
        out.append({"id": c["name"], "type": c["type"], "info": info})
    return out


def labels(item: Mapping[str, Any]) -> dict[str, str]:
    """``{language: label}`` in every language of the platform."""
    return {lang: label(item, lang) for lang in LANGUAGES}


def choices(f: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A field's choices: its own, or those of the vocabulary it names
    (the basic item and document schemas take the service's vocabularies)."""
    if f.get("choices"):
        return f["choices"]
    declared = vocabulary_fields().get(f.get("govservice_vocabulary") or "")
    return (declared or {}).get("choices") or []


def choice_label(f: Mapping[str, Any], value: str, lang: str) -> str:
    for c in choices(f):
        if c["value"] == value:
            return label(c, lang)
    return value


def vocabulary_field(f: Mapping[str, Any]) -> dict[str, Any] | None:
    """For a repeating field, the subfield that carries its vocabulary (channel_type…)."""
    for sub in f.get("repeating_subfields", []):
        if sub.get("govservice_vocabulary"):
            return sub
    return None


def vocabulary(field_name: str, sub: str | None = None) -> str:
    """The vocabulary name a field (or a repeating field's subfield) takes its codes from."""
    f = subfield(field_name, sub) if sub else field(field_name)
    return f["govservice_vocabulary"]


@derived
def vocabulary_fields() -> dict[str, dict[str, Any]]:
    """{vocabulary name: the schema field (or subfield) that declares its choices},
    the service's and the department's (``level``)."""
    out: dict[str, dict[str, Any]] = {}
    for f in [*service_fields(), *department_fields()]:
        for item in [f, *f.get("repeating_subfields", [])]:
            name = item.get("govservice_vocabulary")
            if name and name not in out and item.get("choices"):
                out[name] = item
    return out


# ---------------------------------------------------------------- a field's kind

# The validators that say what kind of value a field holds, checked in this order.
KIND_VALIDATORS = (("govservice_boolean", "boolean"), ("govservice_natural_number", "integer"),
                   ("govservice_number", "number"), ("govservice_money", "money"),
                   ("govservice_iso_date", "date"), ("govservice_web_url", "url"))
MULTIPLE_PRESETS = ("multiple_checkbox", "multiple_select")


def field_kind(f: Mapping[str, Any]) -> str:
    """What a field holds, from how the schema declares it: ``rows`` (repeating
    subfields), ``list`` (several codes), ``boolean``, ``integer`` (a whole number
    ≥ 0), ``number``, ``money``, ``date``, ``url``, ``code`` (one of its choices)
    or ``text``."""
    if f.get("repeating_subfields"):
        return "rows"
    if f.get("preset") in MULTIPLE_PRESETS:
        return "list"
    validators = f"{f.get('validators', '')} {f.get('output_validators', '')}".split()
    for marker, kind in KIND_VALIDATORS:
        if marker in validators:
            return kind
    return "code" if choices(f) else "text"


# The Python type each kind is indexed (and written in RDF) as.
KIND_TYPES: dict[str, type] = {"rows": list, "list": list, "boolean": bool, "integer": int,
                               "number": float}


def python_type(f: Mapping[str, Any]) -> type:
    """The Python type a field's value has once validated (str unless said otherwise)."""
    return KIND_TYPES.get(field_kind(f), str)


# ---------------------------------------------------------------- the search index

# Dynamic Solr fields added by stack/solr/patch_schema.py.
SOLR_SUFFIX = {list: "_ss", str: "_ss", bool: "_b", int: "_i", float: "_f"}


def facet_fields() -> dict[str, str]:
    """{field_name: Solr field} for every field declared with govservice_facet."""
    out = {}
    for f in service_fields():
        facet = f.get("govservice_facet")
        if not facet:
            continue
        out[f["field_name"]] = facet if facet == "organization" else facet + SOLR_SUFFIX[python_type(f)]
    return out


# ---------------------------------------------------------------- bulk files and feeds

# Set by the harvesters, never sent by a department.
PROVENANCE = ("source", "source_record_id", "harvested_at", "content_hash")


def bulk_fields() -> list[dict[str, Any]]:
    """The dataset fields that have a bulk-file column (``govservice_column``), in schema order."""
    return [f for f in service_fields() if f.get("govservice_column")]


def bulk_columns() -> list[str]:
    return [f["govservice_column"] for f in bulk_fields()]


def input_fields() -> dict[str, dict[str, Any]]:
    """{field_name: field} of what a department's feed may carry: every field
    but the derived ones and the provenance the harvesters set."""
    return {f["field_name"]: f for f in service_fields()
            if not f.get("govservice_derived") and f["field_name"] not in PROVENANCE}


# ---------------------------------------------------------------- statistics rows

def statistics_schema() -> dict[str, Any]:
    return load("statistics")


def statistics_columns() -> list[dict[str, Any]]:
    return statistics_schema()["fields"]


def required_statistics_columns() -> list[str]:
    """The columns every statistics row must have (``required: true``)."""
    return [c["name"] for c in statistics_columns() if c.get("required")]


# ---------------------------------------------------------------- KPIs

def kpi_schema() -> dict[str, Any]:
    return load("kpis")


def kpi_definitions(source: str | None = None) -> list[dict[str, Any]]:
    return [k for k in kpi_schema()["kpis"] if source is None or k["source"] == source]


def headline_kpis() -> list[str]:
    """The KPIs a dashboard leads with (``headline: true``), statistics ones then catalogue ones."""
    return [k["name"] for k in kpi_definitions() if k.get("headline")]


def summary_kpis() -> list[str]:
    """The KPIs of a service's latest-12-months summary (``summary: true``), kept per
    service and indexed in Solr."""
    return [k["name"] for k in kpi_definitions() if k.get("summary")]


def performance_solr_fields() -> dict[str, str]:
    """{KPI: Solr field} of the summary KPIs: ``performance_<name>_i`` for counts, ``_f`` otherwise."""
    return {k["name"]: f"performance_{k['name']}" + ("_i" if k["unit"] == "count" else "_f")
            for k in kpi_definitions() if k.get("summary")}


# ---------------------------------------------------------------- reading what people type

TRUE_WORDS = {"true", "yes", "y", "1", "是", "必需", "必要"}
FALSE_WORDS = {"false", "no", "n", "0", "否", "非必需", "容缺"}


def parse_boolean(value: Any) -> bool:
    """True or false from a bool or a word a department writes (是 / 否, yes / no, 1 / 0…)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(f"must be true or false, not {value!r}")


_HEADER_NOISE = re.compile(r"[\s_\-()]+")


def fold_header(header: Any) -> str:
    """A column header as compared with the schema's names: without case, spaces,
    ``_`` ``-``, brackets, full-width forms or a trailing colon."""
    text = "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else c for c in str(header))
    return _HEADER_NOISE.sub("", text.rstrip().rstrip(":")).lower()
