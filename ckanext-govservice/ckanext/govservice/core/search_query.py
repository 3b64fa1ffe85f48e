"""Service search, the parts that need no Solr: a citizen's query made safe and
cut into clauses, the pinyin a service is indexed under, and its ranking weight.

search.py (the CKAN side) turns these into Solr parameters and fields; the
scoring as a whole is described in the README ("How service search ranks").
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable

from pypinyin import Style, lazy_pinyin

# Longest query we read; the rest is ignored (a 10,000-character paste still
# gets an answer, from its first words).
MAX_QUERY_CHARS = 100
# Pinyin runs indexed per phrase: every run of 2..MAX_PINYIN_SYLLABLES syllables.
MAX_PINYIN_SYLLABLES = 12

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RE = re.compile(f"[{_HAN}]")
# Anything that is not a letter, digit, Han character, apostrophe inside a word
# or space: Solr's syntax (+ - && || ! ( ) {{ }} [ ] ^ " ~ * ? : \\ /) included.
_NOT_TEXT = re.compile(rf"[^\w{_HAN}' ]|_")
_SPACES = re.compile(r"\s+")

# How people wrap what they are looking for in a Chinese question. A query is
# cut where one of these stands (longest first) and the pieces searched as
# separate clauses, any of which may match.
QUESTION_WORDS_ZH = sorted("""
要办什么 要办哪些手续 要办哪些事 需要办什么证 需要办什么 需要带什么材料 需要什么材料
需要哪些材料 要带什么 办什么证 办哪些 哪些手续 哪些事 什么材料 什么证 怎么办理 如何办理
怎样办理 怎么补办 怎么申请 如何申请 怎么领 怎么换 怎么报名 怎么办 怎么开 在哪里开 在哪里办
在哪里 去哪里 哪里 能领多少钱 领多少钱 多少钱 多久 如何 怎么 怎样 什么 哪些 手续 材料
需要 要办 办理 申请 我想 我要 想要 请问 可以 能不能 了 吗 呢 的 后 要 想 带 办 去 能
""".split(), key=len, reverse=True)
# Removed without cutting the query: 开一家饭店 -> 开饭店.
FILLER_ZH = ("一家", "一个", "一下")
QUESTION_WORDS_EN = (
    "what do i need to", "what do i need for", "what do i need", "how do i", "how can i",
    "how to", "where do i", "where can i", "i want to", "i need to", "i need",
    "get a", "get an", "apply for a", "apply for an", "apply for",
)
_QUESTION_ZH_RE = re.compile("|".join(map(re.escape, QUESTION_WORDS_ZH)))


@dataclass
class Query:
    """A citizen's query, ready to compose: ``clauses`` are searched as separate
    clauses (Han pieces of a question; or the whole text), ``question`` tells
    that question words were taken out (any clause may then match)."""
    text: str
    clauses: list[str] = field(default_factory=list)
    question: bool = False

    @property
    def is_latin(self) -> bool:
        return bool(self.text) and not _HAN_RE.search(self.text)


def clean(q: str) -> str:
    """The query as plain words: full-width folded, Solr syntax and punctuation
    dropped, spaces collapsed, cut to MAX_QUERY_CHARS. Empty when nothing
    searchable is left (``*``, ``:::``, ``"``)."""
    text = unicodedata.normalize("NFKC", q or "")[:MAX_QUERY_CHARS * 4]
    text = _NOT_TEXT.sub(" ", text)
    text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)       # quotes, not apostrophes in words
    return _SPACES.sub(" ", text).strip()[:MAX_QUERY_CHARS].strip()


def parse(q: str) -> Query:
    """Clean ``q`` and take out question words: 孩子出生要办什么 -> [孩子出生];
    how do I get a passport -> [passport]."""
    text = clean(q)
    if not text:
        return Query("")
    if _HAN_RE.search(text):
        joined = text
        for filler in FILLER_ZH:
            joined = joined.replace(filler, "")
        pieces = [p.strip() for p in _QUESTION_ZH_RE.split(joined)]
        pieces = [p for p in pieces if p]
        question = pieces != [text]
        if not pieces:           # nothing but question words: search them as typed
            return Query(text, [text])
        clauses = [c for p in pieces for c in p.split(" ") if c]
        return Query(text, clauses if question else [text], question)
    lowered = text.lower()
    stripped = lowered
    for prefix in QUESTION_WORDS_EN:
        if stripped.startswith(prefix + " "):
            stripped = stripped[len(prefix) + 1:]
    if stripped != lowered and stripped:
        return Query(text, [stripped], True)
    return Query(text, [text])


