"""Template helpers for the citizen pages (h.govservice_*).

Thin: they pass the page's language to the pure formatters of core.words,
whose words are the extension's catalogue (i18n/), and to the schema for
field labels and vocabulary words. A template names a word by its English:
h.govservice_word("How long"). A field the service leaves out reaches a
helper as Jinja's Undefined, which the helpers pass on as None, absent.

Still here, and not pure: govservice_department reads the department from
the database (model.Group), and govservice_home_browse / govservice_home_kpis /
govservice_performance_trend call the page modules that query (home.py,
performance_pages.py).
"""
from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any, Callable

from jinja2 import Undefined
from markupsafe import Markup

import ckan.model as model
import ckan.plugins.toolkit as tk

from .core import schema, words
from .branding import brand, stylesheet

__all__ = [
    "govservice_lang", "govservice_label", "govservice_sublabel", "govservice_choice_label",
    "govservice_text", "govservice_title", "govservice_word", "govservice_time_limit",
    "govservice_days", "govservice_visits", "govservice_copies", "govservice_money",
    "govservice_percent",
    "govservice_safe_url", "govservice_department", "govservice_facet_labeler",
    "govservice_is_true", "govservice_service_sorting", "govservice_jsonld",
    "govservice_kpi_label", "govservice_kpi_definition", "govservice_kpi_value",
    "govservice_kpi_change", "govservice_kpi_rank", "govservice_performance_trend",
    "govservice_chart_json", "govservice_chart_summary", "govservice_chart_cell",
    "govservice_department_title", "govservice_charts_available",
    "govservice_home_browse", "govservice_home_kpis", "govservice_services_found",
    "govservice_error_page",
    "humanize_entity_type", "linked_user",
]
__all__ += ["govservice_brand", "govservice_brand_css"]


def govservice_brand() -> dict[str, str]:
    """The platform's name, logo, operator, contact and licence in the page's language."""
    return brand(govservice_lang())


def govservice_brand_css() -> Markup:
    """The brand's colours for the page's <style> (checked #rrggbb values only)."""
    return Markup(stylesheet())


# The facets of the service search page, in the order people narrow down by.
SERVICE_FACETS = ("owner_org", "themes", "life_events", "audience", "channels",
                  "online_depth", "in_person_visits", "is_free", "status")
# Then the department's level and area (department.yaml; each service's Solr
# document carries its department's, network.index_fields) and the basic item
# it implements.
DEPARTMENT_FACETS = ("level", "area")
ITEM_FACETS = ("basic_code",)


@tk.chained_helper
def humanize_entity_type(next_helper: Callable[..., Any], entity_type: str, object_type: str,
                         purpose: str) -> Any:
    """CKAN's helper, with the service type's words in the page's language."""
    if entity_type == "package" and object_type == "service":
        word = words.service_type_word(purpose, govservice_lang())
        if word is not None:
            return word
    return next_helper(entity_type, object_type, purpose)


def absent(value: Any) -> bool:
    """Nothing to show: a field the service leaves out (a template reads it as
    Undefined), None, or empty text or list. 0 and False are values."""
    return isinstance(value, Undefined) or words.absent(value)


def _given(value: Any) -> Any:
    """A field the service leaves out (Undefined) as None, which the formatters read as absent."""
    return None if isinstance(value, Undefined) else value


@tk.chained_helper
def linked_user(next_helper: Callable[..., Any], user: Any, maxlength: int = 0,
                avatar: int = 20) -> Any:
    """CKAN's helper, without the link where the visitor may not open the
    profile (anyone not logged in, as ckan.auth.public_user_details is off):
    the activity streams linked every name to a page that answered 403."""
    account = user if isinstance(user, model.User) else model.User.get(str(user))
    if account is not None and not tk.h.check_access("user_show", {"id": account.id}):
        name = account.display_name
        return name[:maxlength] + "..." if maxlength and len(name) > maxlength else name
    return next_helper(user, maxlength, avatar)


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
    return _plain(schema.label(schema.subfield(field_name, sub_name), govservice_lang()))


