"""What changed in a service, in words: two versions of a service compared field
by field, each difference a sentence in both languages ("Fees (证书工本费):
80.00 → 0.00 yuan", "Documents to bring: 户口簿 no longer required",
"withdrawn").

Plain dicts in (two package dicts as ``package_show`` gives them, or as CKAN's
activity stored them), plain dicts out; no CKAN. The fields compared are the
ones a department sends (``schema.input_fields``: not the derived ones, which
follow from the others, nor the harvesters' provenance); their labels, kinds
and choices come from ``schemas/service.yaml``, so a field added there is
compared with no change here. The Atom feeds, the webhooks' payloads and the
e-mail digests all say a change with these sentences.

A repeating field's rows are matched by their ``name`` subfield (else their
first), so a row edited in place reads as that row's change, not as one row
removed and another added. A row with a ``mandatory`` subfield says when a
document becomes required or stops being required.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from . import schema, words

LANGUAGES = schema.LANGUAGES
LONG_TEXT = 60           # characters: a longer text is said to have changed, not quoted
NOT_SET = "—"


def _sentence(about: str | None, msgid: str, **values: Any) -> dict[str, Any]:
    """One change: the field it is about and the sentence in every language;
    a value given as ``{lang: text}`` is taken in each language."""
    return {"field": about, **{
        lang: words.word(msgid, lang, context="change",
                         **{k: (v.get(lang) if isinstance(v, Mapping) else v) for k, v in values.items()})
        for lang in LANGUAGES}}


def _blank(value: Any) -> bool:
    return words.absent(value)


def _amount(value: Any) -> str:
    try:
        return f"{Decimal(str(value).replace(',', '')):.2f}"
    except (InvalidOperation, ValueError):
        return str(value)


def _shown(f: Mapping[str, Any], value: Any) -> dict[str, str]:
    """A value as a sentence quotes it, per language: a code by its label, a
    yes/no in words, money with two decimals, nothing as "—"."""
    if _blank(value):
        return {lang: NOT_SET for lang in LANGUAGES}
    kind = schema.field_kind(f)
    if kind == "boolean":
        try:
            yes = schema.parse_boolean(value)
        except ValueError:
            return {lang: str(value) for lang in LANGUAGES}
        return {lang: words.word("yes" if yes else "no", lang, context="change") for lang in LANGUAGES}
    if kind == "money":
        return {lang: _amount(value) for lang in LANGUAGES}
    if kind == "code" or schema.choices(f):
        return {lang: schema.choice_label(f, str(value), lang) for lang in LANGUAGES}
    return {lang: str(value) for lang in LANGUAGES}


def _same(a: Any, b: Any) -> bool:
    if _blank(a) and _blank(b):
        return True
    return str(a).strip() == str(b).strip() if not isinstance(a, (list, dict)) else a == b


def _scalar(f: Mapping[str, Any], old: Any, new: Any) -> list[dict[str, Any]]:
    if _same(old, new):
        return []
    name, label = f["field_name"], schema.labels(f)
    if len(str(old or "")) > LONG_TEXT or len(str(new or "")) > LONG_TEXT:
        return [_sentence(name, "{field} changed", field=label)]
    return [_sentence(name, "{field}: {old} → {new}", field=label, old=_shown(f, old), new=_shown(f, new))]


def _listed(f: Mapping[str, Any], old: Any, new: Any) -> list[dict[str, Any]]:
    old_codes = [old] if isinstance(old, str) else list(old or [])
    new_codes = [new] if isinstance(new, str) else list(new or [])
    name, label = f["field_name"], schema.labels(f)
    out = [_sentence(name, "{field}: {value} added", field=label, value=_shown(f, c))
           for c in new_codes if c not in old_codes]
    out += [_sentence(name, "{field}: {value} removed", field=label, value=_shown(f, c))
            for c in old_codes if c not in new_codes]
    return out


def _row_key(f: Mapping[str, Any], row: Mapping[str, Any]) -> str:
    subs = [s["field_name"] for s in f.get("repeating_subfields") or []]
    key = "name" if "name" in subs else subs[0]
    value = row.get(key)
    return str(value).strip() if not _blank(value) else words.word("(unnamed)", "en", context="change")


def _required(row: Mapping[str, Any] | None) -> bool | None:
    """Whether a row (a document) is mandatory; None when the row says nothing of it."""
    if row is None or "mandatory" not in row or _blank(row.get("mandatory")):
        return None
    try:
        return schema.parse_boolean(row["mandatory"])
    except ValueError:
        return None


def _rows(f: Mapping[str, Any], old: Any, new: Any) -> list[dict[str, Any]]:
    old_rows = {_row_key(f, r): r for r in old or [] if isinstance(r, Mapping)}
    new_rows = {_row_key(f, r): r for r in new or [] if isinstance(r, Mapping)}
    name, label = f["field_name"], schema.labels(f)
    out: list[dict[str, Any]] = []
    for key, row in new_rows.items():
        before = old_rows.get(key)
        if before is None:
            if _required(row):
                out.append(_sentence(name, "{field}: {item} now required", field=label, item=key))
            else:
                out.append(_sentence(name, "{field}: {item} added", field=label, item=key))
            continue
        was, now = _required(before), _required(row)
        if was is not None and now is not None and was != now:
            out.append(_sentence(name, "{field}: {item} now required" if now
                                 else "{field}: {item} no longer required", field=label, item=key))
        for sub in f.get("repeating_subfields") or []:
            s = sub["field_name"]
            if s == "mandatory" or _same(before.get(s), row.get(s)):
                continue
            if schema.field_kind(sub) == "money":
                currency = row.get("currency") or before.get("currency") or "CNY"
                msgid = ("{field} ({item}): {old} → {new} yuan" if currency == "CNY"
                         else "{field} ({item}): {old} → {new} " + str(currency))
                out.append(_sentence(name, msgid, field=label, item=key,
                                     old=_shown(sub, before.get(s)), new=_shown(sub, row.get(s))))
            else:
                out.append(_sentence(name, "{field} ({item}), {part}: {old} → {new}", field=label, item=key,
                                     part=schema.labels(sub), old=_shown(sub, before.get(s)),
                                     new=_shown(sub, row.get(s))))
    for key, row in old_rows.items():
        if key not in new_rows:
            out.append(_sentence(name, "{field}: {item} no longer required" if _required(row)
                                 else "{field}: {item} removed", field=label, item=key))
    return out


def service_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The differences from ``before`` to ``after`` (two versions of one service),
    each ``{"field": name or None, "zh_Hans_CN": sentence, "en": sentence}``, in
    schema order; a withdrawal first. ``before`` None: the service was published.
    Nothing a department sends changed: an empty list."""
    if before is None:
        return [_sentence(None, "published")]
    out: list[dict[str, Any]] = []
    withdrawn = after.get("status") == "withdrawn" and before.get("status") != "withdrawn"
    if withdrawn:
        out.append(_sentence("status", "withdrawn"))
    for name, f in schema.input_fields().items():
        if name == "status" and withdrawn:
            continue
        old, new = before.get(name), after.get(name)
        kind = schema.field_kind(f)
        if kind == "rows":
            out += _rows(f, old, new)
        elif kind == "list":
            out += _listed(f, old, new)
        else:
            out += _scalar(f, old, new)
    return out


