"""An OpenAPI 3.1 description of the govservice actions, made from their docstrings.

* ``GET /api/govservice/openapi.json`` — the description (machine-readable)
* ``GET /api/govservice/docs`` — the same, as a plain HTML page of our own

Every public function ``govservice_*`` in logic/action.py is an operation, so
an action added there is documented here without touching this module. Its
docstring, in CKAN's Sphinx style, gives the summary (first line), the
description (the paragraphs before the fields), the parameters
(``:param name:`` with ``:type name: string, optional``), the result
(``:returns:``/``:rtype:``) and the errors (``:raises NotAuthorized:`` → 403,
``ObjectNotFound`` → 404, ``ValidationError`` → 409, as CKAN's API answers).
Read-only actions (``@side_effect_free``) get a GET with query parameters as
well as the POST with a JSON body that every action has.

``openapi_document`` and ``html_page`` are pure; the views serving them are
``views/openapi.py``.
"""
from __future__ import annotations

import inspect
import re
from typing import Any, Callable

from markupsafe import escape

OPENAPI_VERSION = "3.1.0"
PREFIX = "govservice_"

TYPES = {"string": "string", "str": "string", "int": "integer", "integer": "integer",
         "bool": "boolean", "boolean": "boolean", "list": "array", "dict": "object",
         "float": "number", "number": "number"}
ERRORS = {
    "NotAuthorized": (403, "Not authorised: the user may not call this action"),
    "ObjectNotFound": (404, "Not found"),
    "ValidationError": (409, "Validation error: a field-keyed dict says what is wrong"),
}

FIELD = re.compile(r"^:(param|type|returns|rtype|raises)\s*([^:]*):\s*(.*)$")


# ---------------------------------------------------------------- docstrings

def parse_docstring(doc: str) -> dict[str, Any]:
    """Split a CKAN-style action docstring into summary, description and fields."""
    lines = inspect.cleandoc(doc or "").splitlines()
    prose: list[str] = []
    params: dict[str, dict[str, str]] = {}
    returns = rtype = ""
    raises: dict[str, str] = {}
    current: list[Any] | None = None  # [kind, name] of the field being continued
    tail: list[str] = []  # prose after the fields
    for line in lines:
        m = FIELD.match(line.strip())
        if m:
            kind, name, text = m.group(1), m.group(2).strip(), m.group(3).strip()
            current = [kind, name]
            if kind == "param":
                params.setdefault(name, {})["description"] = text
            elif kind == "type":
                params.setdefault(name, {})["type"] = text
            elif kind == "returns":
                returns = text
            elif kind == "rtype":
                rtype = text
            elif kind == "raises":
                raises[name] = text
            continue
        if current is not None and line.startswith((" ", "\t")) and line.strip():
            kind, name = current
            more = " " + line.strip()
            if kind == "param":
                params[name]["description"] += more
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
    return {"summary": " ".join(summary.split()), "description": description,
            "params": params, "returns": returns, "rtype": rtype, "raises": raises}


def _param_schema(type_text: str) -> tuple[dict[str, Any], bool]:
    words = [w.strip().lower() for w in re.split(r"[,\s]+", type_text or "string") if w.strip()]
    required = "optional" not in words
    kind = next((TYPES[w] for w in words if w in TYPES), "string")
    return {"type": kind}, required


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


def operation(name: str, func: Callable) -> dict[str, dict[str, Any]]:
    """The path item for one action: POST always, GET too when it is read-only."""
    doc = parse_docstring(func.__doc__ or "")
    properties, required = {}, []
    for pname, p in doc["params"].items():
        s, is_required = _param_schema(p.get("type", ""))
        properties[pname] = {**s, "description": p.get("description", "")}
        if is_required:
            required.append(pname)
    result: dict[str, Any] = {"description": doc["returns"]}
    if doc["rtype"].strip().lower() in TYPES:
        result["type"] = TYPES[doc["rtype"].strip().lower()]
    responses: dict[str, Any] = {
        "200": {"description": "Success: the result is in ``result``",
                "content": {"application/json": {"schema": _envelope(result)}}},
        # CKAN answers a body it cannot decode with a bare JSON string, not its envelope.
        "400": {"description": "Bad request: the body is not a JSON object",
                "content": {"application/json": {"schema": {
                    "anyOf": [ERROR_SCHEMA, {"type": "string", "pattern": "^Bad request"}]}}}},
    }
    # Every action checks access, and CKAN answers a bad parameter with 409
    # even when the docstring names no error, so these three are always possible.
    for exc in ("NotAuthorized", "ObjectNotFound", "ValidationError"):
        status, text = ERRORS[exc]
        responses[str(status)] = {"description": doc["raises"].get(exc) or text,
                                  "content": {"application/json": {"schema": ERROR_SCHEMA}}}
    base = {"operationId": name, "summary": doc["summary"], "description": doc["description"],
            "tags": ["govservice"], "responses": responses}
    if doc["raises"].get("NotAuthorized"):
        base["security"] = [{"ckanApiToken": []}]
    out = {"post": {**base, "operationId": f"{name}_post",
                    "requestBody": {"required": False, "content": {"application/json": {"schema": {
                        "type": "object", "properties": properties, "required": required}}}}}}
    if getattr(func, "side_effect_free", False):
        out["get"] = {**base, "parameters": [
            {"name": pname, "in": "query", "required": pname in required,
             "description": s["description"], "schema": {"type": "string"}}
            for pname, s in properties.items()]}
    return out


