"""Synonyms for service search: citizens' words <-> the platform's official names.

Plain functions over plain data (no CKAN, no Solr client): the shipped
dictionary's format, the checks a runtime entry must pass, and the managed map
Solr applies at query time (``ManagedSynonymGraphFilterFactory``, resource
``govservice``).

A *term* is what someone types; its *synonyms* are what it should also find.
In the managed map every term maps to itself and its synonyms, written in the
analysers' token form (:func:`token_form`): Han characters one by one, Latin
words lower-cased, punctuation dropped, all separated by single spaces, which is
how the ``govservice_zh``/``govservice_en`` query analysers cut the query.

Also runnable, with the standard library only, by stack/solr/prepare-home.sh::

    python3 synonyms.py seed DICTIONARY.txt MANAGED.json

writes Solr's managed-resource file from the shipped dictionary, keeping every
entry already in MANAGED.json (those added at runtime).
"""
from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import unicodedata
from dataclasses import dataclass

RESOURCE = "govservice"
SHIPPED_FILE = "_govservice_synonyms_shipped.json"
MAX_TERM_CHARS = 60
MAX_SYNONYMS = 20

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_HAN}]|[^\W_{_HAN}]+(?:'[^\W_{_HAN}]+)*")


class SynonymError(ValueError):
    """An entry refused, with the reason: ``field`` is "term" or "synonyms"."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Group:
    """One line of the dictionary: ``terms`` find ``targets`` (equivalent when
    ``targets`` is None: every term finds every other)."""
    terms: tuple[str, ...]
    targets: tuple[str, ...] | None
    line: int


def tokens(text: str) -> list[str]:
    """The words of ``text`` as the query analysers see them: each Han character
    alone, Latin/digit words (apostrophes kept inside: driver's) lower-cased;
    full-width forms folded (NFKC), punctuation and spaces dropped."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).lower())


def token_form(text: str) -> str:
    """``text`` as one managed-map key: its :func:`tokens` joined by spaces."""
    return " ".join(tokens(text))


def display_form(key: str) -> str:
    """A managed-map key back as people write it (lower-cased): the spaces
    next to Han characters removed, those between Latin words kept."""
    return re.sub(rf"(?<=[{_HAN}]) | (?=[{_HAN}])", "", key)


def parse_dictionary(text: str) -> list[Group]:
    """The shipped dictionary's groups (Solr's synonyms format: ``a, b, c`` or
    ``a, b => c, d``; ``#`` comments). A malformed line raises SynonymError
    naming its line."""
    groups = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        left, arrow, right = line.partition("=>")
        terms = tuple(t.strip() for t in left.split(",") if t.strip())
        targets = tuple(t.strip() for t in right.split(",") if t.strip()) if arrow else None
        if not terms or (arrow and not targets) or any(not tokens(t) for t in terms + (targets or ())):
            raise SynonymError("line", f"line {n}: {raw.strip()!r} is not 'a, b, c' or 'a, b => c'")
        groups.append(Group(terms, targets, n))
    return groups


def managed_map(groups: list[Group]) -> dict[str, list[str]]:
    """{term: [itself and everything it finds]} in token form, terms that
    appear in several groups finding the union."""
    out: dict[str, set[str]] = {}
    for g in groups:
        finds = [token_form(t) for t in (g.targets if g.targets is not None else g.terms)]
        for term in map(token_form, g.terms):
            out.setdefault(term, {term}).update(finds)
    return {k: sorted(v) for k, v in sorted(out.items())}


def _reaches(graph: dict[str, list[str]], start: str, goal: str) -> bool:
    seen, todo = {start}, [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def _word(text: object, field: str, empty: str) -> str:
    """``text`` in token form, or SynonymError: empty, too long or no word in it."""
    if not isinstance(text, str) or not text.strip():
        raise SynonymError(field, empty)
    if len(text) > MAX_TERM_CHARS:
        raise SynonymError(field, f"{text[:20]!r} is longer than {MAX_TERM_CHARS} characters")
    form = token_form(text)
    if not form:
        raise SynonymError(field, f"{text!r} has no letters, digits or Chinese characters")
    return form


def check_entry(term: str, synonyms: list[str], current: dict[str, list[str]]) -> tuple[str, list[str]]:
    """(term, synonyms) in token form, or SynonymError naming the field and why:
    empty, too long, a word mapped to itself, or a loop (a synonym that already
    leads back to the term through ``current``, the managed map in token form;
    equivalent words of a shipped group count as leading to each other)."""
    key = _word(term, "term", "is empty")
    if not isinstance(synonyms, list) or not [s for s in synonyms if isinstance(s, str) and s.strip()]:
        raise SynonymError("synonyms", "is empty: give at least one word the term should also find")
    if len(synonyms) > MAX_SYNONYMS:
        raise SynonymError("synonyms", f"has more than {MAX_SYNONYMS} entries")
    graph = {k: [v for v in vs if v != k] for k, vs in current.items() if k != key}
    out: list[str] = []
    for s in synonyms:
        form = _word(s, "synonyms", "holds an empty entry")
        if form == key:
            raise SynonymError("synonyms", f"{s!r} is the term itself: a word cannot be its own synonym")
        if _reaches(graph, form, key):
            raise SynonymError("synonyms", f"{s!r} already leads back to {term!r}: the entry would loop")
        if form not in out:
            out.append(form)
    return key, out


def seed(dictionary_path: str, json_path: str) -> bool:
    """Write Solr's managed-resource file for the ``govservice`` map: the
    shipped dictionary merged into what the file already holds. Entries added
    at runtime are kept; what an earlier dictionary shipped and this one no
    longer does is taken out (the shipped map is remembered beside the file, in
    SHIPPED_FILE). True when the file changed."""
    with open(dictionary_path, encoding="utf-8") as f:
        shipped = managed_map(parse_dictionary(f.read()))
    old = _read_json(json_path)
    shipped_path = os.path.join(os.path.dirname(os.path.abspath(json_path)), SHIPPED_FILE)
    before = _read_json(shipped_path)
    merged = {k: set(v) for k, v in (old.get("managedMap") or {}).items()}
    for k, v in before.items():
        if k in merged:
            merged[k] -= set(v) - {k}
            if merged[k] <= {k}:
                del merged[k]
    for k, v in shipped.items():
        merged.setdefault(k, set()).update(v)
    doc = {"initArgs": {"ignoreCase": True, "format": "solr"},
           "managedMap": {k: sorted(v) for k, v in sorted(merged.items())}}
    _write_json(shipped_path, shipped)
    if old.get("managedMap") == doc["managedMap"] and old.get("initArgs") == doc["initArgs"]:
        return False
    _write_json(json_path, doc)
    return True


def _read_json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def _write_json(path: str, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".synonyms.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


if __name__ == "__main__":  # pragma: no cover - run by prepare-home.sh
    if len(sys.argv) != 4 or sys.argv[1] != "seed":
        print(f"usage: {sys.argv[0]} seed DICTIONARY.txt MANAGED.json", file=sys.stderr)
        sys.exit(2)
    try:
        seed(sys.argv[2], sys.argv[3])
    except SynonymError as e:
        print(f"error: {sys.argv[2]}: {e.reason}", file=sys.stderr)
        sys.exit(1)
