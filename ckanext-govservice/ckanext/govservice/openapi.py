"""The OpenAPI 3.1 description of the platform's API, generated, never hand-kept.

* ``GET /api/govservice/openapi.json`` — the description (machine-readable)
* ``GET /api/govservice/docs`` — the interactive reference (Swagger UI, vendored)

What it is made from:

* **our actions**: every public function ``govservice_*`` in logic/action.py is
  an operation, so an action added there is documented here without touching
  this module;
* **the CKAN actions developers call for our data** (``CKAN_ACTIONS``):
  ``package_search``, ``package_show``, ``organization_list``/``_show``,
  ``datastore_search`` and ``datastore_search_sql``, from CKAN's own docstrings,
  with what our schemas add: the facet and sort fields
  (``core.schema.facet_fields``, the performance fields), the ``service`` type
  as a JSON Schema derived from ``service.yaml``, the department from
  ``department.yaml`` and the statistics table's rows from ``statistics.yaml``;
* **examples** from the portal's own data (on the demo portal, the demo city):
  the view passes a service, its department and the statistics table.

A docstring, in CKAN's Sphinx style, gives the summary (first line), the
description (the paragraphs before the fields, turned from reStructuredText
into the CommonMark OpenAPI renders), the parameters (``:param name:`` with
``:type name: string, optional``), the result (``:returns:``/``:rtype:``; the
``:param``s after a ``**Results:**`` line are the result's keys) and the errors
(``:raises NotAuthorized:`` → 403, ``ObjectNotFound`` → 404,
``ValidationError`` → 409, as CKAN's API answers). Read-only actions get a GET
with query parameters as well as the POST with a JSON body that every action has.

Everything here but ``govservice_actions``/``ckan_actions`` (which import the
actions) is pure.
"""
from __future__ import annotations

import copy
import inspect
import re
from typing import Any, Callable

from .core import schema

OPENAPI_VERSION = "3.1.0"
# The API's version: semantic, raised with every entry of CHANGELOG.md (a unit
# test holds the two together). Major: something removed or changed in meaning
# (after the deprecation period); minor: something added; patch: documentation.
API_VERSION = "1.0.0"
VERSION_HEADER = "X-GovService-API-Version"
PREFIX = "govservice_"

# The CKAN actions documented beside ours: what developers call for our data.
CKAN_ACTIONS = ("package_search", "package_show", "organization_list", "organization_show",
                "datastore_search", "datastore_search_sql")
CKAN_REQUIRED = {"package_show": ("id",), "organization_show": ("id",),
                 "datastore_search": ("resource_id",), "datastore_search_sql": ("sql",)}

TYPES = {"string": "string", "str": "string", "int": "integer", "integer": "integer",
         "bool": "boolean", "boolean": "boolean", "list": "array", "dict": "object",
         "dictionary": "object", "float": "number", "number": "number"}
ERRORS = {
    "NotAuthorized": (403, "Not authorised: the user may not call this action"),
    "ObjectNotFound": (404, "Not found"),
    "ValidationError": (409, "Validation error: a field-keyed dict says what is wrong"),
}

FIELD = re.compile(r"^:(param|type|returns|rtype|raises)\s*([^:]*):\s*(.*)$")
RESULTS = re.compile(r"^\*\*Results:?\*\*:?$")


# ---------------------------------------------------------------- docstrings

