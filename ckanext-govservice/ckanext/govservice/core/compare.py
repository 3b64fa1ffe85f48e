"""The same item compared: implementations of one basic item, against its
standard and against the best implementer, and a department's standardisation score.

Plain dicts in, plain dicts out; no CKAN. item_compare.py fetches the basic
item and its implementations and hands them here in these shapes:

* a basic item: ``basic_code``, ``statutory_limit`` (+``_unit``), the standard
  ``standard_limit`` (+``_unit``; empty: the statutory limit),
  ``standard_visits`` and ``standard_documents`` ``[{"code", "name", "mandatory"}]``
  (the network's ``basic_item``, or the basic item dataset itself);
* an implementation: ``name``, ``who`` (``{"zh_Hans_CN", "en"}``: how a
  sentence names it, such as its area), ``documents`` ``[{"code", "name",
  "mandatory"}]`` (``code`` the catalogue code the network matched, None when
  unmatched), ``documents_to_bring``, ``committed_limit`` (+``_unit``),
  ``in_person_visits``, ``is_free``, ``online_depth``, ``channel_types``.

An implementation matches its basic item ("the same item, the same standard")
on documents when it asks for no mandatory document outside the standard's
(an unmatched document is outside), on the limit when it commits no more
calendar days than the standard, and on visits when it asks for no more
visits than the standard. What the standard leaves unset is matched by every
implementation; what the implementation leaves unset while the standard sets
it is not matched.

The differences are sentences in both languages, only where an implementation
is worse: against the standard, and against the best implementer (fewest
documents to bring, shortest committed limit, fewest visits, free, most
online stages, the channels every other one offers). "Others" when every
other implementation shares the best value, else the first best one by name.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from . import rules, schema, words
from .documents import is_mandatory

LANGUAGES = schema.LANGUAGES
MATCHED_ON = ("documents", "limit", "visits")


# ---------------------------------------------------------------- the standard

def standard_limit(item: Mapping[str, Any]) -> tuple[int | None, str]:
    """The limit implementations are measured against: the standard's, or the statutory when none."""
    if item.get("standard_limit") is not None:
        return item["standard_limit"], item.get("standard_limit_unit") or "working_days"
    return item.get("statutory_limit"), item.get("statutory_limit_unit") or "working_days"


def standard_days(item: Mapping[str, Any]) -> float | None:
    value, unit = standard_limit(item)
    return rules.calendar_days(value, unit)


def standard_codes(item: Mapping[str, Any]) -> set[str]:
    return {d["code"] for d in item.get("standard_documents") or [] if d.get("code")}


def committed_days(impl: Mapping[str, Any]) -> float | None:
    return rules.calendar_days(impl.get("committed_limit"),
                               impl.get("committed_limit_unit") or "working_days")


