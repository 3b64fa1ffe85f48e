"""Validators of the `service` dataset type, registered for scheming by name.

Each turns a bad value into an error that says, in the publisher's words, what
is wrong and what was given. The rules themselves are in ``core.rules``.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.lib.navl.dictization_functions import Invalid, missing
from ckan.types import Context, FlattenDataDict, FlattenErrorDict, FlattenKey

from ckanext.scheming.validation import scheming_multiple_choice, scheming_validator

from ..core import due, rules, schema as service_schema

SERVICE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")


def _invalid_from(parse, value: Any) -> Any:
    try:
        return parse(value)
    except ValueError as e:
        raise Invalid(str(e)) from None


def govservice_code(value: Any) -> str:
    # An optional code sent empty (as some feeds send every column) is no code;
    # a required one meets not_empty first.
    if value == "":
        return value
    if not SERVICE_CODE.match(value):
        raise Invalid(f"may only contain letters, digits, '.', '_' and '-', "
                      f"and be at most 64 characters (got {value!r})")
    return value


def govservice_natural_number(value: Any) -> Any:
    if value is missing or value is None or value == "":
        return value
    return _invalid_from(rules.parse_natural_number, value)


def govservice_money(value: Any) -> Any:
    if value is missing or value is None:
        return value
    return _invalid_from(rules.parse_money, value)


def govservice_boolean(value: Any) -> Any:
    if value is missing or value is None or value == "":
        return value
    return _invalid_from(service_schema.parse_boolean, value)


def govservice_number(value: Any) -> Any:
    """Output: a number stored as text in CKAN's extras comes back as a number."""
    if value in (None, "", missing):
        return None
    return float(value)


def govservice_web_url(value: Any) -> Any:
    if value is missing or not value:
        return value
    value = str(value).strip()
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", value, re.IGNORECASE):
        raise Invalid(f"must be a web address starting with http:// or https:// (got {value!r})")
    # Characters no URI may hold as they are (RFC 3987); RDF could not publish the address.
    unsafe = sorted(set(re.findall(r'[<>"{}|\\^`]', value)))
    if unsafe:
        raise Invalid(f"must be a web address without {' '.join(unsafe)} (write them %-encoded; "
                      f"got {value!r})")
    return value


EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


def govservice_email(value: Any) -> Any:
    if value is missing or not value:
        return value
    value = str(value).strip()
    if not EMAIL.match(value):
        raise Invalid(f"must be an email address such as service@example.gov.cn (got {value!r})")
    return value


def govservice_iso_date(value: Any) -> Any:
    if value is missing or not value:
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise Invalid(f"must be a date written YYYY-MM-DD (got {value!r})") from None


def _unknown_choice(field: dict, value: Any) -> Invalid:
    allowed = ", ".join(c["value"] for c in service_schema.choices(field))
    return Invalid(f"{value!r} is not a known {service_schema.label(field, 'en').lower()} "
                   f"(expected one of: {allowed})")


@scheming_validator
def govservice_choice(field: dict, schema: dict):
    """One value from the field's vocabulary; the error names the value and the choices."""
    allowed = {c["value"] for c in service_schema.choices(field)}

    def validator(value: Any) -> Any:
        if value is missing or value is None or value == "":
            return value
        if value not in allowed:
            raise _unknown_choice(field, value)
        return value
    return validator


@scheming_validator
def govservice_choices(field: dict, schema: dict):
    """Zero or more values from the field's vocabulary, stored as scheming stores them."""
    allowed = {c["value"] for c in service_schema.choices(field)}
    store = scheming_multiple_choice(field, schema)

    def validator(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict,
                  context: Context) -> None:
        value = data.get(key, missing)
        values = [value] if isinstance(value, str) else value
        if isinstance(values, list):
            unknown = [v for v in values if v not in allowed]
            if unknown:
                errors[key].append(_unknown_choice(
                    field, unknown[0] if len(unknown) == 1 else ", ".join(map(str, unknown))).error)
                return
        store(key, data, errors, context)
    return validator


# ---------------------------------------------------------------- whole-record rules


def _value(data: FlattenDataDict, name: str) -> Any:
    v = data.get((name,), missing)
    return None if v is missing or v == "" else v


def _rows(data: FlattenDataDict, field: str) -> list[dict[str, Any]]:
    """A repeating subfield (channels, fees, …) as a list of dicts, from the flat data."""
    rows: dict[int, dict[str, Any]] = {}
    for key, value in data.items():
        if len(key) == 3 and key[0] == field and isinstance(key[1], int):
            rows.setdefault(key[1], {})[key[2]] = value
    return [rows[i] for i in sorted(rows)]


