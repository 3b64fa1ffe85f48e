"""Hypothesis strategies for valid services, derived from service.yaml.

Every field the schema declares is drawn from its kind (a vocabulary, a whole
number, an amount, a date, a web address, text), so a field added to the
schema is drawn too. Every optional field is independently present, absent or
sent empty; every repeating field has no entry, one or many; text is short,
long, mixed-script or awkward (markup, formula-like, right-to-left, emoji).
A few rules across fields (committed within statutory, valid to after valid
from, what a channel needs) are honoured by mending the draw, so what comes
out is what a department may publish, and what the platform must show.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from ckanext.govservice.core import rules, schema

# Text in the scripts our pages meet, and some they rarely do.
MIXED_SCRIPTS = ("企业营业执照核发办理", "Business licence", "ÀÉÎÕÜ ñ ß", "Привет", "مرحبا بالعالم",
                 "שלום", "नमस्ते", "😀🏛️📄", "ｆｕｌｌｗｉｄｔｈ１２３", "\u200b\u200d", "e\u0301")
AWKWARD = ("<script>alert(1)</script>", "{{ 7 * 7 }}{% raw %}", "=HYPERLINK(\"http://x\")", "+1-2",
           "@SUM(A1)", "a\u202eb", "line one\nline two\r\nline three", "\ttabbed", "  padded  ",
           "&amp; &lt; &#0;", "'\"`", "0", "null", "None", "true", "-", "javascript:alert(1)")
# What validation refuses (tested in test_service.py), so a valid service never holds it.
UNPUBLISHABLE = "".join(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r") + "\ufffe\uffff"


def _text(min_size: int = 0) -> st.SearchStrategy[str]:
    publishable = st.characters(exclude_categories=("Cs",), exclude_characters=UNPUBLISHABLE)
    anything = st.text(publishable, min_size=max(min_size, 1), max_size=30)
    mixed = st.lists(st.sampled_from(MIXED_SCRIPTS + AWKWARD), min_size=1, max_size=6).map(" ".join)
    long = st.lists(st.sampled_from(MIXED_SCRIPTS), min_size=60, max_size=200).map("".join)
    return st.one_of(anything, mixed, long, st.sampled_from(AWKWARD))


def _required_text() -> st.SearchStrategy[str]:
    return _text(1).filter(lambda s: s.strip())


NATURALS = st.one_of(st.integers(0, 3), st.integers(0, 10_000), st.integers(0, 400).map(str))
MONEY = st.one_of(st.just(0), st.integers(0, 100_000),
                  st.decimals(0, 1_000_000, places=2, allow_nan=False, allow_infinity=False).map(str))
BOOLEANS = st.sampled_from([True, False, "true", "false", "是", "否"])
DATES = st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31)).map(dt.date.isoformat)
URLS = st.one_of(st.sampled_from(["https://zwfw.example.gov.cn/apply", "http://example.org",
                                  "https://例子.中国/办事?q=营业执照&x=%3Cb%3E"]),
                 st.from_regex(r"https://[a-z]{1,12}\.gov\.cn/[A-Za-z0-9/_\-]{0,60}", fullmatch=True))
CODES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,40}", fullmatch=True)
NAMES = st.from_regex(r"[a-z0-9][a-z0-9_\-]{1,40}", fullmatch=True)
VERSIONS = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,2}", fullmatch=True)
EMAILS = st.from_regex(r"[a-z0-9][a-z0-9._\-]{0,20}@[a-z]{1,12}\.gov\.cn", fullmatch=True)


def _validators(f: dict[str, Any]) -> str:
    return f"{f.get('validators', '')} {f.get('output_validators', '')}"


def value(f: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A valid value of a field (or subfield), from how the schema declares it."""
    if f.get("repeating_subfields"):
        required = {s["field_name"]: value(s) for s in f["repeating_subfields"] if s.get("required")}
        optional = {s["field_name"]: _optional(s) for s in f["repeating_subfields"]
                    if not s.get("required")}
        entry = st.fixed_dictionaries(required, optional=optional)
        return st.one_of(st.just([]), st.lists(entry, min_size=1, max_size=1),
                         st.lists(entry, min_size=2, max_size=5))
    codes = [c["value"] for c in schema.choices(f)]
    validators = _validators(f)
    if codes and f.get("preset") in ("multiple_checkbox", "multiple_select"):
        return st.lists(st.sampled_from(codes), unique=True, max_size=len(codes))
    if "govservice_boolean" in validators:
        return BOOLEANS
    if codes:
        return st.sampled_from(codes)
    for marker, strategy in (("govservice_natural_number", NATURALS), ("govservice_money", MONEY),
                             ("govservice_iso_date", DATES), ("govservice_web_url", URLS),
                             ("govservice_code", CODES), ("name_validator", NAMES),
                             ("package_version_validator", VERSIONS), ("govservice_email", EMAILS)):
        if marker in validators:
            return strategy
    return _required_text() if f.get("required") else _text()


