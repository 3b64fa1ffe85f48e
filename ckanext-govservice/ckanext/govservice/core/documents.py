"""A service's documents against the document catalogue (材料目录), as plain functions.

A department lists a document by its catalogue code, or only by the name it
gives it ("居民身份证（复印件）", "身份证原件"); the catalogue knows each document
by its code, its title and its aliases. ``match`` finds the entry a listed
document is, ``document_network`` says for every listed document whether the
citizen must still bring it, and counts the mandatory ones. No CKAN here: the
CKAN side (network.py) loads the catalogue and calls these.
"""
from __future__ import annotations

import json
import re
import unicodedata
from typing import Any, Iterable, Mapping

from .schema import parse_boolean

# What the government holding a document means for the citizen: anything but
# "no" is 免提交, "no need to bring".
NOT_HELD = "no"

# A bracketed remark says how to hand the document in, never which document it
# is: 居民身份证（复印件）, 营业执照(副本), 委托书【代办时提供】.
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕|<[^<>]*>|《|》")
# Trailing words of form, in the order people pile them up: 身份证原件及复印件.
_FORM_WORDS = ("原件及复印件", "原件和复印件", "原件与复印件", "原件或复印件", "复印件及原件",
               "复印件和原件", "原件", "复印件", "扫描件", "电子件", "电子版", "正本", "副本",
               "一份", "1份")
_TRAILING_FORM = re.compile("(?:" + "|".join(map(re.escape, _FORM_WORDS)) + r")+$")
_SPACE_AND_PUNCTUATION = re.compile(r"[\s\u3000·・.,，。:：;；、/\\\-_\"'“”‘’]+")


def normalise_name(name: str | None) -> str:
    """The form of a document's name that matching compares: full-width
    characters made half-width, brackets and what they hold, trailing words of
    form (原件, 复印件…), spaces and punctuation taken out, Latin letters lower-cased.

    >>> normalise_name("居民身份证（复印件）")
    '居民身份证'
    """
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", str(name))   # （ ） Ａ １ → ( ) A 1
    previous = None
    while previous != text:                            # nested brackets, one layer at a time
        previous, text = text, _BRACKETED.sub("", text)
    text = _SPACE_AND_PUNCTUATION.sub("", text).lower()
    stripped = _TRAILING_FORM.sub("", text)
    return stripped or text                            # a document called just 原件 keeps its name


def aliases_of(entry: Mapping[str, Any]) -> list[str]:
    """An entry's aliases as a list, whether stored as JSON text or given as a list."""
    value = entry.get("aliases")
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip().startswith("[") else [value]
        except ValueError:
            value = [value]
    return [str(v) for v in value or [] if v]


def catalogue_index(entries: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The catalogue arranged for matching: ``{"by_code", "by_name", "by_alias"}``,
    each a dict to the entry (``document_code``, ``title``, ``aliases``,
    ``government_holds``…). A normalised title or alias two entries share
    matches neither: a guess would count the wrong document."""
    by_code: dict[str, dict[str, Any]] = {}
    names: dict[str, list[dict[str, Any]]] = {}
    aliases: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        entry = dict(entry)
        code = entry.get("document_code")
        if not code:
            continue
        by_code[code] = entry
        names.setdefault(normalise_name(entry.get("title")), []).append(entry)
        for alias in aliases_of(entry):
            aliases.setdefault(normalise_name(alias), []).append(entry)

    def unambiguous(found: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
        return {k: v[0] for k, v in found.items()
                if k and len({e["document_code"] for e in v}) == 1}
    return {"by_code": by_code, "by_name": unambiguous(names), "by_alias": unambiguous(aliases)}


def match(document: Mapping[str, Any], index: Mapping[str, Mapping[str, Any]]
          ) -> tuple[Mapping[str, Any] | None, str | None]:
    """(the catalogue entry, how it was found: "code", "name" or "alias") for one
    listed document, or (None, None). A code given is trusted alone: a code the
    catalogue does not know matches nothing, whatever the name says."""
    code = document.get("code")
    if code:
        entry = index["by_code"].get(code)
        return (entry, "code") if entry else (None, None)
    key = normalise_name(document.get("name"))
    if not key:
        return None, None
    if key in index["by_name"]:
        return index["by_name"][key], "name"
    if key in index["by_alias"]:
        return index["by_alias"][key], "alias"
    return None, None


def is_mandatory(document: Mapping[str, Any]) -> bool:
    """A document is mandatory unless it says otherwise (the schema's default)."""
    value = document.get("mandatory")
    if value in (None, ""):
        return True
    if isinstance(value, bool):
        return value
    try:
        return parse_boolean(value)
    except ValueError:
        return True


def must_bring(entry: Mapping[str, Any] | None) -> bool:
    """True unless the catalogue says the government holds the document (免提交);
    a document the catalogue does not know is one the citizen brings."""
    return entry is None or (entry.get("government_holds") or NOT_HELD) == NOT_HELD


def document_network(documents: Iterable[Mapping[str, Any]] | None,
                     index: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Every listed document with its catalogue entry, and the counts:

    ``{"documents": [{"index", "code", "matched_by", "title", "government_holds",
    "must_bring"}], "documents_demanded": mandatory documents listed,
    "documents_to_bring": mandatory documents the citizen must still bring}``.
    ``code`` and ``title`` are the catalogue's (None when unmatched)."""
    rows, demanded, to_bring = [], 0, 0
    for i, document in enumerate(documents or []):
        if not isinstance(document, Mapping):
            continue
        entry, matched_by = match(document, index)
        bring = must_bring(entry)
        rows.append({
            "index": i,
            "code": entry.get("document_code") if entry else None,
            "matched_by": matched_by,
            "title": entry.get("title") if entry else None,
            "government_holds": (entry.get("government_holds") or NOT_HELD) if entry else None,
            "must_bring": bring,
        })
        if is_mandatory(document):
            demanded += 1
            to_bring += bring
    return {"documents": rows, "documents_demanded": demanded, "documents_to_bring": to_bring}


def unmatched(services: Iterable[Mapping[str, Any]], index: Mapping[str, Mapping[str, Any]]
              ) -> list[dict[str, Any]]:
    """The document names services list that match no catalogue entry, most listed
    first: ``[{"name": the name as most often written, "normalised", "count":
    services listing it, "services": [the services' own keys…]}]``. A service is
    a mapping with ``documents`` and whatever else names it (name, title, owner_org)."""
    found: dict[str, dict[str, Any]] = {}
    for service in services:
        for document in service.get("documents") or []:
            if not isinstance(document, Mapping) or document.get("code"):
                continue    # a listed code is checked when the service is saved
            if match(document, index)[0] is not None:
                continue
            key = normalise_name(document.get("name"))
            if not key:
                continue
            row = found.setdefault(key, {"normalised": key, "spellings": {}, "services": {}})
            spelled = str(document.get("name")).strip()
            row["spellings"][spelled] = row["spellings"].get(spelled, 0) + 1
            who = {k: v for k, v in service.items() if k != "documents"}
            row["services"][json.dumps(who, sort_keys=True, default=str)] = who
    out = []
    for row in found.values():
        name = max(sorted(row["spellings"]), key=lambda s: row["spellings"][s])
        services = list(row["services"].values())
        out.append({"name": name, "normalised": row["normalised"], "count": len(services),
                    "services": services})
    return sorted(out, key=lambda r: (-r["count"], r["normalised"]))
