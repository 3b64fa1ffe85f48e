"""The citizen pages' words and figures in either language, as plain functions.

Every word comes from the extension's catalogue (../i18n/, compiled by `make
translations`): the English text is the message id, so English needs no
catalogue, and Chinese is the translation. Each function takes the language
as an argument ("en" or "zh_Hans_CN", as the schema spells it), so this module
needs neither a request nor CKAN: the template helpers (helpers.py) pass the
page's language, and tests and pure code call it directly.

Our words carry the message context "govservice" in the catalogue. CKAN merges
every plugin's catalogue into its own, so a context-free "Name" or "Bad
request" of ours would replace CKAN's translation of the same English on
CKAN's own pages; with the context they never meet. A word that reads the same
in English but differently in Chinese gets a longer context ("govservice
navigation": "Performance" is 绩效 in the menu, 办理绩效 as a heading).

Vocabulary labels (units, statuses, themes…) are data in the service schema
and come from there.

A left-out value (None, blank text, an empty list) is absent: the formatters
show nothing for it, or "—" where a figure's cell needs a mark. 0 is a value.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Sequence

from babel import support

from . import schema

I18N_DIR = Path(__file__).parent.parent / "i18n"
DOMAIN = "ckanext-govservice"
CONTEXT = "govservice"

# The error page's (heading, message) by HTTP status, for when the application
# gave no message of its own.
ERROR_PAGES = {
    400: ("Bad request", "The address or form could not be understood; please check it and try again."),
    403: ("Not allowed", "You do not have permission to see this page."),
    404: ("Page not found", "The address may be mistyped, or the page has moved. "
                            "Start again from the home page or the service search."),
    500: ("Something went wrong", "Sorry, the server failed to handle this. Please try again "
                                  "later, and tell the platform's administrators if it persists."),
}

# What CKAN's own pages call a service, by the purpose CKAN asks for
# (humanize_entity_type): CKAN builds these from the type name, "Search
# Services...", in English even on a Chinese page. Purposes not listed keep
# CKAN's wording.
SERVICE_TYPE_WORDS = {
    "search placeholder": "Search services…",
    "search_placeholder": "Search services…",  # CKAN's header spells it so
    "main nav": "Services",
    "breadcrumb": "Services",
    "page title": "Services",
    "content tab": "Services",
    "facet label": "Services",
    "add link": "Add service",
    "create label": "Create service",
    "create title": "Create service",
    "edit label": "Edit service",
    "update label": "Update service",
    "save label": "Save service",
    "view label": "View service",
    "my label": "My services",
    "delete confirmation": "Are you sure you want to delete this service?",
    "no any objects": "There are no services on this site yet.",
}


@functools.cache
def translations(lang: str) -> support.NullTranslations:
    """The catalogue for a language, loaded once; English (no catalogue) gives
    the message ids back."""
    return support.Translations.load(str(I18N_DIR), [lang], domain=DOMAIN)


def _context(context: str | None) -> str:
    return f"{CONTEXT} {context}" if context else CONTEXT


def word(msgid: str, lang: str, context: str | None = None, **values: Any) -> str:
    """The English `msgid` in `lang`, its {placeholders} filled from `values`."""
    return translations(lang).pgettext(_context(context), msgid).format(**values)


def counted_word(singular: str, plural: str, count: int, lang: str,
                 context: str | None = None, **values: Any) -> str:
    """The form for `count` things in `lang` ("{n} copy" / "{n} copies"; Chinese
    has one form), its {placeholders} filled from `values`."""
    return translations(lang).npgettext(_context(context), singular, plural, count).format(**values)


def absent(value: Any) -> bool:
    """Nothing to show: None, blank text, an empty list or mapping. 0 and False are values."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, (list, tuple, dict)) and not value


def time_limit(value: Any, unit: str | None, lang: str) -> str:
    """"3 工作日" / "3 working days" (the unit's label from the schema, working
    days when not given); 0 is "即办" / "on the spot"; "" when not stated."""
    if absent(value):
        return ""
    if int(value) == 0:
        return word("on the spot", lang)
    unit_label = schema.choice_label(schema.field("committed_limit_unit"),
                                     "working_days" if absent(unit) else unit, lang)
    return f"{value} {unit_label}"


def calendar_days(days: Any, lang: str) -> str:
    """"17 个自然日" / "17 calendar days", to one decimal place; "" when absent."""
    if absent(days):
        return ""
    d = round(float(days), 1)
    whole = d == int(d)
    # A fraction takes English's plural, as 0 does (and plural rules want integers).
    return counted_word("{d} calendar day", "{d} calendar days", int(d) if whole else 0, lang,
                        d=int(d) if whole else d)