def _optional(f: dict[str, Any]) -> st.SearchStrategy[Any]:
    """An optional field sent with a value, or sent empty as some feeds do."""
    empty = st.just([] if f.get("repeating_subfields") or f.get("preset") == "multiple_checkbox" else "")
    return st.one_of(value(f), empty)


# Set by the caller (type, department) or computed by the platform, never drawn.
NOT_DRAWN = {"owner_org"}


def _drawn_fields() -> list[dict[str, Any]]:
    return [f for f in schema.service_fields()
            if not f.get("govservice_derived") and f["field_name"] not in NOT_DRAWN]


def _mend(service: dict[str, Any]) -> dict[str, Any]:
    """Honour the rules across fields, as a department's data must."""
    # A basic code or document code must name an entry of its catalogue (an unknown
    # one is refused): none is drawn here; the samples (samples.py) name real ones.
    if service.get("basic_code"):
        service.pop("basic_code")
    for document in service.get("documents") or []:
        if document.get("code"):
            document.pop("code")
    statutory, committed = service.get("statutory_limit"), service.get("committed_limit")
    s_unit = service.get("statutory_limit_unit") or "working_days"
    c_unit = service.get("committed_limit_unit") or "working_days"
    if statutory not in (None, "") and committed not in (None, "") and \
            rules.committed_exceeds_statutory(int(statutory), s_unit, int(committed), c_unit):
        service["statutory_limit"], service["statutory_limit_unit"] = committed, c_unit
    if service.get("valid_from") and service.get("valid_to") and service["valid_to"] < service["valid_from"]:
        service["valid_from"], service["valid_to"] = service["valid_to"], service["valid_from"]
    for reminder in service.get("reminders") or []:   # core.due.reminder_problems
        if reminder.get("trigger") != "output_expiry":
            reminder.pop("renews_basic_code", None)
        elif not reminder.get("renews_basic_code") and service.get("output_validity") in (None, ""):
            reminder["renews_basic_code"] = "BI-RENEWED"
    for channel in service.get("channels") or []:
        kind = channel["channel_type"]
        if kind in rules.CHANNELS_NEEDING_URL and not channel.get("url"):
            channel["url"] = "https://zwfw.example.gov.cn/apply"
        if kind in rules.CHANNELS_NEEDING_ADDRESS and not (channel.get("address") or "").strip():
            channel["address"] = "滨江市江南大道1号"
        if kind == "phone" and not (channel.get("phone") or "").strip():
            channel["phone"] = "12345"
    return service


def services() -> st.SearchStrategy[dict[str, Any]]:
    """A service as a department may send it: valid, with anything optional left out."""
    fields = _drawn_fields()
    required = {f["field_name"]: value(f) for f in fields if f.get("required")}
    optional = {f["field_name"]: _optional(f) for f in fields
                if not f.get("required") and f["field_name"] != "name"}
    return st.fixed_dictionaries(required, optional=optional).map(_mend)