def parse_docstring(doc: str) -> dict[str, Any]:
    """Split a CKAN-style action docstring into summary, description and fields.

    ``:param``s that follow a ``**Results:**`` line (as in CKAN's
    ``package_search``) describe the result's keys: they go to ``results``."""
    lines = inspect.cleandoc(doc or "").splitlines()
    prose: list[str] = []
    params: dict[str, dict[str, str]] = {}
    results: dict[str, dict[str, str]] = {}
    returns = rtype = ""
    raises: dict[str, str] = {}
    current: list[Any] | None = None  # [kind, name, indent] of the field being continued
    in_results = False
    tail: list[str] = []  # prose after the fields
    for line in lines:
        indent = len(line) - len(line.lstrip())
        m = FIELD.match(line.strip())
        if m:
            kind, name, text = m.group(1), m.group(2).strip(), m.group(3).strip()
            if kind == "type" and not name:          # ":type include_plugin_data: bool" mistyped
                name, _, text = text.partition(":")
                name, text = name.strip(), text.strip()
            current = [kind, name, indent]
            target = results if in_results else params
            if kind == "param":
                target.setdefault(name, {})["description"] = text
                if in_results:
                    prose.append(f"\x01{name}")   # listed here, in the prose, once read
            elif kind == "type":
                target.setdefault(name, {})["type"] = text
            elif kind == "returns":
                returns = text
            elif kind == "rtype":
                rtype = text
            elif kind == "raises":
                raises[name] = text
            continue
        if RESULTS.match(line.strip()):
            in_results = True
            prose.append(line)
            continue
        if current is not None and indent > current[2] and line.strip():
            kind, name, _ = current
            more = " " + line.strip()
            target = results if in_results else params
            if kind == "param":
                target[name]["description"] += more
            elif kind == "returns":
                returns += more
            elif kind == "raises":
                raises[name] += more
            continue
        if current is not None:
            current = None if not line.strip() else current
            if line.strip():
                tail.append(line)
            elif tail:
                tail.append("")
            continue
        prose.append(line)
    text = "\n".join(prose).strip()
    summary, _, description = text.partition("\n\n")
    description = "\n\n".join(p for p in (description.strip(), "\n".join(tail).strip()) if p)
    description = re.sub("\x01(.*)", lambda m: f"* ``{m.group(1)}``: {results[m.group(1)].get('description', '')}",
                         description)
    description = re.sub(r"^(\* ``.*)\n(?=[^*\n])", r"\1\n\n", description, flags=re.MULTILINE)
    return {"summary": " ".join(summary.split()), "description": description,
            "params": params, "results": results, "returns": returns, "rtype": rtype,
            "raises": raises}