def govservice_choice_label(field_name: str, value: Any, sub_name: str | None = None) -> str:
    if absent(value):
        return ""
    f = schema.subfield(field_name, sub_name) if sub_name else schema.field(field_name)
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


def govservice_word(msgid: str, context: str | None = None, **values: Any) -> str:
    """Our catalogue's word for the English `msgid` in the page's language,
    {placeholders} filled from `values`: h.govservice_word("Latest 12 months: {f} to {t}", f=…, t=…)."""
    return words.word(msgid, govservice_lang(), context, **values)


def govservice_services_found(count: int, query: str | None) -> str:
    """"共 1,512 项事项" / "1,512 services"; with the query when there is one."""
    return words.services_found(_given(count), _given(query), govservice_lang())


def govservice_error_page(code: Any, content: Any) -> dict[str, str]:
    """The error page's heading and message. CKAN passes the status (a list
    [500] for an unhandled error) and the exception's description: Werkzeug's
    English default, or a message CKAN gave itself, which is kept."""
    from werkzeug.exceptions import default_exceptions
    status = (code[0] if isinstance(code, (list, tuple)) else code) or 500
    exception = default_exceptions.get(status)
    own = content and content != "Internal server error" and (
        exception is None or str(content) != exception.description)
    return words.error_page(status, str(content) if own else None, govservice_lang())


def govservice_time_limit(value: Any, unit: str | None) -> str:
    """"3 工作日" / "3 working days"; 0 is "即办" / "on the spot"; "" when not stated."""
    return words.time_limit(_given(value), _given(unit), govservice_lang())


def govservice_days(days: Any) -> str:
    return words.calendar_days(_given(days), govservice_lang())


def govservice_visits(n: Any) -> str:
    return words.visits(_given(n), govservice_lang())


def govservice_copies(n: Any) -> str:
    return words.copies(_given(n), govservice_lang())


def govservice_money(amount: Any, currency: str | None = "CNY") -> str:
    return words.money(_given(amount), _given(currency), govservice_lang())


def govservice_percent(ratio: Any) -> str:
    return words.percent(_given(ratio))


def govservice_safe_url(url: Any) -> str | None:
    """The URL when it is a web address; None for anything else (javascript:, data:…)."""
    if isinstance(url, str) and re.match(r"^https?://", url.strip(), re.IGNORECASE):
        return url.strip()
    return None


def govservice_is_true(value: Any) -> bool:
    """Whether a flag is set: a true value, or a word the schema reads as true
    (``core.schema.parse_boolean``: "true", "yes", "1", "是"…); None, "" and
    words that are not a flag are not."""
    if isinstance(value, str):
        try:
            return schema.parse_boolean(value)
        except ValueError:
            return False
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
    if facet == "service_centres_ss":
        from . import centres
        return centres.facet_labeler(govservice_lang())
    if facet == "level_ss":
        level = _department_field("level")
        return lambda item: schema.choice_label(level, item["name"], govservice_lang())
    solr_to_field = {solr: name for name, solr in schema.facet_fields().items()}
    name = solr_to_field.get(facet)
    if name is None:
        return None
    if name == "basic_code":
        def basic_item_title(item):
            from . import network
            found = network.basic_item(item["name"])
            title = found and ((govservice_lang() == "en" and found.get("title_en")) or found.get("title"))
            return f"{item['name']} {title}" if title else item["name"]
        return basic_item_title
    if name == "owner_org":
        def department_title(item):
            dept = govservice_department(item.get("name"))
            return dept["title"] if dept else item.get("display_name")
        return department_title
    if name == "in_person_visits":
        return lambda item: govservice_visits(item["name"])
    if name == "is_free":
        return lambda item: govservice_word("Free" if govservice_is_true(item["name"]) else "Paid")
    f = schema.field(name)
    vocab = f if schema.choices(f) else schema.vocabulary_field(f)
    if vocab is None:
        return None
    return lambda item: schema.choice_label(vocab, item["name"], govservice_lang())


