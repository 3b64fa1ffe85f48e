"""Reading the demo city (datasets/demo/city/) as the platform does: each
department's feed through the harvesters' own readers, its statistics rows, and
the rules of service.yaml and of the statistics loader written out in plain
Python, so a test can name each mistake the demo plants. Shared by unit/ and
integration/ (this folder is on sys.path through its conftest.py).
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ckan.lib.navl.dictization_functions import Invalid
from ckanext.govservice.core import kpis as stats, rules as service_rules, schema
from ckanext.govservice.logic import validators
from govharvest import formats
from govharvest.normalise import RecordError, normalise

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "datasets" / "demo"
CITY = DEMO / "city"


def service_problems(record: dict, fields: list[dict] | None = None) -> list[tuple[str, str]]:
    """(field, reason) for each way the record breaks service.yaml's rules (or those of
    another schema's ``fields``: a basic item's, a document's)."""
    problems = []

    def choice(name, value, f):
        allowed = {c["value"] for c in schema.choices(f)}
        if value not in allowed:
            problems.append((name, f"{value!r} is not a known {schema.label(f, 'en').lower()} "
                                   f"(expected one of: {', '.join(c['value'] for c in schema.choices(f))})"))

    for f in fields or schema.service_fields():
        name = f["field_name"]
        value = record.get(name)
        if f.get("required") and name != "owner_org" and value in (None, "", []):
            problems.append((name, "Missing value"))
            continue
        if value in (None, "", []):
            continue
        if schema.choices(f) and f.get("preset") == "multiple_checkbox":
            for v in value:
                choice(name, v, f)
        elif schema.choices(f):
            choice(name, value, f)
        if "govservice_natural_number" in f.get("validators", ""):
            try:
                service_rules.parse_natural_number(value)
            except ValueError as e:
                problems.append((name, str(e)))
        if "govservice_web_url" in f.get("validators", ""):
            try:
                validators.govservice_web_url(value)
            except Invalid as e:
                problems.append((name, e.error))
        if "govservice_iso_date" in f.get("validators", ""):
            try:
                validators.govservice_iso_date(value)
            except Invalid as e:
                problems.append((name, e.error))
        if name == "service_code" and not validators.SERVICE_CODE.match(value):
            problems.append((name, "not a service code"))
        for i, row in enumerate(value if f.get("repeating_subfields") else []):
            for sub in f["repeating_subfields"]:
                v = row.get(sub["field_name"])
                key = f"{name}/{i}/{sub['field_name']}"
                if sub.get("required") and v in (None, ""):
                    problems.append((key, "Missing value"))
                elif v not in (None, "") and schema.choices(sub) and sub["field_name"] != "mandatory":
                    choice(key, v, sub)
                if v not in (None, "") and sub["field_name"] == "url":
                    try:
                        validators.govservice_web_url(v)
                    except Invalid as e:
                        problems.append((key, e.error))
                if v not in (None, "") and sub["field_name"] == "email":
                    try:
                        validators.govservice_email(v)
                    except Invalid as e:
                        problems.append((key, e.error))
                if v not in (None, "") and "govservice_natural_number" in sub.get("validators", ""):
                    try:
                        service_rules.parse_natural_number(v)
                    except ValueError as e:
                        problems.append((key, str(e)))
                if v not in (None, "") and sub["field_name"] == "amount":
                    service_rules.parse_money(v)
                if v not in (None, "") and sub["field_name"] == "mandatory":
                    service_rules.parse_boolean(v)
    if any(name in ("statutory_limit", "committed_limit") for name, _ in problems):
        return problems
    s_unit = record.get("statutory_limit_unit") or "working_days"
    c_unit = record.get("committed_limit_unit") or "working_days"
    statutory, committed = (None if record.get(n) in (None, "") else service_rules.parse_natural_number(record[n])
                            for n in ("statutory_limit", "committed_limit"))
    if service_rules.committed_exceeds_statutory(statutory, s_unit, committed, c_unit):
        problems.append(("committed_limit",
                         f"the committed time limit ({record['committed_limit']} {c_unit.replace('_', ' ')}) is "
                         f"longer than the statutory limit ({record['statutory_limit']} "
                         f"{s_unit.replace('_', ' ')}); a department may only commit to the same or less"))
    for i, field, reason in service_rules.channel_problems(record.get("channels") or []):
        problems.append((f"channels/{i}/{field}", reason))
    if record.get("valid_from") and record.get("valid_to") and record["valid_to"] < record["valid_from"]:
        problems.append(("valid_to", "before valid from"))
    return problems


def read_catalogues(office: dict) -> tuple[list[dict], list[dict]]:
    """The basic items and the documents of the catalogue publisher's two sources, read
    as the harvesters read them (the source kind's reader, then normalise)."""
    from govharvest.catalogues import BASIC_ITEMS, DOCUMENTS
    out = []
    for catalogue in (BASIC_ITEMS, DOCUMENTS):
        spec = office[catalogue.kind]
        path = CITY / spec["file"]
        if spec["format"] == "csv":
            raws = formats.read_csv(path, catalogue.dataset_type)
        else:
            raws = formats.read_json_feed(path, catalogue.feed_key)
        out.append([normalise(raw, catalogue=catalogue) for _where, raw in raws])
    for doc in out[1]:   # a CSV cell of names, as CKAN's validation stores it (a list)
        doc["aliases"] = json.loads(validators.govservice_text_list(doc.get("aliases") or ""))
    return out[0], out[1]