def summary(changes: list[dict[str, Any]], lang: str, limit: int = 3) -> str:
    """The first ``limit`` changes in one line ("…; 2 more"), for a title or a subject."""
    shown = "; ".join(c[lang] for c in changes[:limit])
    more = len(changes) - limit
    if more > 0:
        shown += "; " + words.word("{n} more", lang, context="change", n=more)
    return shown


# ---------------------------------------------------------------- a change told to others

def atom(feed: Mapping[str, Any], entries: list[Mapping[str, Any]]) -> str:
    """An Atom feed (RFC 4287) as text. ``feed``: ``id``, ``title``, ``link`` (the
    page), ``self`` (the feed's own address), ``updated`` (an aware datetime),
    ``lang``; each entry: ``id``, ``title``, ``link``, ``updated``, ``content``
    (lines of text, shown as an HTML list). A feed with no entries is still
    valid: its ``updated`` is the one given."""
    from xml.etree import ElementTree as ET

    ns = "http://www.w3.org/2005/Atom"
    root = ET.Element("feed", {"xmlns": ns, "xml:lang": feed.get("lang", "zh")})

    def add(parent, tag: str, text: str | None = None, **attrs: str):
        node = ET.SubElement(parent, tag, attrs)
        if text is not None:
            node.text = text
        return node

    add(root, "id", feed["id"])
    add(root, "title", feed["title"])
    add(root, "updated", feed["updated"].isoformat())
    add(root, "link", href=feed["link"])
    add(root, "link", rel="self", type="application/atom+xml", href=feed["self"])
    add(add(root, "author"), "name", feed.get("author") or feed["title"])
    for e in entries:
        entry = add(root, "entry")
        add(entry, "id", e["id"])
        add(entry, "title", e["title"])
        add(entry, "updated", e["updated"].isoformat())
        add(entry, "link", href=e["link"])
        items = "".join(f"<li>{_html(line)}</li>" for line in e["content"])
        add(entry, "content", f"<ul>{items}</ul>", type="html")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _html(text: str) -> str:
    from html import escape
    return escape(text, quote=False)


def bounded_payload(payload: Mapping[str, Any], max_bytes: int) -> bytes:
    """A webhook's JSON body (UTF-8, keys sorted) no larger than ``max_bytes``:
    when the change's sentences make it larger, the last ones are left out and
    ``changes_left_out`` says how many. ValueError when even no sentence fits."""
    import json

    body = dict(payload)
    changes = list(body.get("changes") or [])
    kept = len(changes)
    while True:
        body["changes"] = changes[:kept]
        if kept < len(changes):
            body["changes_left_out"] = len(changes) - kept
        data = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        if len(data) <= max_bytes:
            return data
        if kept == 0:
            raise ValueError(f"a change's payload is {len(data)} bytes without its sentences, "
                             f"more than the {max_bytes} allowed")
        kept = kept // 2 if len(data) > 2 * max_bytes else kept - 1


def signature(secret: str, body: bytes) -> str:
    """The X-GovService-Signature header's value: ``sha256=`` and the hex
    HMAC-SHA256 of the body under the webhook's secret (as GitHub's webhooks do,
    so receivers' code for those works)."""
    import hashlib
    import hmac
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_wait(attempts: int, first_seconds: int) -> int:
    """Seconds to wait before the next try after ``attempts`` failed ones: the
    first wait, doubled after each further failure (60, 120, 240… by default),
    at most a day."""
    return min(first_seconds * 2 ** max(attempts - 1, 0), 86400)