def govservice_service_sorting() -> list[tuple[str, str]]:
    """The search page's sort options: (label, Solr sort)."""
    return [
        (govservice_word("Relevance"), "score desc, metadata_modified desc"),
        (govservice_word("Committed time, shortest first"), "committed_days_f asc, title_string asc"),
        (govservice_word("Name"), "title_string asc"),
        (govservice_word("Last modified"), "metadata_modified desc"),
    ]


def _department_field(name: str) -> dict[str, Any]:
    return next(f for f in schema.department_fields() if f["field_name"] == name)


def service_facets() -> "OrderedDict[str, str]":
    """{Solr field: title in the page's language} for the service search page."""
    solr = schema.facet_fields()
    facets = OrderedDict((solr[name], govservice_label(name)) for name in SERVICE_FACETS)
    for name in DEPARTMENT_FACETS:
        facets[f"{name}_ss"] = _plain(schema.label(_department_field(name), govservice_lang()))
    for name in ITEM_FACETS:
        facets[solr[name]] = govservice_label(name)
    from . import centres   # the centres handling it, derived from their counters (issue 17)
    facets[centres.SOLR_FIELD] = govservice_word("Service centre")
    return facets


def govservice_jsonld(pkg: dict) -> Markup:
    """The service as schema.org GovernmentService JSON-LD, safe inside <script>:
    harvested text can never close the script element."""
    import json as _json
    from . import jsonld
    data = jsonld.service_jsonld(pkg, url=tk.url_for("service.read", id=pkg["name"], _external=True))
    text = _json.dumps(data, ensure_ascii=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


# ---------------------------------------------------------------- performance

def _kpi(name: str) -> dict[str, Any]:
    for kpi in schema.kpi_definitions():
        if kpi["name"] == name:
            return kpi
    raise KeyError(name)


def govservice_kpi_label(name: str) -> str:
    """A KPI's label in the page's language, from kpis.yaml."""
    return schema.label(_kpi(name), govservice_lang())


def govservice_kpi_definition(name: str) -> str:
    """How a KPI is computed, in the page's language, from kpis.yaml."""
    definition = _kpi(name).get("definition") or {}
    return definition.get(govservice_lang()) or definition.get("en") or ""


def govservice_kpi_value(name: str, value: Any) -> str:
    """A KPI's figure as a reader wants it: "75%", "4.1", "1,234"; "—" for no data."""
    return words.kpi_value(_given(value), _kpi(name)["unit"])


def govservice_kpi_change(name: str, change: Any) -> str:
    """A change on the previous period: ratios in percentage points, counts in units; "" when unknown
    (None, or no change given at all: a service's panel)."""
    return words.kpi_change(_given(change), _kpi(name)["unit"], govservice_lang())


def govservice_kpi_rank(figure: dict[str, Any] | None) -> str:
    if not figure or not figure.get("rank"):
        return ""
    return words.kpi_rank(figure["rank"], figure["of"], govservice_lang())


def govservice_performance_trend(pkg: dict[str, Any]) -> dict[str, Any] | None:
    """The service's monthly volume, on-time rate and satisfaction (up to 36 months) as a chart, or None."""
    from . import performance_pages
    return performance_pages.service_trend(pkg, govservice_lang())


def govservice_chart_json(chart: dict[str, Any]) -> str:
    """The chart for a data-govservice-chart attribute (autoescaped there), with the
    axis words charts.js needs in the page's language."""
    import json as _json
    return _json.dumps({**chart, "lang": govservice_lang()}, ensure_ascii=False,
                       separators=(",", ":"))


def govservice_chart_summary(chart: dict[str, Any]) -> str:
    """The canvas's aria-label: what is drawn, over which months; the figures follow in a table."""
    return words.chart_summary([s["label"] for s in chart["series"]], chart["months"][0],
                               chart["months"][-1], govservice_lang())


def govservice_chart_cell(series: dict[str, Any], index: int) -> str:
    return govservice_kpi_value(series["kpi"], series["data"][index])


def govservice_department_title(entry: dict[str, Any]) -> str:
    """A league-table row's department title in the page's language."""
    title = entry.get("title") or {}
    return title.get(govservice_lang()) or title.get("zh_Hans_CN") or entry.get("department") or ""


def govservice_charts_available() -> bool:
    """Whether Chart.js is in assets/vendor (stack.sh install, or the image, copies it there
    from node_modules). Without it a page keeps its figures tables and draws no chart,
    rather than failing on the missing asset."""
    import os
    return os.path.exists(os.path.join(os.path.dirname(__file__), "assets", "vendor", "chart.umd.min.js"))


def govservice_home_browse() -> dict[str, Any]:
    """Themes and life events with their service counts, for the home page."""
    from . import home
    return home.browse_counts()


def govservice_home_kpis() -> dict[str, Any] | None:
    """The platform's headline KPIs (latest 12 months), or None without statistics."""
    from . import home
    return home.headline_kpis()


__all__ += ["govservice_standard"]


def govservice_standard(name: str, judged: dict[str, Any] | None) -> dict[str, str] | None:
    """A figure's service standard as the page prints it: ``text`` ("Target 95% ·
    missed (amber)"), ``status`` (green/amber/red, or none without data), ``wording``
    (the standard in the page's language) and ``flag`` ("Missed 3 months in a row",
    or "" below that); None when no standard applies."""
    from .core import standards as rules
    if not judged:
        return None
    lang = govservice_lang()
    parts = [words.word("Target {t}", lang, t=words.kpi_value(judged["target"], _kpi(name)["unit"]))]
    if judged.get("met") is not None:
        parts.append(words.word("{m} ({s})", lang, m=words.word("met" if judged["met"] else "missed", lang),
                                s=words.word(judged["status"], lang)))
    run = judged.get("missed_in_a_row") or 0
    return {"text": " · ".join(parts), "status": judged.get("status") or "none",
            "wording": (judged.get("wording") or {}).get(lang) or (judged.get("wording") or {}).get("en", ""),
            "flag": words.word("Missed {n} months in a row", lang, n=run)
            if run >= rules.MISSED_IN_A_ROW else ""}


__all__ += ["govservice_search_help"]


def govservice_search_help(q: str | None, count: int | None) -> dict[str, Any] | None:
    """For a service search with few results (fewer than 3): a respelling
    ("did you mean") and titles that hold what was typed, as plain links, so
    the help works without JavaScript. None when there is nothing to offer."""
    from . import search
    if not q or not q.strip() or (count or 0) >= 3:
        return None
    try:
        found = {"did_you_mean": search.did_you_mean(q), "suggestions": search.suggestions(q, 5)}
    except Exception:   # typing help must never break the search page
        import logging
        logging.getLogger(__name__).warning("service search help for %r failed", q, exc_info=True)
        return None
    return found if found["did_you_mean"] or found["suggestions"] else None


def govservice_vocabulary_choices(field: dict[str, Any]) -> list[dict[str, Any]]:
    """scheming's ``choices_helper``: the choices of the vocabulary a field names
    (``govservice_vocabulary``), declared once in service.yaml or department.yaml."""
    return schema.choices(field)


def get_helpers() -> dict[str, Callable[..., Any]]:
    """The template helpers: this module's public functions, and the
    ``TEMPLATE_HELPERS`` of the page families that keep their own
    (item_compare: the same item compared; document_catalogue: documents)."""
    import inspect
    import sys
    from . import document_catalogue, due, item_compare, queues
    module = sys.modules[__name__]
    found = {name: f for name, f in inspect.getmembers(module, inspect.isfunction)
             if f.__module__ == __name__ and not name.startswith("_") and name != "get_helpers"}
    for family in (item_compare, document_catalogue, queues, due):
        found.update(getattr(family, "TEMPLATE_HELPERS", {}))
    return found