def _limit_text(value, unit: str) -> str:
    return f"{value} {unit.replace('_', ' ')}"


def network_problems(feeds: dict[str, list[dict]], basic_items: list[dict], documents: list[dict],
                     reasons: dict[str, str], department_titles: dict[str, str]) -> dict[tuple[str, str, str], str]:
    """{(department, service code, field): reason} for each service the network refuses:
    a basic code the basic catalogue does not have, a statutory limit that contradicts its
    basic item's (compared in calendar days), an implementation code an earlier service
    already has (departments in feed order), a document code the document catalogue does
    not have. ``reasons`` are the platform's wordings (generate.NETWORK_REASONS)."""
    items = {b["basic_code"]: b for b in basic_items}
    codes = {doc["document_code"] for doc in documents}
    used: dict[str, tuple[str, str]] = {}
    found = {}
    for name, records in feeds.items():
        for r in records:
            key = (name, r["service_code"])
            basic = items.get(r.get("basic_code")) if r.get("basic_code") else None
            if r.get("basic_code") and basic is None:
                found[key + ("basic_code",)] = reasons["unknown_basic_code"].format(code=r["basic_code"])
            elif basic and r.get("statutory_limit") not in (None, "") and basic.get("statutory_limit") not in (None, ""):
                mine = service_rules.calendar_days(int(r["statutory_limit"]), r.get("statutory_limit_unit") or "working_days")
                theirs = service_rules.calendar_days(int(basic["statutory_limit"]),
                                                     basic.get("statutory_limit_unit") or "working_days")
                if mine != theirs:
                    found[key + ("statutory_limit",)] = reasons["statutory_contradicts"].format(
                        limit=_limit_text(r["statutory_limit"], r.get("statutory_limit_unit") or "working_days"),
                        code=r["basic_code"],
                        basic=_limit_text(basic["statutory_limit"], basic.get("statutory_limit_unit") or "working_days"))
            code = r.get("implementation_code")
            if code and code in used:
                other_dept, other, title = used[code]
                found[key + ("implementation_code",)] = reasons["implementation_code_used"].format(
                    code=code, title=title, service=other, department=department_titles[other_dept])
            elif code:
                used[code] = (name, service_name(name, r["service_code"]), r["title"])
            for i, doc in enumerate(r.get("documents") or []):
                if doc.get("code") and doc["code"] not in codes:
                    found[key + (f"documents/{i}/code",)] = reasons["unknown_document_code"].format(code=doc["code"])
    return found


def service_name(department: str, service_code: str) -> str:
    """The URL name the platform makes for a service: its department and code."""
    import re
    return re.sub(r"[^a-z0-9_-]+", "-", f"{department}-{service_code}".lower()).strip("-")


def read_feed(d: dict) -> list[dict]:
    """The department's services as the harvest pipeline sees them: its format's
    reader, its mapping, normalise, then the source's defaults."""
    fmt = d["services"]["format"]
    reader = formats.READERS["json-file" if fmt == "json" else fmt]
    mapping = getattr(reader, "mapping", {})
    defaults = {k: v for k, v in normalise({**d["services"].get("defaults", {}), "service_code": "-"}).items()
                if k != "service_code"}
    records = []
    for _where, raw in reader(CITY / d["services"]["file"]):
        try:
            record = normalise(raw, mapping)
        except RecordError as e:
            records.append({"service_code": raw.get("service_code"), "_error": (e.field, e.reason)})
            continue
        for name, value in defaults.items():
            if record.get(name) in (None, "", []):
                record[name] = value
        records.append(record)
    return records


def read_statistics(d: dict) -> list[tuple[int, dict]]:
    path = CITY / d["statistics"]["file"]
    if d["statistics"]["format"] == "json":
        return list(enumerate(json.loads(path.read_text(encoding="utf-8")), 2))
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8")))
    columns, unknown = stats.map_headers(next(reader))
    assert unknown == []
    return [(i, {c: v for c, v in zip(columns, row) if v != ""}) for i, row in enumerate(reader, 2)]


def row_problems(row: dict, department: str, codes: set[str]) -> list[tuple[str, str]]:
    n = {c: int(row[c]) for c in stats.count_columns() if row.get(c) not in (None, "")}
    problems = []
    if row.get("department", department) != department:
        problems.append(("department", f"is not {department}, the department this file is loaded for"))
    if row["service_code"] not in codes:
        problems.append(("service_code", f"is not a service of department {department} in the catalogue"))
    for c, v in n.items():
        if v < 0:
            problems.append((c, "is negative; counts cannot be below zero"))
    for part, whole, what in (("completed_on_time", "completed", "applications completed"),
                              ("completed_online", "completed", "applications completed"),
                              ("bad_reviews_rectified", "bad_reviews", "bad reviews")):
        if part in n and n[part] > n[whole]:
            problems.append((part, f"is {n[part]}, more than the {what} ({n[whole]})"))
    if "ratings" in n:
        levels = sum(n[c["name"]] for c in stats.rating_columns())
        if n["ratings"] != levels:
            problems.append(("ratings", f"is {n['ratings']} but the five rating levels add up to {levels}"))
        bad = sum(n[c["name"]] for c in stats.rating_columns() if c.get("bad_review"))
        if n["bad_reviews"] != bad:
            problems.append(("bad_reviews", "does not add up"))
    return problems
