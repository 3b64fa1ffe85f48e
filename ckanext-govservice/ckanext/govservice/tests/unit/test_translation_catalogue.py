"""Our Chinese catalogue (i18n/): the compiled .mo is its .po, and plurals follow the
language's rule (translation.py); the pages in Chinese are in integration/test_translations.py."""
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from ... import translation

CATALOGUE = Path(__file__).resolve().parents[2] / "i18n" / "zh_Hans_CN" / "LC_MESSAGES"


def _messages(catalogue) -> dict:
    """msgid → msgstr; a plural's id and forms as tuples (the .po and .mo readers differ)."""
    def plain(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value
    return {plain(m.id): plain(m.string) for m in catalogue if m.id}


def test_the_compiled_catalogue_matches_its_source():
    """The .mo CKAN reads is the .po compiled (make translations), not an older one."""
    with open(CATALOGUE / "ckanext-govservice.po", "rb") as f:
        source = _messages(read_po(f))
    with open(CATALOGUE / "ckanext-govservice.mo", "rb") as f:
        compiled = _messages(read_mo(f))
    assert compiled == source


def test_the_plural_rule_is_the_languages_own():
    assert translation.language_plural_rule("zh_Hans_CN")(34) == 0
    assert translation.language_plural_rule("en_GB")(34) == 1
    # English is CKAN's own language, with no catalogue: flask-babel's rule stays
    assert translation.language_plural_rule("en") is None