def _list(value: Any) -> list[str]:
    if value in (None, missing, ""):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = [value]
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _has_errors(errors: FlattenErrorDict, *names: str) -> bool:
    return any(errors.get((n,)) for n in names)


def _set_derived(data: FlattenDataDict, name: str, value: Any) -> None:
    """Store a computed field, as scheming stores any other: in the extras."""
    data[(name,)] = value
    text = "" if value is None else (json.dumps(value) if isinstance(value, bool) else str(value))
    for key in [k for k in data if len(k) == 3 and k[0] == "extras" and k[2] == "key"]:
        if data[key] == name:
            data[("extras", key[1], "value")] = text
            return
    indexes = [k[1] for k in data if len(k) > 1 and k[0] == "extras"]
    n = max(indexes) + 1 if indexes else 0
    data[("extras", n, "key")] = name
    data[("extras", n, "value")] = text


def duplicate_code_query(code: str, owner_org: str, own_id: str | None) -> Any:
    """The live services of this department, other than ``own_id``, that have
    this code: a lookup in migration f13d0a1b2c3d's index (department, code)."""
    # CKAN 2.12 keeps extras in a JSONB column on the package row.
    query = (
        model.Session.query(model.Package.name)
        .filter(model.Package.extras["service_code"].astext == code,
                model.Package.owner_org == owner_org,
                model.Package.type == "service",
                model.Package.state != "deleted")
    )
    return query.filter(model.Package.id != own_id) if own_id else query


def _duplicate_code_owner(code: str, owner_org: str, own_id: str | None) -> str | None:
    """The name of another live service of this department that has this code."""
    row = duplicate_code_query(code, owner_org, own_id).first()
    return row[0] if row else None


def govservice_service_before(key: FlattenKey, data: FlattenDataDict,
                              errors: FlattenErrorDict, context: Context) -> None:
    """Before field validation: refuse text that cannot be published (see
    ``core.rules.unpublishable_character``), naming the field; give a service
    without a URL name one made from its department and code, so re-sending the
    same record finds the same dataset."""
    for field_key, value in list(data.items()):
        if isinstance(value, str) and (char := rules.unpublishable_character(value)):
            errors.setdefault(field_key, []).append(
                f"contains a control character ({char}) that cannot be published; remove it")
    if _value(data, "name") or not _value(data, "service_code") or not _value(data, "owner_org"):
        return
    org = model.Group.get(str(_value(data, "owner_org")))
    if org is None:
        return
    code = re.sub(r"[^a-z0-9_\-]+", "-", str(_value(data, "service_code")).lower()).strip("-")
    data[("name",)] = f"{org.name}-{code}"[:100]


def _units(unit: str | None) -> str:
    return (unit or "working_days").replace("_", " ")


def _own_id(data: FlattenDataDict, context: Context) -> str | None:
    package = context.get("package")
    return _value(data, "id") or (package.id if package else None)


def _network_rules(data: FlattenDataDict, errors: FlattenErrorDict, context: Context) -> None:
    """A service's place in the network (issue 16): the basic item it implements
    exists and its statutory limit is the item's (inherited when the service
    gives none); its implementation code is its own on the whole platform; the
    document codes it lists are in the document catalogue. A withdrawn basic
    item is accepted: the service is flagged (network.of), not refused."""
    from .. import network

    def error(field_key: tuple, message: str) -> None:
        errors.setdefault(field_key, []).append(message)

    code = _value(data, "basic_code")
    if code and not _has_errors(errors, "basic_code"):
        item = network.basic_item(code)
        if item is None:
            error(("basic_code",),
                  f"basic code {code} is not in the basic item catalogue (基本目录); ask the "
                  "catalogue's publisher to add it, or correct the code")
        elif not _has_errors(errors, "statutory_limit", "statutory_limit_unit"):
            limit = _value(data, "statutory_limit")
            unit = _value(data, "statutory_limit_unit") or "working_days"
            if network.statutory_contradiction(limit, unit, item):
                error(("statutory_limit",),
                      f"the statutory time limit ({limit} {_units(unit)}) contradicts the basic "
                      f"item {code}'s ({item['statutory_limit']} {_units(item['statutory_limit_unit'])}); "
                      "the law sets one limit for every implementation: give the item's, or none")
            elif limit is None and item["statutory_limit"] is not None:
                _set_derived(data, "statutory_limit", item["statutory_limit"])
                _set_derived(data, "statutory_limit_unit", item["statutory_limit_unit"])

    implementation = _value(data, "implementation_code")
    if implementation and not _has_errors(errors, "implementation_code"):
        network.lock_implementation_code(implementation)
        other = network.implementation_code_owner(implementation, _own_id(data, context))
        if other:
            error(("implementation_code",),
                  f"implementation code {implementation} is already used by {other['title']} "
                  f"({other['name']}) of {other['department']}; an implementation code is "
                  "unique on the whole platform")

    listed = [(i, row.get("code")) for i, row in enumerate(_rows(data, "documents"))
              if row.get("code") not in (None, "", missing)]
    unchecked = [(i, c) for i, c in listed if not errors.get(("documents", i, "code"))]
    known = network.document_codes_known(c for _, c in unchecked)
    for i, document_code in unchecked:
        if document_code not in known:
            error(("documents", i, "code"),
                  f"document code {document_code} is not in the document catalogue (材料目录); "
                  "correct the code, or leave it empty to match the document by its name")