def documents_outside_standard(impl: Mapping[str, Any], item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The mandatory documents the implementation asks for that the standard does not
    list (an unmatched one among them); none when the standard lists no documents."""
    codes = standard_codes(item)
    if not codes:
        return []
    return [dict(d) for d in impl.get("documents") or []
            if is_mandatory(d) and d.get("code") not in codes]


def matches_standard(impl: Mapping[str, Any], item: Mapping[str, Any]) -> dict[str, bool]:
    """{"documents", "limit", "visits"}: whether the implementation keeps to the standard on each."""
    limit = standard_days(item)
    committed = committed_days(impl)
    visits = item.get("standard_visits")
    asked = impl.get("in_person_visits")
    return {
        "documents": not documents_outside_standard(impl, item),
        "limit": limit is None or (committed is not None and committed <= limit),
        "visits": visits is None or (asked is not None and asked <= visits),
    }


def matches_all(matched: Mapping[str, bool]) -> bool:
    return all(matched[k] for k in MATCHED_ON)


# ---------------------------------------------------------------- the best implementer

def _stages(impl: Mapping[str, Any]) -> int:
    return len(set(impl.get("online_depth") or []) & set(rules.ONLINE_STAGES))


# Each dimension the best implementer is found on: (field, the value, lower is better).
BEST_ON = (
    ("documents_to_bring", lambda i: i.get("documents_to_bring"), True),
    ("committed_limit", committed_days, True),
    ("in_person_visits", lambda i: i.get("in_person_visits"), True),
    ("fees", lambda i: None if i.get("is_free") is None else (0 if i["is_free"] else 1), True),
    ("online_depth", _stages, False),
)


def best(impls: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """For each dimension, the best value among the implementations that state it
    and the names of those that reach it: ``{field: {"value", "names"}}`` (value
    None and no names when none states it)."""
    out: dict[str, Any] = {}
    for name, value_of, lower in BEST_ON:
        stated = [(value_of(i), i["name"]) for i in impls if value_of(i) is not None]
        if not stated:
            out[name] = {"value": None, "names": []}
            continue
        top = (min if lower else max)(v for v, _ in stated)
        out[name] = {"value": top, "names": [n for v, n in stated if v == top]}
    return out


# ---------------------------------------------------------------- sentences

def _both(msgid: str, values: Mapping[str, Mapping[str, Any] | Any]) -> dict[str, str]:
    """The sentence in every language; a value given as {lang: text} takes that language's text."""
    return {lang: words.word(msgid, lang, **{k: (v.get(lang) if isinstance(v, Mapping) else v)
                                             for k, v in values.items()})
            for lang in LANGUAGES}


def _per_lang(format_value) -> dict[str, str]:
    return {lang: format_value(lang) for lang in LANGUAGES}


def _difference(field: str, against: str, msgid: str, **values: Any) -> dict[str, Any]:
    return {"field": field, "against": against, "text": _both(msgid, values)}


def _counted_difference(field: str, against: str, singular: str, plural: str, n: int,
                        **values: Any) -> dict[str, Any]:
    """A difference whose sentence counts something ("1 more document", "2 more documents")."""
    return {"field": field, "against": against, "text": {
        lang: words.counted_word(singular, plural, n, lang, n=n,
                                 **{k: (v.get(lang) if isinstance(v, Mapping) else v) for k, v in values.items()})
        for lang in LANGUAGES}}


def _limit_words(value: Any, unit: str | None) -> dict[str, str]:
    return _per_lang(lambda lang: words.time_limit(value, unit, lang))


def _visit_words(n: Any) -> dict[str, str]:
    return _per_lang(lambda lang: words.visits(n, lang))


def against_standard(impl: Mapping[str, Any], item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Where the implementation departs from its basic item's standard, worst first."""
    who = impl["who"]
    out = []
    outside = documents_outside_standard(impl, item)
    if outside:
        out.append(_counted_difference("documents", "standard",
                                       "{who} asks for {n} document outside the standard: {names}",
                                       "{who} asks for {n} documents outside the standard: {names}",
                                       len(outside), who=who,
                                       names=_per_lang(lambda lang: words.word(", ", lang).join(
                                           d.get("name") or d.get("code") or "?" for d in outside))))
    limit, unit = standard_limit(item)
    if limit is not None:
        committed = committed_days(impl)
        if committed is None:
            out.append(_difference("committed_limit", "standard",
                                   "{who} commits no time limit where the standard is {standard}",
                                   who=who, standard=_limit_words(limit, unit)))
        elif committed > rules.calendar_days(limit, unit):
            out.append(_difference("committed_limit", "standard",
                                   "{who} commits {limit} where the standard is {standard}",
                                   who=who, standard=_limit_words(limit, unit),
                                   limit=_limit_words(impl["committed_limit"], impl.get("committed_limit_unit"))))
    visits = item.get("standard_visits")
    if visits is not None:
        asked = impl.get("in_person_visits")
        if asked is None:
            out.append(_difference("in_person_visits", "standard",
                                   "{who} does not say how many visits it asks for; the standard is {standard}",
                                   who=who, standard=_visit_words(visits)))
        elif asked > visits:
            out.append(_difference("in_person_visits", "standard",
                                   "{who} asks for {visits} where the standard is {standard}",
                                   who=who, visits=_visit_words(asked), standard=_visit_words(visits)))
    return out


def _best_other(impl: Mapping[str, Any], impls: Sequence[Mapping[str, Any]], value_of,
                top: Any) -> dict[str, str] | None:
    """Whom to compare with: None when every other implementation stating a value
    has the best ("others"), else the who of the first other that has it."""
    others = [i for i in impls if i["name"] != impl["name"] and value_of(i) is not None]
    if all(value_of(i) == top for i in others):
        return None
    return next(i["who"] for i in others if value_of(i) == top)


def against_best(impl: Mapping[str, Any], impls: Sequence[Mapping[str, Any]],
                 top: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Where the implementation is worse than the best of the others."""
    if len(impls) < 2:
        return []
    who = impl["who"]
    values = {name: value_of for name, value_of, _ in BEST_ON}
    out = []

    def compare(field: str, worse) -> tuple[Any, dict[str, str] | None] | None:
        mine, best_value = values[field](impl), top[field]["value"]
        if mine is None or best_value is None or not worse(mine, best_value):
            return None
        return mine, _best_other(impl, impls, values[field], best_value)

    found = compare("documents_to_bring", lambda mine, b: mine > b)
    if found:
        mine, other = found
        extra = mine - top["documents_to_bring"]["value"]
        out.append(_counted_difference("documents", "best",
                                       "{who} asks citizens to bring {n} more document than {best}",
                                       "{who} asks citizens to bring {n} more documents than {best}",
                                       extra, who=who, best=other or _both("the others", {})))
    found = compare("committed_limit", lambda mine, b: mine > b)
    if found:
        _, other = found
        holder = next(i for i in impls if committed_days(i) == top["committed_limit"]["value"])
        best_limit = _limit_words(holder["committed_limit"], holder.get("committed_limit_unit"))
        limit = _limit_words(impl["committed_limit"], impl.get("committed_limit_unit"))
        if other is None:
            out.append(_difference("committed_limit", "best", "{who} commits {limit} where others commit {best}",
                                   who=who, limit=limit, best=best_limit))
        else:
            out.append(_difference("committed_limit", "best", "{who} commits {limit} where {other} commits {best}",
                                   who=who, limit=limit, other=other, best=best_limit))
    found = compare("in_person_visits", lambda mine, b: mine > b)
    if found:
        mine, other = found
        visits, best_visits = _visit_words(mine), _visit_words(top["in_person_visits"]["value"])
        if other is None:
            out.append(_difference("in_person_visits", "best", "{who} asks for {visits} where others ask for {best}",
                                   who=who, visits=visits, best=best_visits))
        else:
            out.append(_difference("in_person_visits", "best", "{who} asks for {visits} where {other} asks for {best}",
                                   who=who, visits=visits, other=other, best=best_visits))
    found = compare("fees", lambda mine, b: mine > b)
    if found:
        _, other = found
        if other is None:
            out.append(_difference("fees", "best", "{who} charges a fee where others are free", who=who))
        else:
            out.append(_difference("fees", "best", "{who} charges a fee where {other} is free",
                                   who=who, other=other))
    found = compare("online_depth", lambda mine, b: mine < b)
    if found:
        mine, other = found
        stages = dict(n=mine, total=len(rules.ONLINE_STAGES), best=top["online_depth"]["value"])
        if other is None:
            out.append(_difference("online_depth", "best",
                                   "{who} offers {n} of {total} stages online where others offer {best}",
                                   who=who, **stages))
        else:
            out.append(_difference("online_depth", "best",
                                   "{who} offers {n} of {total} stages online where {other} offers {best}",
                                   who=who, other=other, **stages))
    out.extend(_missing_channels(impl, impls))
    return out


def _missing_channels(impl: Mapping[str, Any], impls: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The channel types every other implementation offers and this one does not."""
    others = [set(i.get("channel_types") or []) for i in impls if i["name"] != impl["name"]]
    if not others:
        return []
    common = set.intersection(*others) - set(impl.get("channel_types") or [])
    channel_type = schema.subfield("channels", "channel_type")
    return [_difference("channels", "best", "{who} offers no {channel} channel where others do",
                        who=impl["who"], channel=_per_lang(lambda lang: schema.choice_label(channel_type, kind, lang)))
            for kind in sorted(common, key=_channel_order())]


def _channel_order():
    order = [c["value"] for c in schema.choices(schema.subfield("channels", "channel_type"))]
    return lambda kind: order.index(kind) if kind in order else len(order)


# ---------------------------------------------------------------- the comparison

def compare(item: Mapping[str, Any], impls: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Each implementation with ``committed_days``, ``matches_standard`` and its
    ``differences`` (against the standard, then the best), and ``best``: for each
    dimension the best value and the names of the implementations reaching it."""
    top = best(impls)
    out = []
    for impl in impls:
        out.append({**impl, "committed_days": committed_days(impl),
                    "matches_standard": matches_standard(impl, item),
                    "differences": against_standard(impl, item) + against_best(impl, impls, top)})
    return {"implementations": out, "best": top}


# ---------------------------------------------------------------- the standardisation score

def standardisation(matched: Iterable[tuple[str, Mapping[str, bool]]]) -> dict[str, dict[str, Any]]:
    """{department: {"score", "matching", "implementations"}} from (department,
    matches_standard) pairs, one per implementation of a basic item: the share of
    its implementations that match on documents, limit and visits, to 3 places."""
    counts: dict[str, list[int]] = {}
    for department, m in matched:
        tally = counts.setdefault(department, [0, 0])
        tally[0] += matches_all(m)
        tally[1] += 1
    return {d: {"score": round(m / n, 3), "matching": m, "implementations": n}
            for d, (m, n) in counts.items()}
