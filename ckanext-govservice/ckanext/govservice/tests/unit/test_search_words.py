"""Service search's pure parts (issue 15): the synonym dictionary and its checks,
a citizen's query made safe and cut into clauses, pinyin, ranking weights."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ckanext.govservice.core import search_query, synonyms

REPO = Path(__file__).resolve().parents[5]
DICTIONARY = REPO / "stack" / "solr" / "conf" / "govservice_synonyms.txt"


# ---- the shipped dictionary ----------------------------------------------

def test_the_shipped_dictionary_parses_and_has_a_few_hundred_terms():
    groups = synonyms.parse_dictionary(DICTIONARY.read_text(encoding="utf-8"))
    managed = synonyms.managed_map(groups)
    assert len(groups) > 150
    assert len(managed) > 600
    # colloquial -> official, and Chinese <-> English, both ways for equivalents
    assert "不 动 产 权 证 书" in managed["房 产 证"]
    assert "房 产 证" in managed["不 动 产 权 证 书"]
    assert "driving licence" in managed["驾 照"]
    # one-way rule: 五险一金 finds the enrolments, they do not find 五险一金
    assert "住 房 公 积 金 缴 存 登 记" in managed["五 险 一 金"]
    assert "住 房 公 积 金 缴 存 登 记" not in managed


def test_every_group_of_the_dictionary_says_where_it_comes_from():
    text = DICTIONARY.read_text(encoding="utf-8")
    sections = text.split("# ----")[1:]
    headed = [s for s in sections if "Source:" in s]
    assert len(headed) >= 5
    assert all("Source:" in s for s in text.split("# ---------------------------------------------------------------------------\n# ")[1:])


def test_token_form_is_how_the_query_analysers_cut_words():
    assert synonyms.token_form("房产证") == "房 产 证"
    assert synonyms.token_form("Driver's  Licence!") == "driver's licence"
    assert synonyms.token_form("公交IC卡") == "公 交 ic 卡"
    assert synonyms.token_form("ＡＢＣ（全角）") == "abc 全 角"
    assert synonyms.display_form("公 交 ic 卡") == "公交ic卡"
    assert synonyms.display_form("driving licence") == "driving licence"


@pytest.mark.parametrize("line", ["=> 不动产权证书", "房产证 =>", ", ,", "!!!, ???"])
def test_a_malformed_dictionary_line_is_refused_with_its_number(line):
    with pytest.raises(synonyms.SynonymError) as e:
        synonyms.parse_dictionary(f"# comment\n房产证, 不动产权证书\n{line}\n")
    assert e.value.field == "line"
    assert "line 3" in e.value.reason


# ---- runtime entries -----------------------------------------------------

CURRENT = synonyms.managed_map(synonyms.parse_dictionary("房产证, 不动产权证书\n甲 => 乙\n乙 => 丙\n"))


def test_an_entry_comes_back_in_token_form():
    assert synonyms.check_entry("车本", ["机动车登记证书", "机动车登记证书", "vehicle papers"], CURRENT) == (
        "车 本", ["机 动 车 登 记 证 书", "vehicle papers"])


@pytest.mark.parametrize("term, syns, field, reason", [
    ("", ["不动产权证书"], "term", "is empty"),
    ("   ", ["不动产权证书"], "term", "is empty"),
    ("!!!", ["不动产权证书"], "term", "has no letters"),
    ("房本", [], "synonyms", "is empty"),
    ("房本", ["", "不动产权证书"], "synonyms", "holds an empty entry"),
    ("房本", ["房 本"], "synonyms", "is the term itself"),
    ("房本", ["房本"], "synonyms", "is the term itself"),
    ("丙", ["甲"], "synonyms", "would loop"),          # 甲 -> 乙 -> 丙 -> 甲
    ("不动产权证书", ["房产证"], "synonyms", "would loop"),
    ("长" * 61, ["不动产权证书"], "term", "longer than 60"),
    ("房本", ["x"] * 21, "synonyms", "more than 20"),
])
def test_a_bad_entry_is_refused_naming_field_and_reason(term, syns, field, reason):
    with pytest.raises(synonyms.SynonymError) as e:
        synonyms.check_entry(term, syns, CURRENT)
    assert e.value.field == field
    assert reason in e.value.reason


def test_replacing_an_entry_does_not_count_its_own_old_mapping_as_a_loop():
    current = {"房 本": ["房 本", "不 动 产 权 证 书"]}
    assert synonyms.check_entry("房本", ["房产证"], current) == ("房 本", ["房 产 证"])


def test_seed_merges_the_dictionary_keeps_runtime_entries_and_drops_what_is_no_longer_shipped(tmp_path):
    dictionary, managed = tmp_path / "d.txt", tmp_path / "m.json"
    dictionary.write_text("房产证, 不动产权证书\n五险一金 => 养老保险, 医疗保险\n", encoding="utf-8")
    assert synonyms.seed(str(dictionary), str(managed)) is True
    doc = json.loads(managed.read_text(encoding="utf-8"))
    assert doc["initArgs"] == {"ignoreCase": True, "format": "solr"}
    assert doc["managedMap"]["五 险 一 金"] == ["五 险 一 金", "养 老 保 险", "医 疗 保 险"]
    doc["managedMap"]["车 本"] = ["车 本", "行 驶 证"]            # added at runtime
    managed.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    dictionary.write_text("房产证, 不动产权证书\n五险一金 => 养老保险\n", encoding="utf-8")
    assert synonyms.seed(str(dictionary), str(managed)) is True
    mapped = json.loads(managed.read_text(encoding="utf-8"))["managedMap"]
    assert mapped["五 险 一 金"] == ["五 险 一 金", "养 老 保 险"]
    assert mapped["车 本"] == sorted(["车 本", "行 驶 证"])
    assert synonyms.seed(str(dictionary), str(managed)) is False


# ---- a citizen's query -------------------------------------------------

@pytest.mark.parametrize("raw, cleaned", [
    ("title:*", "title"),
    ("{!join from=id to=id}营业执照", "join from id to id 营业执照"),
    ('"营业执照', "营业执照"),
    ("营业执照\"", "营业执照"),
    ("*:*", ""),
    ("？！。，、", ""),
    ("!!! ??? ...", ""),
    ("driver's licence", "driver's licence"),
    ("ＩＤ　card", "ID card"),
    ("a && b || c", "a b c"),
])
def test_clean_leaves_words_only(raw, cleaned):
    assert search_query.clean(raw) == cleaned


def test_a_long_paste_is_cut_not_refused():
    assert search_query.clean("营业执照" * 2500) == ("营业执照" * 25)[:search_query.MAX_QUERY_CHARS]


@pytest.mark.parametrize("raw, clauses, question", [
    ("孩子出生要办什么", ["孩子出生"], True),
    ("我想开一家饭店需要办什么证", ["开饭店"], True),
    ("买房后怎么办房产证", ["买房", "房产证"], True),
    ("营业执照", ["营业执照"], False),
    ("食品 许可", ["食品 许可"], False),
    ("how do I get a passport", ["passport"], True),
    ("what do I need to open a restaurant", ["open a restaurant"], True),
    ("driving licence", ["driving licence"], False),
    ("怎么办", ["怎么办"], False),
])
def test_parse_takes_question_words_out(raw, clauses, question):
    parsed = search_query.parse(raw)
    assert parsed.clauses == clauses
    assert parsed.question is question


def test_pinyin_of_queries_and_services():
    assert search_query.query_pinyin("营业执招") == "yingyezhizhao"
    assert search_query.query_pinyin("hu zhao") == "huzhao"
    full, initials = search_query.pinyin_tokens(["房产证", "公交IC卡"])
    assert {"fangchanzheng", "fangchan", "chanzheng", "gongjiao"} <= set(full)
    assert {"fcz", "gj"} <= set(initials)   # two-character stretches: their pair too
    assert "ic" not in full


def test_segment_cuts_known_words_and_pairs():
    assert search_query.segment("驾照到期换证", {"驾照", "换证明"}) == ["驾照", "照到", "到期", "期换", "换证"]
    assert search_query.segment("家里老人去世", {"老人去世", "家"}) == ["老人去世", "家里", "里老", "老人", "人去", "去世"]
    assert search_query.segment("证 ID", set()) == ["ID"]


@pytest.mark.parametrize("title, status, valid_to, weight", [
    ("食品经营许可（新办）", "active", None, search_query.WEIGHT_FIRST_ISSUE),
    ("企业设立登记（有限责任公司）", "active", None, search_query.WEIGHT_FIRST_ISSUE),
    ("居民身份证申领", None, "", search_query.WEIGHT_FIRST_ISSUE),
    ("一次性创业补贴申领", "active", None, search_query.WEIGHT_FIRST_ISSUE),
    ("食品经营许可（延续）", "active", None, search_query.WEIGHT_OTHER_SITUATION),
    ("居民身份证换领补领", "active", None, search_query.WEIGHT_OTHER_SITUATION),
    ("企业变更登记（分公司）", "active", None, search_query.WEIGHT_OTHER_SITUATION),
    ("食品经营许可（新办）", "suspended", None, search_query.WEIGHT_NOT_ACTIVE),
    ("食品经营许可（新办）", "active", "2026-01-31", search_query.WEIGHT_NOT_ACTIVE),
    ("食品经营许可（新办）", "active", "2027-01-31", search_query.WEIGHT_FIRST_ISSUE),
])
def test_ranking_weight(title, status, valid_to, weight):
    assert search_query.ranking_weight(title, status, valid_to, "2026-11-29") == weight


# ---- "did you mean" for Chinese: the words that sound like the query ----------

def test_a_homophone_typo_is_respelt_from_the_phrase_that_sounds_like_it():
    assert search_query.homophone_respelling("身分证", ["居民身份证申领"]) == "身份证"
    assert search_query.homophone_respelling("营业执招", ["企业注销登记", "企业营业执照核发"]) == "营业执照"


def test_a_clause_written_as_in_a_phrase_needs_no_respelling():
    assert search_query.homophone_respelling("营业执照", ["企业营业执照核发"]) is None


def test_nothing_is_respelt_when_nothing_sounds_alike():
    assert search_query.homophone_respelling("公交卡", ["居民身份证申领"]) is None
    assert search_query.homophone_respelling("证", ["身份证"]) is None
    assert search_query.homophone_respelling("ID卡", ["身份证"]) is None
