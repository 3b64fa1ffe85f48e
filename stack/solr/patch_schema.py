#!/usr/bin/env python3
"""Make CKAN's Solr schema.xml analyse Chinese as well as English.

    patch_schema.py CKAN_SCHEMA_XML OUT_SCHEMA_XML

Input is the schema.xml that ships inside the installed ckan package
(ckan/config/solr/schema.xml); it is not copied into our repository. The
output differs from it in typed dynamic fields for extensions' facets
(*_ss, *_i, *_f, *_b, see TYPED_DYNAMIC_FIELDS) and in the two full-text field types, `text` (title,
notes, the `text` catch-all, extras_*, urls, ...) and `text_general` (author,
maintainer, res_name, res_description); everything else, including the
schema name "ckan-X.Y" that CKAN checks at start-up, stays as CKAN wrote it.

CKAN's analysers split on whitespace only, so a Chinese title such as
企业营业执照核发 becomes a single token and a search for 营业执照 finds nothing.
In both types, in both the index and the query analyser, we:

  * add CJKWidthCharFilter before the tokenizer: full-width Latin letters and
    digits (ＡＢＣ１２３) become ASCII, half-width katakana become full-width;
  * use StandardTokenizer instead of WhitespaceTokenizer: it emits every Han
    character as its own token (type <IDEOGRAPHIC>). A PatternReplaceCharFilter
    in front of it turns ASCII punctuation and dashes into "_", which
    StandardTokenizer does not split on, so Latin text is still cut at
    whitespace (essentially) and CKAN's WordDelimiterGraphFilter sees the same words as
    before ("e-mail" -> e, mail, email; "data.example.gov" -> data, example, gov,
    dataexamplegov);
  * add CJKBigramFilter before LowerCaseFilter (so after CKAN's
    WordDelimiterGraphFilter, which must not see graph input): runs of CJK
    characters become overlapping bigrams, 营业执照 -> 营业 业执 执照. At index
    time it also keeps the single characters (outputUnigrams) so that a
    one-character query such as 证 still finds something; at query time it
    does not, so longer queries are matched by bigrams only;
  * set autoGeneratePhraseQueries="true" on the field type: the bigrams of
    one query word must then appear consecutively (a phrase), so 营业执照 does
    not match a text that merely contains 营业 and 执照 far apart. Words
    separated by spaces are still separate clauses (dismax splits on
    whitespace), so English multi-word queries behave as before.

English keeps CKAN's filters (word delimiter, lower case, Porter stemming,
ASCII folding, synonyms): "licences" still finds "licence".

The script checks that CKAN's schema still looks like the one this was
written for and stops with an error otherwise, rather than producing a schema
that quietly differs from what we expect.
"""

import os
import re
import sys
import tempfile
import xml.dom.minidom

PATCHED_TYPES = ("text", "text_general")
MARKER = "patched by stack/solr/patch_schema.py"

WHITESPACE_TOKENIZER = '<tokenizer class="solr.WhitespaceTokenizerFactory"/>'
LOWERCASE_FILTER = '<filter class="solr.LowerCaseFilterFactory"/>'
# ASCII punctuation and dashes, except ' and _, become "_" (same length, so offsets
# stay right). StandardTokenizer keeps letters and digits joined by "_" in one
# token, so it splits Latin text at whitespace, much like CKAN's
# WhitespaceTokenizer did, and WordDelimiterGraphFilter still sees "e-mail" whole
# and indexes "e", "mail" and "email" as before.
PUNCT_CHAR_FILTER = (
    '<charFilter class="solr.PatternReplaceCharFilterFactory"'
    ' pattern="[\\p{Punct}\\p{Pd}&amp;&amp;[^\'_]]" replacement="_"/>'
)


class SchemaChanged(Exception):
    pass


