"""Template helpers for the citizen pages (h.govservice_*).

Field labels and vocabulary words come from the service schema in the page's
language; the few words that are no field's label (section headings, "Free",
visit counts) are in WORDS below.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any, Callable

from markupsafe import Markup

import ckan.model as model
import ckan.plugins.toolkit as tk

from . import schema

__all__ = [
    "govservice_lang", "govservice_label", "govservice_sublabel", "govservice_choice_label",
    "govservice_text", "govservice_title", "govservice_word", "govservice_time_limit",
    "govservice_days", "govservice_visits", "govservice_money", "govservice_percent",
    "govservice_safe_url", "govservice_department", "govservice_facet_labeler",
    "govservice_is_true", "govservice_service_sorting", "govservice_jsonld",
]

# The facets of the service search page, in the order people narrow down by.
SERVICE_FACETS = ("owner_org", "themes", "life_events", "audience", "channels",
                  "online_depth", "in_person_visits", "is_free", "status")

WORDS = {
    "colon": {"zh_Hans_CN": "：", "en": ": "},
    "at_a_glance": {"zh_Hans_CN": "办事指南一览", "en": "At a glance"},
    "where_how": {"zh_Hans_CN": "在哪办、怎么办", "en": "Where and how to apply"},
    "how_long": {"zh_Hans_CN": "办多久", "en": "How long"},
    "how_much": {"zh_Hans_CN": "收费标准", "en": "How much"},
    "apply_online": {"zh_Hans_CN": "在线办理", "en": "Apply online"},
    "free": {"zh_Hans_CN": "免费", "en": "Free"},
    "paid": {"zh_Hans_CN": "收费", "en": "Paid"},
    "on_the_spot": {"zh_Hans_CN": "即办", "en": "on the spot"},
    "visits_0": {"zh_Hans_CN": "零跑动", "en": "no visit"},
    "visits_1": {"zh_Hans_CN": "最多跑一次", "en": "at most one visit"},
    "visits_n": {"zh_Hans_CN": "最多跑 {n} 次", "en": "at most {n} visits"},
    "compression": {"zh_Hans_CN": "比法定时限压缩 {p}", "en": "{p} shorter than the statutory limit"},
    "calendar_days": {"zh_Hans_CN": "{d} 个自然日", "en": "{d} calendar days"},
    "suspended": {"zh_Hans_CN": "该事项已暂停办理。", "en": "This service is suspended."},
    "withdrawn": {"zh_Hans_CN": "该事项已撤销，不再受理。", "en": "This service has been withdrawn and takes no applications."},
    "performance": {"zh_Hans_CN": "办理绩效", "en": "Performance"},
    "performance_pending": {"zh_Hans_CN": "办件量、按时办结率和好差评将在此显示。",
                            "en": "Applications, on-time rate and ratings will be shown here."},
    "department": {"zh_Hans_CN": "办理部门", "en": "Department"},
    "contact": {"zh_Hans_CN": "咨询与投诉", "en": "Contact and complaints"},
    "copies": {"zh_Hans_CN": "{n} 份", "en": "{n} copies"},
    "services": {"zh_Hans_CN": "事项", "en": "Services"},
    "no_services": {"zh_Hans_CN": "暂无事项。", "en": "No services yet."},
    "browse": {"zh_Hans_CN": "按主题和一件事浏览", "en": "Browse by theme and life event"},
    "combined_documents": {"zh_Hans_CN": "合并后的申请材料", "en": "All the documents, combined"},
    "needed_by": {"zh_Hans_CN": "用于", "en": "Needed for"},
    "total_visits": {"zh_Hans_CN": "合计到现场次数", "en": "In-person visits in all"},
    "total_time": {"zh_Hans_CN": "承诺时限合计", "en": "Committed time in all"},
    "longest_time": {"zh_Hans_CN": "最长承诺时限", "en": "Longest committed time"},
    "left_out": {"zh_Hans_CN": "以下事项暂停或已撤销，未计入：", "en": "Suspended or withdrawn, not counted:"},
    "all_services": {"zh_Hans_CN": "全部事项", "en": "All services"},
    "sort_committed": {"zh_Hans_CN": "承诺时限从短到长", "en": "Committed time, shortest first"},
    "sort_title": {"zh_Hans_CN": "名称", "en": "Name"},
    "sort_relevance": {"zh_Hans_CN": "相关度", "en": "Relevance"},
    "sort_modified": {"zh_Hans_CN": "最近更新", "en": "Last modified"},
}


def govservice_lang() -> str:
    """The page's language as the schema spells it: "en" or "zh_Hans_CN"."""
    return "en" if (tk.h.lang() or "").startswith("en") else "zh_Hans_CN"


def _plain(text: str) -> str:
    # "Who may apply (Chinese)", "事项说明（英文）": a page shows one language, so
    # the form's language marker is noise there.
    return re.sub(r"\s*[（(](Chinese|English|英文|中文)[)）]$", "", text)


def govservice_label(field_name: str) -> str:
    return _plain(schema.label(schema.field(field_name), govservice_lang()))


def govservice_sublabel(field_name: str, sub_name: str) -> str:
    return _plain(schema.label(_subfield(field_name, sub_name), govservice_lang()))