def govservice_service_rules(key: FlattenKey, data: FlattenDataDict,
                             errors: FlattenErrorDict, context: Context) -> None:
    """After field validation: rules across fields, then the derived fields."""
    def error(field_key: tuple, message: str) -> None:
        errors.setdefault(field_key, []).append(message)

    _network_rules(data, errors, context)

    statutory, committed = _value(data, "statutory_limit"), _value(data, "committed_limit")
    s_unit = _value(data, "statutory_limit_unit") or "working_days"
    c_unit = _value(data, "committed_limit_unit") or "working_days"
    limits_ok = not _has_errors(errors, "statutory_limit", "committed_limit",
                                "statutory_limit_unit", "committed_limit_unit")
    if limits_ok and rules.committed_exceeds_statutory(statutory, s_unit, committed, c_unit):
        error(("committed_limit",),
              f"the committed time limit ({committed} {c_unit.replace('_', ' ')}) is longer than "
              f"the statutory limit ({statutory} {s_unit.replace('_', ' ')}); "
              "a department may only commit to the same or less")

    valid_from, valid_to = _value(data, "valid_from"), _value(data, "valid_to")
    if valid_from and valid_to and not _has_errors(errors, "valid_from", "valid_to") \
            and valid_to < valid_from:
        error(("valid_to",), f"valid to ({valid_to}) is before valid from ({valid_from})")

    channels = _rows(data, "channels")
    for i, field, reason in rules.channel_problems(channels):
        error(("channels", i, field), reason)
    for i, field, reason in due.reminder_problems(_rows(data, "reminders"), _value(data, "output_validity")):
        error(("reminders", i, field), reason)

    code, owner_org = _value(data, "service_code"), _value(data, "owner_org")
    if code and owner_org and not _has_errors(errors, "service_code", "owner_org"):
        package = context.get("package")
        own_id = _value(data, "id") or (package.id if package else None)
        other = _duplicate_code_owner(code, owner_org, own_id)
        if other:
            error(("service_code",),
                  f"service code {code} is already used by {other} in this department")

    if limits_ok:
        _set_derived(data, "processing_time", rules.iso_duration(committed, c_unit))
        _set_derived(data, "committed_days", rules.calendar_days(committed, c_unit))
        _set_derived(data, "time_limit_compression",
                     rules.time_limit_compression(statutory, s_unit, committed, c_unit))
    if not any(k[0] == "fees" for k, v in errors.items() if v):
        _set_derived(data, "is_free", rules.is_free(_rows(data, "fees")))
    if not _has_errors(errors, "online_depth", "in_person_visits"):
        _set_derived(data, "fully_online", rules.fully_online(
            _list(_value(data, "online_depth")), _value(data, "in_person_visits")))


# ---------------------------------------------------------------- the network's catalogues
# A basic item (basic_item.yaml) and a document (document.yaml) are each known by
# a code unique on the platform; their URL name is made from it.

CATALOGUE_CODE_FIELD = {"basic_item": "basic_code", "document": "document_code"}
CATALOGUE_NAME_PREFIX = {"basic_item": "item", "document": "document"}


def govservice_text_list(value: Any) -> Any:
    """A list of short texts (a document's aliases), given as a list, JSON, or
    one text with a name per line (or separated by 、 ; ；); stored as JSON."""
    if value is missing or value is None or value == "":
        return json.dumps([])
    if isinstance(value, str):
        text = value.strip()
        try:
            value = json.loads(text) if text.startswith("[") else re.split(r"[\n、;；]+", text)
        except ValueError:
            raise Invalid(f"must be a list of names (got {text[:80]!r})") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid(f"must be a list of names (got {value!r:.80})")
    names = [v.strip() for v in value if v.strip()]
    return json.dumps(list(dict.fromkeys(names)), ensure_ascii=False)