def patch_analyzer(analyzer: str, kind: str, type_name: str) -> str:
    where = f"fieldType {type_name!r}, {kind} analyzer"
    if analyzer.count(WHITESPACE_TOKENIZER) != 1:
        raise SchemaChanged(f"{where}: expected CKAN's WhitespaceTokenizerFactory")
    if analyzer.count(LOWERCASE_FILTER) != 1:
        raise SchemaChanged(f"{where}: expected one LowerCaseFilterFactory")
    indent = re.search(r"\n([ \t]*)" + re.escape(WHITESPACE_TOKENIZER), analyzer)
    pad = indent.group(1) if indent else "            "
    analyzer = analyzer.replace(
        WHITESPACE_TOKENIZER,
        '<charFilter class="solr.CJKWidthCharFilterFactory"/>\n'
        f"{pad}{PUNCT_CHAR_FILTER}\n"
        f'{pad}<tokenizer class="solr.StandardTokenizerFactory"/>',
    )
    unigrams = "true" if kind == "index" else "false"
    return analyzer.replace(
        LOWERCASE_FILTER,
        f'<filter class="solr.CJKBigramFilterFactory" outputUnigrams="{unigrams}"/>\n'
        f"{pad}{LOWERCASE_FILTER}",
    )


def patch_field_type(schema: str, type_name: str) -> str:
    pattern = re.compile(
        r'<fieldType\s+name="%s"[^>]*>.*?</fieldType>' % re.escape(type_name), re.S
    )
    found = pattern.findall(schema)
    if len(found) != 1:
        raise SchemaChanged(f"expected one fieldType {type_name!r}, found {len(found)}")
    block = found[0]

    opening = block[: block.index(">") + 1]
    if "autoGeneratePhraseQueries" in opening:
        raise SchemaChanged(f"fieldType {type_name!r} already sets autoGeneratePhraseQueries")
    new_opening = opening[:-1].rstrip("/ ") + ' autoGeneratePhraseQueries="true">'

    def one_analyzer(match: "re.Match[str]") -> str:
        return patch_analyzer(match.group(0), match.group(1), type_name)

    body, n = re.subn(
        r'<analyzer\s+type="(index|query)"\s*>.*?</analyzer>', one_analyzer,
        block[len(opening):], flags=re.S,
    )
    if n != 2:
        raise SchemaChanged(f"fieldType {type_name!r}: expected an index and a query analyzer")
    return schema.replace(block, new_opening + body)


# Typed dynamic fields for extensions' facets and sorts (ckanext-govservice's
# themes_ss, in_person_visits_i, committed_days_f, is_free_b, …). CKAN's own
# catch-all "*" is a single-valued string, which can neither hold a list nor
# sort numbers. Longer patterns win over "*" in Solr, so these take precedence.
TYPED_DYNAMIC_FIELDS = """\
    <dynamicField name="*_ss" type="string" indexed="true" stored="true" docValues="true" multiValued="true"/>
    <dynamicField name="*_i" type="pint" indexed="true" stored="true" docValues="true" multiValued="false"/>
    <dynamicField name="*_f" type="pfloat" indexed="true" stored="true" docValues="true" multiValued="false"/>
    <dynamicField name="*_b" type="boolean" indexed="true" stored="true" docValues="true" multiValued="false"/>
"""
CATCH_ALL = re.compile(r'^([ \t]*)<dynamicField name="\*" ', re.M)


def add_typed_dynamic_fields(schema: str) -> str:
    for t in ("pint", "pfloat", "boolean", "string"):
        if not re.search(r'<fieldType\s+name="%s"' % t, schema):
            raise SchemaChanged(f"expected a fieldType {t!r} for the typed dynamic fields")
    if len(CATCH_ALL.findall(schema)) != 1:
        raise SchemaChanged('expected one catch-all <dynamicField name="*">')
    return CATCH_ALL.sub(lambda m: TYPED_DYNAMIC_FIELDS + m.group(0), schema, count=1)


