"""Actions of the items family (issue 16): the basic item catalogue, the same
item compared across its implementers, and each department's standardisation
score; see logic/__init__.py for how they are registered. What they compute
is in ``item_compare`` and ``core.compare``."""
from __future__ import annotations

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ..core import rules, schema

# The read actions anyone may call.
ANYONE_MAY: tuple[str, ...] = ("govservice_item_compare", "govservice_item_list",
                               "govservice_standardisation")

MAX_ROWS = 100


def _text(data_dict: DataDict, name: str, required: bool = False) -> str | None:
    value = data_dict.get(name)
    if name in data_dict and value is None:   # JSON null: as the other actions, not taken for "absent"
        raise tk.ValidationError({name: ["must be text"]})
    if value in (None, ""):
        if required:
            raise tk.ValidationError({name: ["Missing value: give the basic item's code (基本编码)"]})
        return None
    if not isinstance(value, str):
        raise tk.ValidationError({name: ["must be text"]})
    return value.strip() or None


def _choice(data_dict: DataDict, name: str, vocabulary: str) -> str | None:
    value = _text(data_dict, name)
    allowed = [c["value"] for c in schema.choices(schema.vocabulary_fields()[vocabulary])]
    if value is not None and value not in allowed:
        raise tk.ValidationError({name: [f"{value!r} is not a {name}; choose from {', '.join(allowed)}"]})
    return value


def _whole(data_dict: DataDict, name: str, default: int, most: int | None = None) -> int:
    if name not in data_dict:
        return default
    value = data_dict[name]
    if value is None:
        raise tk.ValidationError({name: ["must be a whole number"]})
    try:
        number = rules.parse_natural_number(value)
    except ValueError as e:
        raise tk.ValidationError({name: [str(e)]})
    if number < 1 or (most is not None and number > most):
        raise tk.ValidationError({name: [f"must be between 1 and {most}" if most else "must be at least 1"]})
    return number


@tk.side_effect_free
def govservice_item_compare(context: Context, data_dict: DataDict) -> DataDict:
    """Every implementation of one basic item side by side, with its differences.

    Public and read-only. Each implementation (a service whose ``basic_code`` is
    the item's) is compared with the basic item's standard (documents, committed
    limit, in-person visits) and with the best implementer (documents to bring,
    committed limit, visits, fees, online stages, channels); the differences are
    sentences in Chinese and English, only where the implementation does worse.

    :param basic_code: the basic item's code (基本编码)
    :type basic_code: string
    :param level: only implementations by departments of this level
        (province, city, district, township), optional
    :type level: string, optional
    :param area: only implementations by departments of this area (as the
        department gives it, such as 临江区), optional
    :type area: string, optional

    :returns: ``{"basic_item": {"basic_code", "name", "title", "title_en",
        "status", "statutory_limit", "statutory_limit_unit", "standard_limit",
        "standard_limit_unit", "standard_visits", "standard_documents": [{"code",
        "name", "mandatory"}], "standard": {"limit", "limit_unit", "days",
        "visits", "documents"}, ...}, "filters": {"level", "area"},
        "implementations": [{"name", "title", "department": {"name", "title",
        "title_en", "level", "area"}, "implementation_code", "documents":
        [catalogue codes], "document_details", "documents_demanded",
        "documents_to_bring", "committed_limit", "committed_limit_unit",
        "committed_days", "in_person_visits", "fees", "is_free",
        "online_depth", "channel_types", "flags", "kpis": {"period_from",
        "period_to", "on_time_rate", "satisfaction_rate", "digital_take_up",
        "volume"} (those with figures), "matches_standard": {"documents",
        "limit", "visits"}, "differences": [{"field", "against": "standard" |
        "best", "text": {"zh_Hans_CN", "en"}}]}], "best": {field: {"value",
        "names"}}}``; implementations sorted by level, then area; an empty list
        when the item has none
    :rtype: dict
    :raises ObjectNotFound: no basic item has the code
    :raises ValidationError: no basic_code, or a level that is not one
    """
    from .. import item_compare
    tk.check_access("govservice_item_compare", context, data_dict)
    code = _text(data_dict, "basic_code", required=True)
    level = _choice(data_dict, "level", "level")
    area = _text(data_dict, "area")
    found = item_compare.compare(code, level, area)
    if found is None:
        raise tk.ObjectNotFound(f"no basic item has code {code}")
    return found


@tk.side_effect_free
def govservice_item_list(context: Context, data_dict: DataDict) -> DataDict:
    """The basic item catalogue (基本目录), a page at a time, with how many services implement each item.

    Public and read-only. Items are in order of their URL name (``item-`` and
    the code).

    :param q: words to find in the items, optional
    :type q: string, optional
    :param service_type: only items of this type (administrative_licence…), optional
    :type service_type: string, optional
    :param status: only items of this status (active, suspended, withdrawn), optional
    :type status: string, optional
    :param page: the page, from 1 (default 1), optional
    :type page: int, optional
    :param rows: items a page, 1 to 100 (default 20), optional
    :type rows: int, optional

    :returns: ``{"count", "page", "rows", "items": [{"name", "basic_code",
        "title", "title_en", "service_type", "set_by_level", "status",
        "standard_limit", "standard_limit_unit", "statutory_limit",
        "statutory_limit_unit", "standard_visits", "implementations"}]}``
    :rtype: dict
    :raises ValidationError: a service_type or status that is not one, a page
        or rows that is not a whole number in range
    """
    from .. import item_compare
    tk.check_access("govservice_item_list", context, data_dict)
    return item_compare.item_list(_text(data_dict, "q"), _choice(data_dict, "service_type", "service_type"),
                                  _choice(data_dict, "status", "status"),
                                  _whole(data_dict, "page", 1), _whole(data_dict, "rows", 20, MAX_ROWS))


@tk.side_effect_free
def govservice_standardisation(context: Context, data_dict: DataDict) -> DataDict:
    """Each department's standardisation score: how many of its implementations keep to their basic item's standard.

    Public and read-only. An implementation keeps to the standard when it asks
    for no mandatory document outside the standard's documents, commits no
    longer than the standard limit (the statutory limit when the item sets
    none) and asks for no more in-person visits than the standard. Services
    implementing no basic item, or one no longer in the catalogue, are not counted.

    :param department: one department's name (its URL name), optional
    :type department: string, optional

    :returns: ``{"definition": {"zh_Hans_CN", "en"}, "departments":
        [{"department", "title": {"zh_Hans_CN", "en"}, "score" (0 to 1, 3
        places), "matching", "implementations"}]}``, highest score first;
        departments implementing no basic item are left out
    :rtype: dict
    :raises ValidationError: a department that is not text
    """
    from .. import item_compare
    tk.check_access("govservice_standardisation", context, data_dict)
    department = _text(data_dict, "department")
    return {"definition": {lang: item_compare.definition(lang) for lang in schema.LANGUAGES},
            "departments": item_compare.standardisation(department)}