def visits(n: Any, lang: str) -> str:
    """How many times the applicant goes in person: "零跑动" / "no visit",
    "最多跑一次" / "at most one visit", "最多跑 3 次" / "at most 3 visits"."""
    if absent(n):
        return ""
    n = int(n)
    # Chinese says one visit in words of its own (the "最多跑一次" reform), so
    # one is a message of its own rather than a plural form.
    if n == 0:
        return word("no visit", lang)
    if n == 1:
        return word("at most one visit", lang)
    return word("at most {n} visits", lang, n=n)


def copies(n: Any, lang: str) -> str:
    """"2 份" / "2 copies" of a document; "" when absent."""
    if absent(n):
        return ""
    return counted_word("{n} copy", "{n} copies", int(n), lang, n=n)


def money(amount: Any, currency: str | None, lang: str) -> str:
    """"1,200.00 元" / "CNY 1,200.00"; other currencies by their code; "" when absent.
    An amount that is not a number is shown as written."""
    if absent(amount):
        return ""
    try:
        text = f"{float(amount):,.2f}"
    except (TypeError, ValueError):
        text = str(amount)
    if absent(currency) or currency == "CNY":
        return word("CNY {amount}", lang, amount=text)
    return f"{text} {currency}"


def percent(ratio: Any) -> str:
    """0.75 → "75%"; "" when absent."""
    if absent(ratio):
        return ""
    return f"{round(float(ratio) * 100)}%"


def services_found(count: int | None, query: str | None, lang: str) -> str:
    """The search page's heading: "共 1,512 项事项" / "1,512 services", with the
    query when there is one: "找到 3 项与“执照”相关的事项" / '3 services found for "licence"'."""
    count = count or 0
    if not count:
        return word('No services found for "{q}"', lang, q=query) if query \
            else word("No services yet", lang)
    n = f"{count:,}"
    if query:
        return counted_word('{n} service found for "{q}"', '{n} services found for "{q}"',
                            count, lang, n=n, q=query)
    return counted_word("{n} service", "{n} services", count, lang, n=n)


def error_page(status: int | None, message: str | None, lang: str) -> dict[str, str]:
    """The error page's heading ("404 找不到这个页面") and message: the one the
    application gave, or the standard one for the status (other 4xx as 400,
    5xx as 500)."""
    status = status or 500
    heading, standard = ERROR_PAGES[status if status in ERROR_PAGES
                                    else 500 if status >= 500 else 400]
    return {"heading": f"{status} {word(heading, lang)}",
            "message": word(standard, lang) if absent(message) else str(message)}


def service_type_word(purpose: str, lang: str) -> str | None:
    """What CKAN's pages call a service for a purpose ("breadcrumb": 事项 /
    Services), or None to keep CKAN's wording."""
    msgid = SERVICE_TYPE_WORDS.get(purpose)
    return word(msgid, lang) if msgid else None


# ---------------------------------------------------------------- performance

def kpi_value(value: Any, unit: str) -> str:
    """A KPI's figure as a reader wants it, by the KPI's unit: "75%" (ratio),
    "4.1" (score), "1,234" (count); "—" for no data."""
    if absent(value):
        return "—"
    if unit == "ratio":
        return percent(value)
    if unit == "score":
        return f"{float(value):.1f}"
    return f"{round(float(value)):,}"


def kpi_change(change: Any, unit: str, lang: str) -> str:
    """A change on the previous period: ratios in percentage points ("+3 points
    on the previous period"), scores to one decimal, counts in units; "" when
    there is none to show (None, or not a number)."""
    if isinstance(change, bool) or not isinstance(change, (int, float)):
        return ""
    amount = float(change) * 100 if unit == "ratio" else float(change)
    amount = round(amount) if unit != "score" else round(amount, 1)
    text = "±0" if amount == 0 else f"{'+' if amount > 0 else '−'}{abs(amount):,}"
    if unit == "ratio":
        return counted_word("{s} point on the previous period", "{s} points on the previous period",
                            abs(amount), lang, s=text)
    return word("{s} on the previous period", lang, s=text)


def kpi_rank(rank: Any, of: Any, lang: str) -> str:
    """"排名第 2（共 5 个部门）" / "ranked 2 of 5 departments"; "" without a rank."""
    if absent(rank) or not rank:
        return ""
    return counted_word("ranked {r} of {n} department", "ranked {r} of {n} departments",
                        int(of), lang, r=rank, n=of)


def chart_summary(series_labels: Sequence[str], first_month: str, last_month: str,
                  lang: str) -> str:
    """A chart's text for screen readers: what is drawn, over which months."""
    series = word(", ", lang).join(series_labels)
    return word("Line chart of {series} each month from {f} to {t}. Months with no data "
                "are gaps. The figures are in the table below.", lang,
                series=series, f=first_month, t=last_month)