# Service search (ckanext-govservice's search.py, issue 15): the fields a service
# adds for relevance, and their types. Citizens' words meet the platform's through
# one managed synonym map, "govservice" (ManagedSynonymGraphFilterFactory), applied
# at query time in the Chinese and English types. prepare-home.sh seeds it from the
# shipped dictionary (conf/govservice_synonyms.txt); CKAN's govservice_synonym_*
# actions add and remove entries through Solr's REST API and reload the core, so a
# change needs no restart. Entries are stored in the analysers' own token form
# (Han characters separated by spaces), so the managed map's whitespace parser
# reads them as the query analyser cuts them.
#
#   govservice_zh: one token per Han character (StandardTokenizer), phrases
#     (autoGeneratePhraseQueries): 营业执照 matches the four characters in a row,
#     a synonym's expansion the same way. No CJK bigrams: CJKBigramFilter cannot
#     read the graph that a multi-word synonym makes.
#   govservice_en: English words, possessives dropped, Porter stemming; words are
#     separate terms (minimum-match decides how many must match).
#   govservice_pinyin: pinyin and initials written by the indexer (pypinyin) as
#     whitespace-separated tokens; the query side removes everything but letters
#     and keeps one token, so "fang chan zheng", "fangchanzheng" and "fcz" all work.
#   govservice_words: words as written (lower-cased, no stemming): the suggester's
#     analyser (govservice_suggest: titles, output names and their Chinese
#     synonyms) and the spell checker's field (govservice_spell:
#     English titles and text), so "did you mean" offers real words.
GOVSERVICE_TYPES = """\
    <fieldType name="govservice_zh" class="solr.TextField" positionIncrementGap="100" autoGeneratePhraseQueries="true">
        <analyzer type="index">
            <charFilter class="solr.CJKWidthCharFilterFactory"/>
            <tokenizer class="solr.StandardTokenizerFactory"/>
            <filter class="solr.LowerCaseFilterFactory"/>
        </analyzer>
        <analyzer type="query">
            <charFilter class="solr.CJKWidthCharFilterFactory"/>
            <tokenizer class="solr.StandardTokenizerFactory"/>
            <filter class="solr.LowerCaseFilterFactory"/>
            <filter class="solr.ManagedSynonymGraphFilterFactory" managed="govservice"/>
        </analyzer>
    </fieldType>
    <fieldType name="govservice_en" class="solr.TextField" positionIncrementGap="100">
        <analyzer type="index">
            <charFilter class="solr.CJKWidthCharFilterFactory"/>
            <tokenizer class="solr.StandardTokenizerFactory"/>
            <filter class="solr.LowerCaseFilterFactory"/>
            <filter class="solr.EnglishPossessiveFilterFactory"/>
            <filter class="solr.PorterStemFilterFactory"/>
        </analyzer>
        <analyzer type="query">
            <charFilter class="solr.CJKWidthCharFilterFactory"/>
            <tokenizer class="solr.StandardTokenizerFactory"/>
            <filter class="solr.LowerCaseFilterFactory"/>
            <filter class="solr.ManagedSynonymGraphFilterFactory" managed="govservice"/>
            <filter class="solr.EnglishPossessiveFilterFactory"/>
            <filter class="solr.PorterStemFilterFactory"/>
        </analyzer>
    </fieldType>
    <fieldType name="govservice_pinyin" class="solr.TextField" positionIncrementGap="100">
        <analyzer type="index">
            <tokenizer class="solr.WhitespaceTokenizerFactory"/>
            <filter class="solr.LowerCaseFilterFactory"/>
        </analyzer>
        <analyzer type="query">
            <charFilter class="solr.PatternReplaceCharFilterFactory" pattern="[^A-Za-z]" replacement=""/>
            <tokenizer class="solr.KeywordTokenizerFactory"/>
            <filter class="solr.LowerCaseFilterFactory"/>
        </analyzer>
    </fieldType>
    <fieldType name="govservice_words" class="solr.TextField" positionIncrementGap="100">
        <analyzer>
            <charFilter class="solr.CJKWidthCharFilterFactory"/>
            <tokenizer class="solr.StandardTokenizerFactory"/>
            <filter class="solr.LowerCaseFilterFactory"/>
        </analyzer>
    </fieldType>
"""
GOVSERVICE_FIELDS = """\
    <dynamicField name="govservice_zh_*" type="govservice_zh" indexed="true" stored="false" multiValued="true"/>
    <dynamicField name="govservice_en_*" type="govservice_en" indexed="true" stored="false" multiValued="true"/>
    <dynamicField name="govservice_pinyin_*" type="govservice_pinyin" indexed="true" stored="false" multiValued="true"/>
    <field name="govservice_suggest" type="govservice_words" indexed="true" stored="true" multiValued="true"/>
    <field name="govservice_spell" type="govservice_words" indexed="true" stored="false" multiValued="true"/>
"""
FIELD_TYPES_END = re.compile(r"^([ \t]*)</types>", re.M)


