"""What a service puts into Solr beyond CKAN's defaults: typed facet fields,
and its repeating subfields flattened into searchable text."""
from __future__ import annotations

import functools
import json
import logging
import re
import time
from typing import Any, Iterable

import requests

import ckan.plugins.toolkit as tk
from ckan.lib.search.common import SearchQueryError

from .core import schema
from .core.synonyms import RESOURCE as SYNONYM_RESOURCE

log = logging.getLogger(__name__)


def _labels(f: dict[str, Any], values: list[str]) -> list[str]:
    """A vocabulary's codes as the words people search with, in both languages."""
    return [schema.choice_label(f, v, lang) for v in values for lang in schema.LANGUAGES]


def _text_of(rows: list[dict[str, Any]], f: dict[str, Any]) -> str:
    """The human words of a repeating field (names, addresses, channel kinds),
    not its codes, flags or links."""
    words = []
    for sub in f["repeating_subfields"]:
        values = [r[sub["field_name"]] for r in rows if r.get(sub["field_name"]) not in (None, "")]
        if sub.get("govservice_vocabulary"):
            words += _labels(sub, values)
        elif sub.get("choices") or "url" in sub["field_name"]:
            continue
        else:
            words += [str(v) for v in values]
    return " ".join(words)


def service_index_fields(service: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(fields to add to the Solr document, keys to drop from it) for a validated service."""
    add: dict[str, Any] = {}
    drop: list[str] = []
    facets = schema.facet_fields()
    for f in schema.service_fields():
        name = f["field_name"]
        value = service.get(name)
        if f.get("repeating_subfields"):
            rows = value if isinstance(value, list) else []
            # CKAN would index the JSON itself, keys and all; index the words instead.
            drop.append(name)
            add[f"extras_{name}"] = _text_of(rows, f)
            vocab = schema.vocabulary_field(f)
            if name in facets and vocab:
                add[facets[name]] = sorted({r[vocab["field_name"]] for r in rows
                                            if r.get(vocab["field_name"])})
            continue
        if isinstance(value, str) and value.startswith("["):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        if isinstance(value, list):
            drop.append(name)   # CKAN's catch-all field holds one value only
        if f.get("govservice_vocabulary") and value not in (None, "", []):
            add[f"extras_{name}"] = " ".join(_labels(f, value if isinstance(value, list) else [value]))
        if name in facets and name != "owner_org" and value not in (None, "", []):
            add[facets[name]] = value
    return add, drop


def performance_index_fields(performance: dict[str, Any] | None) -> dict[str, Any]:
    """The latest 12 months' KPIs as sortable, filterable Solr fields (absent = no data):
    the KPIs kpis.yaml flags ``summary``, named by ``schema.performance_solr_fields``."""
    out: dict[str, Any] = {}
    for kpi, solr_field in schema.performance_solr_fields().items():
        value = (performance or {}).get(kpi)
        if value is not None:
            out[solr_field] = int(value) if solr_field.endswith("_i") else float(value)
    return out


# ---------------------------------------------------------------------------
# Service search (issue 15): what a service is found by, and how a citizen's
# query is put to Solr. The scoring is described in the README ("How service
# search ranks"); the pure parts are in core/search_query.py and core/synonyms.py.
# ---------------------------------------------------------------------------

# Solr fields (patched into CKAN's schema by stack/solr/patch_schema.py) and the
# weight of a match in each. Title and output name above everything else.
QUERY_FIELDS = {
    "govservice_zh_title": 10, "govservice_en_title": 10,
    "govservice_zh_output": 6,
    "govservice_pinyin_full": 5, "govservice_pinyin_initials": 3,
    "govservice_zh_labels": 4,      # its type, themes and life events (出生一件事…)
    "govservice_zh_text": 1, "govservice_en_text": 1,
}
WEIGHT_FIELD = "govservice_weight_f"
SUGGEST_WEIGHT_FIELD = "govservice_suggest_weight_i"   # the suggester reads whole numbers
SUGGEST_FIELD = "govservice_suggest"
# CKAN's own minimum-match rule (all words up to 2, all but one up to 5, then 80%),
# and any one clause for a question whose question words were taken out.
MM_WORDS = "2<-1 5<80%"
MM_QUESTION = "1"
MM_RELAXED = "1<50%"
SYNONYMS_TTL = 60.0          # seconds the indexer keeps the managed map
_synonyms_cache: dict[str, Any] = {"at": 0.0, "map": {}}


def _english(values: list[Any]) -> list[str]:
    return [str(v) for v in values if v not in (None, "")]


def _names(rows: Any, key: str) -> list[str]:
    return [str(r[key]) for r in rows if isinstance(r, dict) and r.get(key)] if isinstance(rows, list) else []


def _vocab_labels(service: dict[str, Any], name: str, lang: str) -> list[str]:
    f = schema.field(name)
    value = service.get(name)
    values = value if isinstance(value, list) else [value] if value else []
    return [schema.choice_label(f, v, lang) for v in values]


def matching_synonyms(phrases: list[str], managed: dict[str, list[str]]) -> list[str]:
    """The synonyms (as people write them) of every managed-map term that
    occurs in one of ``phrases``: 房产证 for a service whose output is 不动产权证书."""
    from .core import synonyms as core_synonyms
    text = " ".join(core_synonyms.token_form(p) for p in phrases if p)
    padded = f" {text} "
    out: list[str] = []
    for key, finds in managed.items():
        if f" {key} " in padded:
            out += [core_synonyms.display_form(s) for s in finds if s != key]
    return sorted(set(out))


@functools.lru_cache(maxsize=20000)
def _pinyin_tokens(phrases: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """core.search_query.pinyin_tokens, kept for the phrases last seen: a province's
    implementations of one basic item share their title, so a rebuild converts
    each title to pinyin once, not once per department."""
    from .core import search_query
    return search_query.pinyin_tokens(phrases)


def service_search_fields(service: dict[str, Any], managed: dict[str, list[str]],
                          today: str) -> dict[str, Any]:
    """The govservice_* Solr fields of a validated service: its words in Chinese
    and English by weight class, pinyin of its title, output name and their
    synonyms, the suggester's entries and its ranking weight."""
    from .core import search_query
    title, output = service.get("title") or "", service.get("output_name") or ""
    docs = service.get("documents")
    zh_labels = [x for n in ("service_type", "themes", "life_events") for x in _vocab_labels(service, n, "zh_Hans_CN")]
    # English labels stay out of the English text: "Business" and "Administrative
    # licence" on every business licence would let "business licence" match them all.
    en_events = _vocab_labels(service, "life_events", "en")
    synonyms = matching_synonyms([title, output], managed)
    full, initials = _pinyin_tokens(tuple([title, output] + synonyms))
    weight = search_query.ranking_weight(title, service.get("status"), service.get("valid_to"), today)
    return {
        "govservice_zh_title": [title],
        "govservice_zh_output": _english([output]),
        # and every other word CKAN's catch-all text holds of it (channels, steps, labels
        # in both languages): matched as phrases, so English labels do no harm here
        "govservice_zh_labels": zh_labels,
        "govservice_zh_text": _english([service.get("notes")] + _names(docs, "name") + [
            v for k, v in service_index_fields(service)[0].items() if k.startswith("extras_") and isinstance(v, str)]),
        "govservice_en_title": _english([service.get("title_en")]),
        "govservice_en_text": _english([service.get("notes_en")] + _names(docs, "name_en") + en_events),
        "govservice_pinyin_full": [" ".join(full)],
        "govservice_pinyin_initials": [" ".join(initials)],
        SUGGEST_FIELD: _english([title, output]) + [s for s in synonyms if search_query._HAN_RE.search(s)],
        "govservice_spell": _english([service.get("title_en"), service.get("notes_en")] + en_events),
        WEIGHT_FIELD: weight,
        SUGGEST_WEIGHT_FIELD: round(weight * 100),
    }


def _solr_base() -> str:
    return tk.config["solr_url"].rstrip("/")


def managed_synonyms(force: bool = False) -> dict[str, list[str]]:
    """Solr's managed synonym map (shipped dictionary and runtime entries), in
    token form; kept SYNONYMS_TTL seconds. Empty, with a warning, when Solr
    cannot say (indexing goes on without synonyms' pinyin)."""
    now = time.monotonic()
    if not force and now - _synonyms_cache["at"] < SYNONYMS_TTL:
        return _synonyms_cache["map"]
    try:
        r = requests.get(f"{_solr_base()}/schema/analysis/synonyms/{SYNONYM_RESOURCE}", params={"wt": "json"}, timeout=10)
        r.raise_for_status()
        found = r.json()["synonymMappings"]["managedMap"]
    except (requests.RequestException, ValueError, KeyError) as e:
        log.warning("service search: Solr's synonym map %r could not be read (%s); indexing without it",
                    SYNONYM_RESOURCE, e)
        found = _synonyms_cache["map"]
    _synonyms_cache.update(at=now, map=found)
    return found


def is_service_search(params: dict[str, Any]) -> bool:
    fq = " ".join([params.get("fq") or ""] + list(params.get("fq_list") or []))
    return "dataset_type:service" in fq


def _fielded(q: str) -> bool:
    """A query in Solr's own syntax (``name:…``), as API clients write them:
    left to CKAN's query parser, unchanged."""
    return bool(re.search(r"(^|[\s(+\-])[A-Za-z_][\w.]*:\S", q))


# Where a misspelt Latin word is looked for (relaxed searches): English words in
# the English fields, run-together pinyin in the pinyin field. A fuzzy term is
# costly in every field it is asked of (Solr walks the field's terms within the
# edit distance), so never in the Chinese fields, which hold no such words.
FUZZY_WORD_FIELDS = ("govservice_en_title", "govservice_en_text")
FUZZY_LETTERS_FIELDS = FUZZY_WORD_FIELDS + ("govservice_pinyin_full",)


def _fuzzy(word: str, fields: tuple[str, ...]) -> str:
    """``word`` within 1 edit (up to 4 letters) or 2 (longer) in ``fields``,
    each with its weight in QUERY_FIELDS."""
    distance = 1 if len(word) < 5 else 2
    return "(" + " OR ".join(f"{f}:{word}~{distance}^{QUERY_FIELDS[f]}" for f in fields) + ")"


PINYIN_FIELDS = ("govservice_pinyin_full", "govservice_pinyin_initials")


def _in_pinyin(letters: str) -> str:
    """A Chinese query's pinyin (jiehundengji for 结昏登记), looked for in the
    pinyin fields only, with their weights: no other field holds such words,
    and each field asked costs Solr a lookup. Empty for no letters."""
    if not letters:
        return ""
    return "(" + " OR ".join(f"{f}:{letters}^{QUERY_FIELDS[f]}" for f in PINYIN_FIELDS) + ")"


@functools.lru_cache(maxsize=20000)
def _sounds_of(term: str) -> tuple[str, str]:
    """(full pinyin, initials) of a Chinese term: 乘车优待 -> (chengcheyoudai, ccyd)."""
    from pypinyin import lazy_pinyin

    from .core import search_query
    han = "".join(search_query._HAN_RE.findall(term))
    return search_query.query_pinyin(term), "".join(s[0] for s in lazy_pinyin(han) if s)


_of_the_map: dict[str, tuple[Any, Any]] = {}


def _from_the_map(name: str, build: Any) -> Any:
    """``build(managed map)``, kept until the map is read again (managed_synonyms)."""
    managed = managed_synonyms()
    read, value = _of_the_map.get(name, (None, None))
    if read is not managed:
        value = build(managed)
        _of_the_map[name] = (managed, value)
    return value


def synonym_sounds() -> dict[str, list[str]]:
    """The synonym map's Chinese terms by their pinyin and initials
    (laorenchengcheyoudai, lrccyd -> 老人乘车优待). A query in pinyin also
    searches the terms it spells, so a term added at runtime is found by its
    pinyin at once: the services it finds hold in their own pinyin fields only
    the synonyms known when they were indexed. Each term is converted once per process."""
    def build(managed: dict[str, list[str]]) -> dict[str, list[str]]:
        from .core import search_query
        from .core import synonyms as core_synonyms
        terms: dict[str, list[str]] = {}
        for key in managed:
            term = core_synonyms.display_form(key)
            if " " in term or not search_query._HAN_RE.search(term):
                continue
            for letters in set(_sounds_of(term)):
                if len(letters) >= 3:
                    terms.setdefault(letters, []).append(term)
        return terms
    return _from_the_map("sounds", build)


def synonym_lexicon() -> frozenset[str]:
    """The synonym map's terms as people write them (驾照, 公积金): the words a
    relaxed search cuts a Chinese query into (not made anew on every relaxed search)."""
    from .core import synonyms as core_synonyms
    return _from_the_map("lexicon", lambda managed: frozenset(core_synonyms.display_form(k) for k in managed))


def service_query(q: str, relaxed: bool = False, lexicon: frozenset[str] = frozenset(),
                  respelt: str | None = None,
                  sounds: dict[str, list[str]] | None = None) -> tuple[str, str] | None:
    """(Solr q, mm) for a citizen's query, or None when nothing searchable is
    left. Each clause of the parsed query is one parenthesised group (its words
    all required), so Han pieces stay phrases of their own; a Han clause may also match by its pinyin
    (homophones: 结昏登记 -> jiehundengji). ``relaxed`` (asked when the exact
    query found nothing): Han clauses are cut into the ``lexicon``'s words and
    every pair of characters, half of which must match; Latin words may be misspelt
    (pasport -> passport, yingyezhizao -> yingyezhizhao), and ``respelt`` (the
    spell checker's "did you mean") is one more clause. A Latin clause that
    spells a synonym term in pinyin (``sounds``: synonym_sounds) also
    searches that term."""
    from .core import search_query
    parsed = search_query.parse(q)
    if not parsed.clauses:
        return None
    groups = []
    for clause in parsed.clauses:
        letters = search_query.query_pinyin(clause)
        if relaxed and not parsed.is_latin:
            for piece in search_query.segment(clause, lexicon):
                alternatives = [piece, _in_pinyin(search_query.query_pinyin(piece))]
                groups.append("(" + " OR ".join(a for a in dict.fromkeys(alternatives) if a) + ")")
            continue
        alternatives = [clause]
        if not parsed.is_latin and letters:
            alternatives.append(_in_pinyin(letters))
        spelt = sounds.get(letters, [])[:5] if parsed.is_latin and sounds else []
        if spelt:   # lao ren … as one group: q.op=AND would otherwise bind its words to the OR
            alternatives = [f"({clause})" if " " in clause else clause] + spelt
        if relaxed:
            if len(letters) >= 5:
                alternatives.append(_fuzzy(letters, FUZZY_LETTERS_FIELDS))
            words = clause.lower().split()
            if len(words) > 1:
                alternatives.append("(" + " ".join(_fuzzy(w, FUZZY_WORD_FIELDS) if len(w) >= 4 else w
                                                   for w in words) + ")")
        groups.append("(" + " OR ".join(dict.fromkeys(alternatives)) + ")")
    if relaxed and respelt:
        groups.append("(" + search_query.clean(respelt) + ")")
    if relaxed:
        mm = MM_RELAXED
    else:
        mm = MM_QUESTION if parsed.question else MM_WORDS
    # Clauses joined by OR: CKAN sends q.op=AND, which would make every clause
    # required; with explicit ORs Solr's mm decides how many must match.
    return " OR ".join(groups), mm


def service_search_params(params: dict[str, Any], relaxed: bool = False) -> dict[str, Any]:
    """package_search's parameters for a service search, turned into the
    platform's edismax query (see the README): field weights, the service's
    ranking weight, withdrawn services left out unless the filter asks for a
    status. Fielded queries and non-service searches are left as they are."""
    if not tk.config.get("ckanext.govservice.search.tuned") or not is_service_search(params):
        return params
    q = params.get("q") or ""
    if not q.strip() or q.strip() in ("*:*", '""', "''"):
        return params        # listings (browse pages, counts, bulk files) keep every status
    if _fielded(q):
        # Solr's own syntax, as API clients write it: CKAN's parser, but a query
        # Solr would fail on is the caller's mistake (400), not a server error.
        if "{!" in q or q.count('"') % 2:
            raise SearchQueryError("q: local parameters ({!…}) and unbalanced quotes are not accepted")
        return params
    if "status_ss:" not in (params.get("fq") or ""):   # withdrawn services only when asked for
        params["fq"] = (params.get("fq") or "") + " -status_ss:withdrawn"
    relaxed = relaxed or bool((params.get("extras") or {}).get("ext_govservice_relaxed"))
    if relaxed:
        lexicon = synonym_lexicon()
        from .core import search_query
        # Latin only: a Chinese query's pieces are searched by their pinyin already
        respelt = did_you_mean(q) if search_query.parse(q).is_latin else None
        composed = service_query(q, True, lexicon, respelt, synonym_sounds())
    else:
        composed = service_query(q, sounds=synonym_sounds())
    if composed is None:        # only punctuation or Solr syntax: every service, as for no query
        params["q"] = ""
        return params
    params["q"], params["mm"] = composed
    params["defType"] = "edismax"
    params["qf"] = " ".join(f"{f}^{w}" for f, w in QUERY_FIELDS.items())
    params["tie"] = "0.1"
    params["boost"] = f"def({WEIGHT_FIELD},1)"
    params.setdefault("extras", {})["ext_govservice_query"] = q
    return params


def relax_when_nothing_found(results: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A service search that found nothing is asked once more, relaxed (see
    service_query), and the answer says so (``govservice_relaxed``: true), so
    pages can tell "showing results for similar words". Only then: an exact
    query that finds something costs one search, and one that finds nothing
    is cheap (no rows, no facets) before the relaxed one."""
    extras = params.get("extras") or {}
    q = extras.get("ext_govservice_query")
    if results.get("count") or not q or extras.get("ext_govservice_relaxed"):
        return results
    # CKAN's query has by now turned fq into a list: the caller's first, then its own filters.
    given = params.get("fq") or ""
    given = given[0] if isinstance(given, list) else given
    fq = " ".join(part for part in given.split(" ")
                  if not part.startswith(("+site_id:", "+state:", "+capacity:", "+permission_labels:")))
    user = tk.current_user.name if tk.current_user and tk.current_user.is_authenticated else None
    relaxed = tk.get_action("package_search")({"user": user}, {
        "q": q, "fq": fq, "rows": max(0, int(params.get("rows", 11)) - 1), "start": params.get("start", 0),
        "sort": params.get("sort"), "facet.field": params.get("facet.field") or [],
        "include_private": "+capacity:public" not in given, "ext_govservice_relaxed": "1"})
    if not relaxed["count"]:
        return results
    relaxed["govservice_relaxed"] = True
    return relaxed


_session = requests.Session()     # kept alive between the module's own calls to Solr


def reindex(package_ids: Iterable[str], why: str) -> int:
    """Put these datasets into Solr again, one by one (a background job's work
    after what they derive from changed); a failure is logged with ``why``
    and the others go on. Returns how many were reindexed."""
    from ckan.lib.search import rebuild
    done = 0
    for package_id in package_ids:
        try:
            rebuild(package_id)
            done += 1
        except Exception:
            log.exception("could not reindex service %s (%s)", package_id, why)
    return done


# ---- runtime synonyms: Solr's managed map, changed through its REST API ----

def _managed_url(key: str | None = None) -> str:
    url = f"{_solr_base()}/schema/analysis/synonyms/{SYNONYM_RESOURCE}"
    return url if key is None else f"{url}/{requests.utils.quote(key, safe='')}"


def _reload_core() -> None:
    """Reload the core (or, in SolrCloud, the collection) so the query
    analysers read the changed map: a searcher swap, no restart, no re-index."""
    base, _, core = _solr_base().rpartition("/")
    r = _session.get(f"{base}/admin/cores", params={"action": "RELOAD", "core": core, "wt": "json"}, timeout=60)
    if r.status_code != 200:
        r = _session.get(f"{base}/admin/collections", params={"action": "RELOAD", "name": core, "wt": "json"},
                         timeout=120)
    r.raise_for_status()


def put_synonym(key: str, finds: list[str]) -> None:
    """Map ``key`` (token form) to itself and ``finds`` in Solr, replacing what
    it mapped to before, effective at once."""
    gone = _session.delete(_managed_url(key), timeout=30)     # PUT would add to the old mapping
    if gone.status_code != 404:
        gone.raise_for_status()
    r = _session.put(_managed_url(), json={key: [key] + [f for f in finds if f != key]}, timeout=30)
    r.raise_for_status()
    _reload_core()
    _synonyms_cache["at"] = 0.0


def delete_synonym(key: str) -> None:
    """Remove ``key`` (token form) from Solr's map, effective at once; gone already is fine."""
    r = _session.delete(_managed_url(key), timeout=30)
    if r.status_code != 404:
        r.raise_for_status()
    _reload_core()
    _synonyms_cache["at"] = 0.0


def restore_synonyms(entries: list[dict[str, Any]]) -> int:
    """Put back into Solr's map the runtime entries it lost or holds otherwise
    (a Solr home made anew, a node replaced: the entries live on in CKAN's
    system_info); one reload for all. Returns how many were put back."""
    from .core import synonyms as core_synonyms
    current = managed_synonyms(force=True)
    restored = 0
    for entry in entries:
        key = core_synonyms.token_form(entry.get("term") or "")
        finds = [core_synonyms.token_form(s) for s in entry.get("synonyms") or []]
        wanted = [key] + [f for f in finds if f and f != key]
        if not key or set(current.get(key) or ()) == set(wanted):
            continue
        if key in current:        # PUT would add to the old mapping
            gone = _session.delete(_managed_url(key), timeout=30)
            if gone.status_code != 404:
                gone.raise_for_status()
        _session.put(_managed_url(), json={key: wanted}, timeout=30).raise_for_status()
        restored += 1
    if restored:
        _reload_core()
        _synonyms_cache["at"] = 0.0
        log.warning("put %d runtime synonym entries back into Solr's map", restored)
    return restored


# ---- typing help: suggestions and "did you mean" ------------------------------

SUGGEST_REBUILD_AFTER = 300.0     # seconds; the suggester is not rebuilt on every commit
_suggest_built: dict[str, float] = {}


def suggestions_out_of_date() -> None:
    """Have the next suggestion request rebuild the suggester's dictionary (it is
    otherwise rebuilt at most every SUGGEST_REBUILD_AFTER seconds per process),
    as after a load whose services should be suggested at once."""
    _suggest_built.pop(tk.config.get("ckan.site_id"), None)


def suggestions(prefix: str, limit: int = 8) -> list[str]:
    """Service titles, output names and synonyms holding what was typed
    (Solr's AnalyzingInfix suggester, this site's services only), best-weighted
    first, without repeats."""
    from .core import search_query
    text = search_query.clean(prefix)
    if not text:
        return []
    site = tk.config.get("ckan.site_id")
    params = {"suggest.q": text, "suggest.cfq": site, "suggest.count": max(limit * 3, 10), "wt": "json"}
    now = time.monotonic()
    if now - _suggest_built.get(site, -SUGGEST_REBUILD_AFTER - 1) > SUGGEST_REBUILD_AFTER:
        params["suggest.build"] = "true"
        _suggest_built[site] = now
    r = _session.get(f"{_solr_base()}/govservice_suggest", params=params, timeout=30)
    r.raise_for_status()
    found = r.json()["suggest"]["services"][text]["suggestions"]
    return list(dict.fromkeys(s["term"] for s in found))[:limit]


def did_you_mean(q: str) -> str | None:
    """A respelling of the query, or None: a Latin query from the words
    services are described with (Solr's spell checker: unemploymant benefit ->
    unemployment benefit), a Chinese one from the titles, output names and
    synonyms that sound like it (营业执招 -> 营业执照, see _respelt_by_sound)."""
    from .core import search_query
    parsed = search_query.parse(q)
    if not parsed.text:
        return None
    if not parsed.is_latin:
        return _respelt_by_sound(parsed)
    try:
        r = _session.get(f"{_solr_base()}/govservice_spell", timeout=10, params={
            "q": parsed.text, "fq": f'+site_id:"{tk.config.get("ckan.site_id")}"', "wt": "json"})
        r.raise_for_status()
        collations = r.json().get("spellcheck", {}).get("collations", [])
    except (requests.RequestException, ValueError) as e:
        log.warning("service search: spell check of %r failed (%s)", q, e)
        return None
    # Solr's flat named list: ["collation", "<respelt query>", "collation", ...]
    for name, value in zip(collations[::2], collations[1::2]):
        text = value.get("collationQuery") if isinstance(value, dict) else value
        if name == "collation" and isinstance(text, str) and text.lower() != parsed.text.lower():
            return text
    return None


def _respelt_by_sound(parsed: Any) -> str | None:
    """A Chinese query with each stretch of Han characters that is written in no
    service but sounds like words of one (the services its pinyin finds, in
    their govservice_pinyin_full field) replaced by those words: 身分证 -> 身份证.
    None when nothing changed or Solr cannot say."""
    from .core import search_query
    text = parsed.text
    for clause in dict.fromkeys(parsed.clauses):
        for stretch in re.findall(f"[{search_query._HAN}]{{2,}}", clause):
            letters = search_query.query_pinyin(stretch)
            if not letters:
                continue
            try:
                r = _session.get(f"{_solr_base()}/select", timeout=10, params={
                    "q": f"govservice_pinyin_full:{letters}", "defType": "lucene", "rows": 5, "wt": "json",
                    "fl": f"title,{SUGGEST_FIELD}",
                    "fq": [f'+site_id:"{tk.config.get("ckan.site_id")}"', "+dataset_type:service",
                           "+capacity:public", "+state:active"]})
                r.raise_for_status()
                docs = r.json()["response"]["docs"]
            except (requests.RequestException, ValueError, KeyError) as e:
                log.warning("service search: respelling %r by its sound failed (%s)", stretch, e)
                return None
            phrases = [d.get("title") or "" for d in docs] + [s for d in docs for s in d.get(SUGGEST_FIELD) or []]
            better = search_query.homophone_respelling(stretch, phrases)
            if better:
                text = text.replace(stretch, better)
    return text if text != parsed.text else None