_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`~?([^`<]*?)(?:\s*<[^>]*>)?`")
_LINK = re.compile(r"`([^`<]+?)\s*<([^>]+)>`__?")
_NAMED = re.compile(r"`([^`]+)`_\b")
_DIRECTIVE = re.compile(r"^\.\.\s+(note|warning|deprecated|versionadded|versionchanged)::\s*(.*)$")


def rst_to_markdown(text: str) -> str:
    """reStructuredText of a docstring as CommonMark (what OpenAPI tools render).

    ``code`` → `code`; ``:role:`~a.b``` → `b`; ```text <url>`_`` → [text](url);
    ``.. note::`` → **Note:**; a paragraph ending ``::`` introduces a code block;
    link targets (``.. _name: url``) are dropped."""
    out: list[str] = []
    code: list[str] | None = None
    code_indent = 0
    text = _LINK.sub(lambda m: f"[{' '.join(m.group(1).split())}]({m.group(2)})", text or "")
    for line in text.splitlines():
        if code is not None:
            indent = len(line) - len(line.lstrip())
            if not line.strip() or (code_indent == 0 and indent > 0) or (code_indent and indent >= code_indent):
                if line.strip() and code_indent == 0:
                    code_indent = indent
                if line.strip() or code:
                    code.append(line[code_indent:] if line.strip() else "")
                continue
            while code and not code[-1]:
                code.pop()
            out += ["```", *code, "```", ""]
            code = None
        stripped = line.strip()
        if stripped.startswith(".. _") and ":" in stripped[4:]:
            continue
        d = _DIRECTIVE.match(stripped)
        if d:
            out.append(f"**{d.group(1).capitalize()}:** {d.group(2)}".rstrip())
            continue
        if stripped.endswith("::"):
            before = line.rstrip()[:-2].rstrip()
            out.append(before + (":" if before.strip() and not before.endswith(":") else ""))
            code, code_indent = [], 0
            continue
        line = line.replace("``", "\x00")
        line = _ROLE.sub(lambda m: f"`{m.group(1).split('.')[-1]}`", line)
        line = _NAMED.sub(r"\1", line)
        out.append(line.replace("\x00", "`"))
    if code is not None:
        while code and not code[-1]:
            code.pop()
        out += ["```", *code, "```"]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def _param_schema(type_text: str) -> tuple[dict[str, Any], bool]:
    """The JSON Schema of a parameter from its ``:type:`` text, and whether it is required."""
    words = [w.strip().lower().rstrip(".") for w in re.split(r"[,\s]+", type_text or "string") if w.strip()]
    required = "optional" not in words
    if "list" in words:
        kinds = ["object" if w.startswith("dict") else TYPES.get(w.rstrip("s")) for w in words if w != "list"]
        item = next((k for k in kinds if k), None)
        return {"type": "array", "items": {"type": item} if item else {}}, required
    if "or" in words:   # "string or dictionary", "file, or"
        kinds = list(dict.fromkeys(TYPES[w] for w in words if w in TYPES))
        return ({"type": kinds} if len(kinds) > 1 else {}), required
    kind = next((TYPES[w] for w in words if w in TYPES), "string")
    return {"type": kind}, required


# ---------------------------------------------------------------- JSON Schemas from our schemas

JSON_KINDS = {"boolean": {"type": "boolean"}, "integer": {"type": "integer", "minimum": 0},
              "number": {"type": "number"}, "money": {"type": "number", "minimum": 0},
              "date": {"type": "string", "format": "date"}, "url": {"type": "string", "format": "uri"},
              "text": {"type": "string"}}
DATASTORE_TYPES = {"text": "string", "int": "integer", "numeric": "number", "bool": "boolean"}


def _bilingual(item: dict[str, Any], key: str) -> str:
    """"English (中文)" of a schema text, or one of them when they are the same."""
    en, zh = schema.text(item, key, "en"), schema.text(item, key, "zh_Hans_CN")
    return en if not zh or zh == en else f"{en} ({zh})"


def field_json_schema(f: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of one scheming field (or subfield), from how the schema declares it."""
    kind = schema.field_kind(f)
    if kind == "rows":
        subs = f["repeating_subfields"]
        out: dict[str, Any] = {"type": "array", "items": {
            "type": "object", "properties": {s["field_name"]: field_json_schema(s) for s in subs},
            "required": [s["field_name"] for s in subs if s.get("required")]}}
    elif kind == "list":
        out = {"type": "array", "items": {"type": "string", "enum": [c["value"] for c in schema.choices(f)]}}
    elif kind == "code":
        out = {"type": "string", "enum": [c["value"] for c in schema.choices(f)]}
    else:
        out = copy.deepcopy(JSON_KINDS.get(kind, {"type": "string"}))
    if not f.get("required") and kind not in ("rows", "list"):
        # An optional value may be absent, empty (text) or null (numbers, derived fields).
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], "", None]
            out["type"] = ["string", "null"]
    out["title"] = schema.label(f, "en")
    description = " ".join(p for p in (_bilingual(f, "label"), f.get("help_text") and _bilingual(f, "help_text"))
                           if p)
    if f.get("govservice_derived"):
        out["readOnly"] = True
        description += " Computed by the platform; a value sent is ignored."
    facet = schema.facet_fields().get(f["field_name"])
    if facet:
        description += f" Search on it as `{facet}` (`fq`, `facet.field`, `sort`)."
    out["description"] = description
    return out


def service_json_schema() -> dict[str, Any]:
    """A ``service`` dataset as ``package_show`` returns it: the fields of
    ``service.yaml``, then what CKAN and the platform add to every service."""
    fields = schema.service_fields()
    properties = {f["field_name"]: field_json_schema(f) for f in fields}
    properties["owner_org"] = {"type": "string", "description": "The id of the department (organisation) providing the service."}
    properties.update({
        "id": {"type": "string", "description": "CKAN's id of the service (a UUID)."},
        "type": {"const": "service", "description": "The dataset type."},
        "organization": {"$ref": "#/components/schemas/DepartmentSummary"},
        "metadata_created": {"type": "string", "description": "When the service was first published (UTC)."},
        "metadata_modified": {"type": "string", "description": "When it last changed (UTC); sort on it to follow changes."},
        "state": {"type": "string", "description": "`active` for a published service."},
        "private": {"type": "boolean"},
        "performance": {"type": ["object", "null"], "additionalProperties": True,
                        "description": "The latest 12 months' KPIs of the service (null without statistics)."},
        "resources": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
    })
    return {"type": "object", "title": "Service", "description": schema.service_schema().get("about", ""),
            "required": ["id", "name", "type", "owner_org", *(f["field_name"] for f in fields if f.get("required")
                                                              and f["field_name"] != "owner_org")],
            "properties": properties, "additionalProperties": True}


def department_json_schema() -> dict[str, Any]:
    """A department (CKAN organisation) from ``department.yaml``."""
    properties = {f["field_name"]: field_json_schema(f) for f in schema.department_fields()
                  if f["field_name"] != "image_url"}
    properties.update({"id": {"type": "string"}, "package_count": {"type": "integer"},
                       "image_url": {"type": ["string", "null"]}})
    return {"type": "object", "title": "Department", "required": ["id", "name"],
            "description": schema.load("department").get("about", ""),
            "properties": properties, "additionalProperties": True}


def statistics_row_schema() -> dict[str, Any]:
    """A row of the statistics table, as the DataStore returns it, from ``statistics.yaml``."""
    columns = schema.statistics_columns()
    properties: dict[str, Any] = {"_id": {"type": "integer", "description": "The DataStore's row id."}}
    for c in columns:
        kind = DATASTORE_TYPES.get(c["type"], "string")
        properties[c["name"]] = {
            "type": kind if c.get("required") else [kind, "null"], "title": schema.label(c, "en"),
            "description": f"{_bilingual(c, 'label')}: {_bilingual(c, 'description')}".rstrip(": ")}
    return {"type": "object", "title": "Statistics row", "description": _bilingual(schema.statistics_schema(), "about"),
            "required": [c["name"] for c in columns if c.get("required")],
            "properties": properties, "additionalProperties": True}


def sort_fields() -> list[str]:
    """The fields a service search can sort on: CKAN's and our Solr fields."""
    return ["score", "metadata_modified", "metadata_created", "title_string", "name",
            *(v for v in schema.facet_fields().values() if v != "organization"),
            *schema.performance_solr_fields().values()]


# ---------------------------------------------------------------- operations

def _envelope(result: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["success", "result"],
            "properties": {"help": {"type": "string"}, "success": {"const": True}, "result": result}}


ERROR_SCHEMA = {
    "type": "object", "required": ["success", "error"],
    "properties": {
        "help": {"type": "string"},
        "success": {"const": False},
        "error": {"type": "object", "required": ["__type"],
                  "properties": {"__type": {"type": "string"}, "message": {"type": "string"}},
                  "additionalProperties": True},
    },
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}

RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": {"description": "The caller's budget of requests in the current window "
                                         "(when fair use is on)", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests left in the window", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "When the window ends (Unix time)", "schema": {"type": "integer"}},
}

TOO_MANY = {
    "description": "Too many requests: the caller is over its fair-use limit (see the API's "
                   "description). `Retry-After` says in how many seconds to try again.",
    "headers": {"Retry-After": {"description": "Seconds to wait before the next request",
                                "schema": {"type": "integer"}}},
    "content": {"application/json": {"schema": ERROR_REF}},
}


def _responses(doc: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {"description": "Success: the result is in `result`",
                "headers": {VERSION_HEADER: {"description": "The API's version", "schema": {"type": "string"}},
                            **RATE_LIMIT_HEADERS},
                "content": {"application/json": {"schema": _envelope(result)}}},
        # CKAN answers a body it cannot decode with a bare JSON string, not its envelope.
        "400": {"description": "Bad request: the body is not a JSON object, or is larger than the "
                               "portal takes (`error.body` says its size and the limit)",
                "content": {"application/json": {"schema": {
                    "anyOf": [ERROR_REF, {"type": "string", "pattern": "^Bad request"}]}}}},
    }
    # Every action checks access, and CKAN answers a bad parameter with 409
    # even when the docstring names no error, so these three are always possible.
    for exc in ("NotAuthorized", "ObjectNotFound", "ValidationError"):
        status, text = ERRORS[exc]
        responses[str(status)] = {"description": rst_to_markdown(doc["raises"].get(exc) or text),
                                  "content": {"application/json": {"schema": ERROR_REF}}}
    responses["429"] = {"$ref": "#/components/responses/TooManyRequests"}
    return responses


def _query_schema(s: dict[str, Any]) -> dict[str, Any]:
    """A parameter as a query string carries it: scalars typed, the rest JSON text."""
    kind = s.get("type")
    if kind in ("integer", "number", "boolean"):
        return {"type": kind}
    if "enum" in s:
        return {"type": "string", "enum": s["enum"]}
    return {"type": "string"}


def operation(name: str, func: Callable, *, tag: str = "govservice", read_only: bool | None = None,
              result: dict[str, Any] | None = None,
              extra: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """The path item for one action: POST always, GET too when it is read-only.

    ``result`` is the JSON Schema of the result (else the docstring's words);
    ``extra`` adds to or overrides parameters' schemas ({name: schema})."""
    doc = parse_docstring(func.__doc__ or "")
    properties: dict[str, Any] = {}
    required: list[str] = []
    for pname, p in doc["params"].items():
        if not pname or " " in pname:
            continue
        s, is_required = _param_schema(p.get("type", ""))
        description = rst_to_markdown(p.get("description", ""))
        if tag != "govservice":   # CKAN's docstrings say "optional" only now and then
            is_required = pname in CKAN_REQUIRED.get(name, ())
        properties[pname] = {**s, "description": description}
        if is_required:
            required.append(pname)
    for pname, s in (extra or {}).items():
        properties[pname] = {**properties.get(pname, {}), **s}
    if result is None:
        result = {"description": rst_to_markdown(doc["returns"])}
        if doc["rtype"].strip().lower() in TYPES:
            result["type"] = TYPES[doc["rtype"].strip().lower()]
    description = rst_to_markdown(doc["description"])
    base = {"operationId": name, "summary": doc["summary"], "description": description,
            "tags": [tag], "responses": _responses(doc, result)}
    if doc["raises"].get("NotAuthorized"):
        base["security"] = [{"ckanApiToken": []}]
    out = {"post": {**base, "operationId": f"{name}_post",
                    "requestBody": {"required": False, "content": {"application/json": {"schema": {
                        "type": "object", "properties": properties, "required": required}}}}}}
    if read_only if read_only is not None else getattr(func, "side_effect_free", False):
        out["get"] = {**base, "parameters": [
            {"name": pname, "in": "query", "required": pname in required,
             "description": s["description"], "schema": _query_schema(s),
             **({"example": s["example"]} if "example" in s else {})}
            for pname, s in properties.items()]}
    return out


# ---------------------------------------------------------------- the CKAN actions, with our fields

def _search_result() -> dict[str, Any]:
    return {"type": "object", "required": ["count", "results"], "properties": {
        "count": {"type": "integer", "description": "How many services match (not how many are returned)."},
        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Service"}},
        "sort": {"type": "string"},
        "facets": {"type": "object", "additionalProperties": True},
        "search_facets": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/SearchFacet"}},
    }, "additionalProperties": True}


def _datastore_result(records: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["records"], "properties": {
        "resource_id": {"type": "string"},
        "fields": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "type": {"type": "string"},
            "info": {"type": "object", "additionalProperties": True}}, "additionalProperties": True}},
        "records": {"type": "array", "items": records},
        "total": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"},
        "records_truncated": {"type": "boolean"},
        "_links": {"type": "object", "additionalProperties": True},
    }, "additionalProperties": True}