def add_govservice_search(schema: str) -> str:
    if "govservice_zh" in schema:
        raise SchemaChanged("CKAN's schema already names govservice_zh")
    if len(FIELD_TYPES_END.findall(schema)) != 1 or len(CATCH_ALL.findall(schema)) != 1:
        raise SchemaChanged("expected one </types> and one catch-all <dynamicField name=\"*\">")
    schema = FIELD_TYPES_END.sub(lambda m: GOVSERVICE_TYPES + m.group(0), schema, count=1)
    return CATCH_ALL.sub(lambda m: GOVSERVICE_FIELDS + m.group(0), schema, count=1)


def patch(schema: str) -> str:
    if MARKER in schema:
        raise SchemaChanged("input is already patched; give CKAN's original schema.xml")
    if not re.search(r'<schema\s+name="ckan-[0-9.]+"', schema):
        raise SchemaChanged('no <schema name="ckan-X.Y"> root: is this CKAN\'s schema.xml?')
    for type_name in PATCHED_TYPES:
        schema = patch_field_type(schema, type_name)
    schema = add_typed_dynamic_fields(schema)
    schema = add_govservice_search(schema)

    note = (
        f"\n<!-- CKAN's schema.xml, {MARKER}: the \"text\" and \"text_general\"\n"
        "     field types also analyse Chinese (CJK bigrams). Regenerated by\n"
        "     stack/solr/prepare-home.sh from the installed ckan package: do not edit. -->"
    )
    decl = re.match(r"<\?xml[^>]*\?>", schema)
    at = decl.end() if decl else 0
    schema = schema[:at] + note + schema[at:]

    # still well-formed, and every patched type really has what we put in
    dom = xml.dom.minidom.parseString(schema.encode("utf-8"))
    for ft in dom.getElementsByTagName("fieldType"):
        if ft.getAttribute("name") in PATCHED_TYPES:
            classes = [e.getAttribute("class") for e in ft.getElementsByTagName("*")]
            assert classes.count("solr.CJKBigramFilterFactory") == 2, classes
            assert classes.count("solr.StandardTokenizerFactory") == 2, classes
            assert classes.count("solr.PatternReplaceCharFilterFactory") == 2, classes
    return schema


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(f"usage: {argv[0]} CKAN_SCHEMA_XML OUT_SCHEMA_XML", file=sys.stderr)
        return 2
    src, dst = argv[1], argv[2]
    with open(src, encoding="utf-8") as f:
        original = f.read()
    try:
        patched = patch(original)
    except SchemaChanged as e:
        print(f"error: cannot patch {src}: {e}", file=sys.stderr)
        return 1
    try:
        with open(dst, encoding="utf-8") as f:
            if f.read() == patched:
                return 0
    except FileNotFoundError:
        pass
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(dst)), prefix=".schema.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(patched)
    os.chmod(tmp, 0o644)
    os.replace(tmp, dst)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
