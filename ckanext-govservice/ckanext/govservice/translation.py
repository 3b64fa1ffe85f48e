"""Plural forms that follow the page's language, whatever plugins are installed.

flask-babel builds a request's translations by merging CKAN's catalogue with
every ITranslation plugin's, and each merge replaces the plural rule with the
merged catalogue's own, or with English's ``n != 1`` when a plugin has no
catalogue for the language (ckanext-dcat has none for Chinese). With the last
rule English's, Chinese plurals (one form, index 0) were looked up at index 1,
missed, and fell back to the English msgid: "34 Datasets", "21 organizations
found" on a Chinese page. The rule belongs to the language, so it is taken
from CKAN's own catalogue for the locale and put back on the merged one.
"""
from __future__ import annotations

import functools
from typing import Callable

import flask_babel
from babel import support

from ckan.lib import i18n


@functools.lru_cache(maxsize=None)
def language_plural_rule(locale: str) -> Callable[[int], int] | None:
    """The plural rule CKAN's catalogue declares for a locale (None: no catalogue)."""
    catalogue = support.Translations.load(i18n.get_ckan_i18n_dir(), [locale], "ckan")
    return catalogue.plural if isinstance(catalogue, support.Translations) else None


def restore_plural_rule() -> None:
    """Before each request: the merged translations use the language's rule.
    The merged object is cached per locale, so this sets it once per locale."""
    locale = flask_babel.get_locale()
    rule = language_plural_rule(str(locale)) if locale else None
    if rule is None:
        return
    translations = flask_babel.get_translations()
    if translations.plural is not rule:
        translations.plural = rule