def query_pinyin(text: str) -> str:
    """A query's letters as one pinyin string: Han characters in toneless
    pinyin, other letters kept, everything else dropped (营业执招 -> yingyezhizhao)."""
    return re.sub(r"[^a-z]", "", "".join(lazy_pinyin(text)).lower())


def _runs(syllables: list[str]) -> Iterable[str]:
    for i in range(len(syllables)):
        for j in range(i + 2, min(len(syllables), i + MAX_PINYIN_SYLLABLES) + 1):
            yield "".join(syllables[i:j])


def pinyin_tokens(phrases: Iterable[str]) -> tuple[list[str], list[str]]:
    """(full pinyin, initials) tokens a service is found by: for each phrase
    (title, output name, synonyms), every run of 2 to MAX_PINYIN_SYLLABLES
    syllables of each stretch of Han characters, joined: 不动产权证书 gives
    budongchan…, fangchanzheng for 房产证, and initials bdc…, fcz."""
    full: set[str] = set()
    initials: set[str] = set()
    for phrase in phrases:
        for stretch in re.findall(f"[{_HAN}]+", phrase or ""):
            syllables = [s.lower() for s in lazy_pinyin(stretch)]
            full.update(_runs(syllables))
            initials.update(t for t in _runs([s[0] for s in syllables if s]) if len(t) >= 3)
            if len(syllables) == 2:
                initials.add(syllables[0][0] + syllables[1][0])
    return sorted(full), sorted(initials)


# A service's situation (办理情形), or its name, that changes, renews, replaces
# or cancels what another service first issues. The others (食品经营许可（新办）,
# 企业设立登记（有限责任公司）, 居民身份证申领) first issue it, so a licence's name
# finds the service that grants it before those that change it.
CHANGE_WORDS = ("变更", "注销", "延续", "补发", "补领", "补证", "补办", "换领", "换证", "换发", "更正",
                "终止", "暂停", "恢复", "撤销", "迁出")
# Weights multiply the relevance score (Solr's ``boost``): an active service that
# first issues its output above its other situations, suspended or expired
# services last.
WEIGHT_FIRST_ISSUE = 1.5
WEIGHT_OTHER_SITUATION = 1.0
WEIGHT_NOT_ACTIVE = 0.3


def ranking_weight(title: str, status: str | None, valid_to: str | None, today: str) -> float:
    """A service's weight in the ranking: see the WEIGHT_ constants. ``valid_to``
    and ``today`` are ISO dates; a service past its ``valid_to`` counts as expired."""
    if (status or "active") != "active" or (valid_to and str(valid_to)[:10] < today):
        return WEIGHT_NOT_ACTIVE
    if any(word in (title or "") for word in CHANGE_WORDS):
        return WEIGHT_OTHER_SITUATION
    return WEIGHT_FIRST_ISSUE


def segment(text: str, lexicon: set[str] | frozenset[str]) -> list[str]:
    """A Han clause cut for a relaxed search: the longest words of ``lexicon``
    (the synonym map's terms: 驾照) and every overlapping pair of characters
    (驾照到期 -> 驾照 照到 到期); Latin words kept."""
    out: list[str] = []
    longest = max((len(w) for w in lexicon), default=0)
    for run in re.findall(f"[{_HAN}]+|[^{_HAN}\\s]+", text):
        if not _HAN_RE.match(run):
            out.append(run)
            continue
        i = 0
        while i < len(run):
            word = next((run[i:j] for j in range(min(len(run), i + longest), i + 1, -1)
                         if run[i:j] in lexicon), None)
            if word:
                out.append(word)
            i += len(word) if word else 1
        out += [run[k:k + 2] for k in range(len(run) - 1)]
    return list(dict.fromkeys(out))


def homophone_respelling(clause: str, phrases: Iterable[str]) -> str | None:
    """The words of ``phrases`` that sound like the Han ``clause`` (the same
    toneless pinyin, character for character) although written otherwise: the
    usual slip of a pinyin keyboard. 身分证 -> 身份证 (in 居民身份证申领),
    营业执招 -> 营业执照. None when ``clause`` is written so in one of the phrases,
    is shorter than two characters or holds anything but Han characters, or
    when nothing sounds like it."""
    if len(clause) < 2 or not re.fullmatch(f"[{_HAN}]+", clause):
        return None
    phrases = [p for p in phrases if p]
    if any(clause in p for p in phrases):
        return None
    sound = lazy_pinyin(clause)
    n = len(clause)
    for phrase in phrases:
        for stretch in re.findall(f"[{_HAN}]{{{n},}}", phrase):
            syllables = lazy_pinyin(stretch)
            if len(syllables) != len(stretch):
                continue
            for i in range(len(stretch) - n + 1):
                if syllables[i:i + n] == sound:
                    return stretch[i:i + n]
    return None