def openapi_document(actions: dict[str, Callable], server_url: str = "/",
                     version: str = "0.1.0") -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``actions`` ({name: action function})."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "GovService API",
            "version": version,
            "summary": "Government service catalogues and performance statistics on CKAN",
            "description": (
                "The govservice actions of CKAN's Action API. Every response is CKAN's "
                "envelope: ``{help, success, result}`` or, on failure, ``{help, success: "
                "false, error: {__type, message | field: [errors]}}``. The rest of CKAN's "
                "API (package_search, package_show, datastore_search…) is documented at "
                "https://docs.ckan.org/en/2.11/api/."),
        },
        "servers": [{"url": server_url}],
        "paths": {f"/api/3/action/{name}": operation(name, func)
                  for name, func in sorted(actions.items())},
        "components": {"securitySchemes": {"ckanApiToken": {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": "A CKAN API token"}}},
    }


def govservice_actions() -> dict[str, Callable]:
    from .logic import action
    return {name: func for name, func in inspect.getmembers(action, inspect.isfunction)
            if name.startswith(PREFIX) and func.__module__ == action.__name__}


# ---------------------------------------------------------------- the page

def html_page(doc: dict[str, Any]) -> str:
    """A plain, self-contained HTML rendering of ``doc`` (no scripts, no CDN)."""
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{escape(doc['info']['title'])}</title>",
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
           "line-height:1.5}code,pre{background:#f4f4f4;padding:0 .2em}table{border-collapse:collapse}"
           "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}"
           "h2{border-top:1px solid #ccc;padding-top:1rem}</style></head><body>",
           f"<h1>{escape(doc['info']['title'])}</h1>",
           f"<p>{escape(doc['info']['description'])}</p>",
           '<p>Machine-readable: <a href="openapi.json">openapi.json</a> (OpenAPI '
           f"{escape(doc['openapi'])}).</p>", "<nav><ul>"]
    for path, item in doc["paths"].items():
        op = item["post"]
        out.append(f'<li><a href="#{escape(op["operationId"])}">{escape(path)}</a> — {escape(op["summary"])}</li>')
    out.append("</ul></nav>")
    for path, item in doc["paths"].items():
        op = item["post"]
        methods = " ".join(m.upper() for m in ("get", "post") if m in item)
        out.append(f'<h2 id="{escape(op["operationId"])}"><code>{methods} {escape(path)}</code></h2>')
        out.append(f"<p><strong>{escape(op['summary'])}</strong></p>")
        for para in op["description"].split("\n\n"):
            if para.strip():
                out.append(f"<p>{escape(' '.join(para.split()))}</p>")
        body = op["requestBody"]["content"]["application/json"]["schema"]
        if body["properties"]:
            out.append("<table><tr><th>parameter</th><th>type</th><th>required</th><th>meaning</th></tr>")
            for pname, s in body["properties"].items():
                out.append(f"<tr><td><code>{escape(pname)}</code></td><td>{escape(s['type'])}</td>"
                           f"<td>{'yes' if pname in body['required'] else 'no'}</td>"
                           f"<td>{escape(s['description'])}</td></tr>")
            out.append("</table>")
        else:
            out.append("<p>No parameters.</p>")
        result = op["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["result"]
        out.append(f"<p><strong>Returns:</strong> {escape(result.get('description', ''))}</p>")
        out.append("<ul>")
        for status, response in op["responses"].items():
            if status != "200":
                out.append(f"<li><code>{escape(status)}</code>: {escape(response['description'])}</li>")
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out)