def govservice_text_list_output(value: Any) -> list[str]:
    if isinstance(value, list):
        return value
    try:
        return json.loads(value) if value else []
    except ValueError:
        return [value]


def govservice_catalogue_entry_before(key: FlattenKey, data: FlattenDataDict,
                                      errors: FlattenErrorDict, context: Context) -> None:
    """A basic item or document without a URL name gets one made from its code
    (``item-<code>``, ``document-<code>``), so re-sending it finds the same dataset."""
    dataset_type = _value(data, "type")
    code = _value(data, CATALOGUE_CODE_FIELD.get(dataset_type, ""))
    if _value(data, "name") or not code:
        return
    slug = re.sub(r"[^a-z0-9_\-]+", "-", str(code).lower()).strip("-")
    data[("name",)] = f"{CATALOGUE_NAME_PREFIX[dataset_type]}-{slug}"[:100]


def govservice_catalogue_entry_rules(key: FlattenKey, data: FlattenDataDict,
                                     errors: FlattenErrorDict, context: Context) -> None:
    """A basic item's or a document's code is unique among the live entries of its catalogue."""
    dataset_type = _value(data, "type")
    field = CATALOGUE_CODE_FIELD.get(dataset_type)
    code = _value(data, field) if field else None
    if not code or _has_errors(errors, field):
        return
    package = context.get("package")
    own_id = _value(data, "id") or (package.id if package else None)
    query = (model.Session.query(model.Package.name)
             .filter(model.Package.extras[field].astext == code,
                     model.Package.type == dataset_type,
                     model.Package.state != "deleted"))
    if own_id:
        query = query.filter(model.Package.id != own_id)
    row = query.first()
    if row:
        errors.setdefault((field,), []).append(
            f"{field.replace('_', ' ')} {code} is already used by {row[0]}")
    if dataset_type == "basic_item" and package is not None:
        from .. import network
        old_code = (package.extras or {}).get("basic_code")
        if old_code and old_code != code and package.state != "deleted":
            count = len(network.implementations(old_code))
            if count:
                errors.setdefault((field,), []).append(
                    f"basic item {old_code} cannot take the code {code}: {count} live "
                    f"service{'s' if count != 1 else ''} implement{'' if count != 1 else 's'} it "
                    "by its code; publish the new item and withdraw this one (status: withdrawn)")
                return
        was = (package.extras or {}).get("status") or "active"
        if was != (_value(data, "status") or "active"):
            # its implementations' flags follow: reindexed after the commit (network.py)
            network.status_changed(code)


# ---------------------------------------------------------------- service centres (issue 17)
# A centre (service_centre.yaml) is known by its centre_code, unique on the
# platform, and reached at centre-<code>; its hours and counters are read by
# core/centres.py.
CATALOGUE_CODE_FIELD["service_centre"] = "centre_code"
CATALOGUE_NAME_PREFIX["service_centre"] = "centre"


def govservice_opening_hours(value: Any) -> Any:
    """Opening hours in the platform's compact form, written back in one form."""
    if value is missing or value is None or value == "":
        return value
    from ..core import centres
    return _invalid_from(centres.normalise_hours, value)


def govservice_code_list(value: Any) -> Any:
    """Implementation codes (实施编码) a counter handles: a list, or text separated
    by spaces, commas or semicolons; stored as JSON."""
    from ..core import centres
    if value is missing or value is None or value == "":
        return json.dumps([])
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            value = json.loads(value)
        except ValueError:
            raise Invalid(f"must be a list of implementation codes (got {value[:80]!r})") from None
    codes = centres.counter_services({"implementation_codes": value})
    bad = [c for c in codes if not SERVICE_CODE.match(c)]
    if bad:
        raise Invalid(f"{bad[0]!r} is not an implementation code (letters, digits, '.', '_' and '-')")
    return json.dumps(list(dict.fromkeys(codes)))


def govservice_centre_rules(key: FlattenKey, data: FlattenDataDict,
                            errors: FlattenErrorDict, context: Context) -> None:
    """A centre's coordinates come both or neither, each in range; "24 hours"
    is derived from its opening hours."""
    from ..core import centres
    for name, reason in centres.check_coordinates(_value(data, "latitude"), _value(data, "longitude")).items():
        errors.setdefault((name,), []).append(reason)
    if not _has_errors(errors, "opening_hours"):
        _set_derived(data, "open_all_day", centres.open_all_day(_value(data, "opening_hours")))
    if not any(errors.values()):       # its services' index follows, after the commit
        from .. import centres as service_centres
        package = context.get("package")
        for code in {_value(data, "centre_code"), ((package.extras or {}).get("centre_code") if package else None)}:
            service_centres.changed(code)