def _subfield(field_name: str, sub_name: str) -> dict[str, Any]:
    for sub in schema.field(field_name).get("repeating_subfields", []):
        if sub["field_name"] == sub_name:
            return sub
    raise KeyError(f"{field_name}.{sub_name}")


def govservice_choice_label(field_name: str, value: Any, sub_name: str | None = None) -> str:
    f = _subfield(field_name, sub_name) if sub_name else schema.field(field_name)
    if isinstance(value, bool):
        value = "true" if value else "false"
    return schema.choice_label(f, value, govservice_lang())


def govservice_text(record: dict[str, Any], field_name: str) -> str:
    """A text in the page's language: `<field>_en` in English when there is one."""
    if govservice_lang() == "en" and record.get(f"{field_name}_en"):
        return record[f"{field_name}_en"]
    return record.get(field_name) or ""


def govservice_title(record: dict[str, Any]) -> str:
    return govservice_text(record, "title") or record.get("name") or ""


def govservice_word(key: str, **values: Any) -> str:
    return WORDS[key][govservice_lang()].format(**values)


def govservice_time_limit(value: Any, unit: str | None) -> str:
    """"3 工作日" / "3 working days"; 0 is "即办" / "on the spot"."""
    if value in (None, ""):
        return ""
    if int(value) == 0:
        return govservice_word("on_the_spot")
    unit_label = schema.choice_label(schema.field("committed_limit_unit"), unit or "working_days",
                                     govservice_lang())
    return f"{value} {unit_label}"


def govservice_days(days: Any) -> str:
    if days in (None, ""):
        return ""
    d = round(float(days), 1)
    return govservice_word("calendar_days", d=int(d) if d == int(d) else d)


def govservice_visits(n: Any) -> str:
    if n in (None, ""):
        return ""
    n = int(n)
    return govservice_word("visits_0" if n == 0 else "visits_1" if n == 1 else "visits_n", n=n)


def govservice_money(amount: Any, currency: str | None = "CNY") -> str:
    try:
        text = f"{float(amount):,.2f}"
    except (TypeError, ValueError):
        text = str(amount)
    if (currency or "CNY") == "CNY":
        return f"{text} 元" if govservice_lang() != "en" else f"CNY {text}"
    return f"{text} {currency}"


def govservice_percent(ratio: Any) -> str:
    if ratio in (None, ""):
        return ""
    return f"{round(float(ratio) * 100)}%"


def govservice_safe_url(url: Any) -> str | None:
    """The URL when it is a web address; None for anything else (javascript:, data:…)."""
    if isinstance(url, str) and re.match(r"^https?://", url.strip(), re.IGNORECASE):
        return url.strip()
    return None


def govservice_is_true(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def govservice_department(org: dict[str, Any] | str | None) -> dict[str, str] | None:
    """{name, title} of a department in the page's language (title_en is a scheming extra)."""
    if not org:
        return None
    group = model.Group.get(org["id"] if isinstance(org, dict) else org)
    if group is None:
        return None
    title = group.title or group.name
    if govservice_lang() == "en":
        title = group.extras.get("title_en") or title
    return {"name": group.name, "title": title}


def govservice_facet_labeler(facet: str) -> Callable[[dict[str, Any]], str] | None:
    """How the search page names the values of a facet: vocabulary codes as
    words, 0/1 visits as "零跑动"/"最多跑一次", true/false as free/paid."""
    solr_to_field = {solr: name for name, solr in schema.facet_fields().items()}
    name = solr_to_field.get(facet)
    if name is None:
        return None
    if name == "owner_org":
        def department_title(item):
            dept = govservice_department(item.get("name"))
            return dept["title"] if dept else item.get("display_name")
        return department_title
    if name == "in_person_visits":
        return lambda item: govservice_visits(item["name"])
    if name == "is_free":
        return lambda item: govservice_word("free" if govservice_is_true(item["name"]) else "paid")
    f = schema.field(name)
    vocab = f if schema.choices(f) else schema.vocabulary_field(f)
    if vocab is None:
        return None
    return lambda item: schema.choice_label(vocab, item["name"], govservice_lang())


def govservice_service_sorting() -> list[tuple[str, str]]:
    """The search page's sort options: (label, Solr sort)."""
    return [
        (govservice_word("sort_relevance"), "score desc, metadata_modified desc"),
        (govservice_word("sort_committed"), "committed_days_f asc, title_string asc"),
        (govservice_word("sort_title"), "title_string asc"),
        (govservice_word("sort_modified"), "metadata_modified desc"),
    ]


def service_facets() -> "OrderedDict[str, str]":
    """{Solr field: title in the page's language} for the service search page."""
    solr = schema.facet_fields()
    return OrderedDict((solr[name], govservice_label(name)) for name in SERVICE_FACETS)


def govservice_jsonld(pkg: dict) -> Markup:
    """The service as schema.org GovernmentService JSON-LD, safe inside <script>:
    harvested text can never close the script element."""
    import json as _json
    from . import jsonld
    data = jsonld.service_jsonld(pkg, url=tk.url_for("service.read", id=pkg["name"], _external=True))
    text = _json.dumps(data, ensure_ascii=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