def ckan_operations(actions: dict[str, Callable], examples: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{path: path item} of the CKAN actions in ``actions``, with our schemas' fields."""
    facets = [v for v in schema.facet_fields().values()]
    sorts = sort_fields()
    service = examples.get("service") or {}
    table = examples.get("statistics_resource_id")
    table_words = (f"The platform's statistics table is `{table}` (the resource `service-statistics` "
                   "of the dataset `service-statistics`)." if table else
                   "The platform's statistics table is the resource `service-statistics` of the "
                   "dataset `service-statistics`: its id is in `package_show?id=service-statistics`.")
    columns = ", ".join(f"`{c['name']}`" for c in schema.statistics_columns())
    extra: dict[str, dict[str, Any]] = {
        "package_search": {
            "q": {"example": service.get("title") or "营业执照"},
            "fq": {"description": "Filter queries, e.g. `dataset_type:service`, `themes_ss:business`, "
                                  "`in_person_visits_i:0`, `organization:<department>`. Our fields: "
                                  + ", ".join(f"`{f}`" for f in facets) + ".",
                   "example": "dataset_type:service"},
            "facet.field": {"type": "array", "items": {"type": "string", "enum": facets},
                            "description": "The fields to count values of (JSON list in a query string, "
                                           "e.g. `[\"themes_ss\",\"organization\"]`)."},
            "sort": {"description": "A comma-separated list of `<field> asc|desc`. Sortable: "
                                    + ", ".join(f"`{f}`" for f in sorts) + ".",
                     "example": "metadata_modified desc"},
        },
        "package_show": {"id": {"example": service.get("name")} if service.get("name") else {}},
        "organization_show": {"id": {"example": (service.get("organization") or {}).get("name")}
                              if service.get("organization") else {}},
        "datastore_search": {
            "resource_id": {"description": "The table's id. " + table_words, **({"example": table} if table else {})},
            "filters": {"type": "object", "description": "`{column: value}` (JSON text in a query string); "
                                                         "columns: " + columns + ".",
                        "example": '{"channel": "online"}'},
        },
        "datastore_search_sql": {"sql": {
            "description": "One SELECT statement. " + table_words + " Columns: " + columns + ".",
            **({"example": f'SELECT period, sum(completed) AS completed FROM "{table}" '
                           "GROUP BY period ORDER BY period"} if table else {})}},
    }
    results = {
        "package_search": {"$ref": "#/components/schemas/SearchResult"},
        "package_show": {"$ref": "#/components/schemas/Service"},
        "organization_list": {"type": "array", "items": {
            "anyOf": [{"type": "string"}, {"$ref": "#/components/schemas/Department"}]},
            "description": "Names, or the departments themselves with `all_fields`."},
        "organization_show": {"$ref": "#/components/schemas/Department"},
        "datastore_search": _datastore_result({"$ref": "#/components/schemas/StatisticsRow"}),
        "datastore_search_sql": _datastore_result({"type": "object", "additionalProperties": True}),
    }
    notes = {
        "package_search": "Services are datasets of type `service`: add `fq=dataset_type:service`. "
                          "Each result is a `Service` (see Schemas).",
        "datastore_search": table_words + " Its rows are `StatisticsRow`s (see Schemas).",
        "datastore_search_sql": table_words,
    }
    out = {}
    for name in CKAN_ACTIONS:
        if name not in actions:
            continue
        item = operation(name, actions[name], tag="ckan", read_only=True, result=results[name],
                         extra={k: v for k, v in extra.get(name, {}).items() if v})
        for op in item.values():
            if name in notes:
                op["description"] = notes[name] + "\n\n" + op["description"]
        out[f"/api/3/action/{name}"] = item
    return out


def _example(value: Any) -> Any:
    """A service as an example: without what changes on every read or holds a file's address."""
    if not isinstance(value, dict):
        return value
    return {k: v for k, v in value.items() if k not in ("resources", "relationships_as_object",
                                                        "relationships_as_subject", "tags", "groups")}


# Our actions whose result is one of the schemas (the others are described in words).
RESULT_SCHEMAS = {"govservice_service_show": {"$ref": "#/components/schemas/Service"}}

FAIR_USE = ("Fair use: the API answers each caller a limited number of requests a minute "
            "(per API token's user, else per address; see the getting-started page). Over it, "
            "`429 Too Many Requests` with `Retry-After`. Sysadmins and the harvesters are not limited.")


def openapi_document(actions: dict[str, Callable], server_url: str = "/", *,
                     ckan: dict[str, Callable] | None = None, examples: dict[str, Any] | None = None,
                     version: str = API_VERSION) -> dict[str, Any]:
    """The OpenAPI 3.1 document for our ``actions`` and the ``ckan`` ones ({name: action function}).

    ``examples``: ``service`` (a service as ``package_show`` returns it) and
    ``statistics_resource_id``, from the portal's own data; both optional."""
    examples = examples or {}
    paths = {f"/api/3/action/{name}": operation(name, func, result=RESULT_SCHEMAS.get(name))
             for name, func in sorted(actions.items())}
    paths.update(ckan_operations(ckan or {}, examples))
    service_schema = service_json_schema()
    if examples.get("service"):
        service_schema["examples"] = [_example(examples["service"])]
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "GovService API",
            "version": version,
            "summary": "Government service catalogues and performance statistics on CKAN",
            "description": (
                "CKAN's Action API as the platform serves it: the govservice actions, and the CKAN "
                "actions developers call for our data (services, departments, statistics). Every "
                "response is CKAN's envelope: `{help, success, result}` or, on failure, `{help, "
                "success: false, error: {__type, message | field: [errors]}}`; errors are keyed by "
                "field. A read action answers GET (query parameters) and POST (a JSON body). "
                f"Responses carry `{VERSION_HEADER}`: this document's `info.version`. Changes are "
                "listed in CHANGELOG.md; a field or parameter is deprecated for at least six months "
                "(two minor versions) before it is removed.\n\n" + FAIR_USE),
            "license": {"name": "Open data; the code under AGPL-3.0, as CKAN", "identifier": "AGPL-3.0-only"},
        },
        "servers": [{"url": server_url}],
        "tags": [{"name": "govservice", "description": "The platform's own actions: schema, services by code, KPIs"},
                 {"name": "ckan", "description": "CKAN's actions on the platform's data: search, services, "
                                                 "departments, the statistics table"}],
        "paths": paths,
        "components": {
            "securitySchemes": {"ckanApiToken": {
                "type": "apiKey", "in": "header", "name": "Authorization",
                "description": "A CKAN API token (your user page → API Tokens)"}},
            "schemas": {
                "Error": ERROR_SCHEMA,
                "Service": service_schema,
                "Department": department_json_schema(),
                "DepartmentSummary": {"type": "object", "properties": {
                    "id": {"type": "string"}, "name": {"type": "string"}, "title": {"type": "string"}},
                    "additionalProperties": True},
                "StatisticsRow": statistics_row_schema(),
                "SearchResult": _search_result(),
                "SearchFacet": {"type": "object", "properties": {
                    "title": {"type": "string"}, "items": {"type": "array", "items": {
                        "type": "object", "properties": {"name": {"type": "string"},
                                                         "display_name": {"type": "string"},
                                                         "count": {"type": "integer"}}}}}},
            },
            "responses": {"TooManyRequests": TOO_MANY},
        },
    }


def govservice_actions() -> dict[str, Callable]:
    from . import logic
    return {name: func for name, func in logic.get_actions().items() if name.startswith(PREFIX)}


def ckan_actions() -> dict[str, Callable]:
    """CKAN's own functions of ``CKAN_ACTIONS`` (their docstrings, not our chained wrappers)."""
    from ckan.logic.action import get
    from ckanext.datastore.logic import action as datastore
    return {name: getattr(get, name, None) or getattr(datastore, name) for name in CKAN_ACTIONS}
