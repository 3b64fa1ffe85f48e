"""The platform's own brand: its name in both languages, logo, colours and the
footer's operator, contact and licence, all from configuration
(`ckanext.govservice.brand.*` in config_declaration.yaml; the defaults are the
demo city's). The templates ask `h.govservice_brand()`; `check` runs when the
plugin is configured, so a mistyped colour stops the start, naming the option.
"""
from __future__ import annotations

import re
from typing import Any

import ckan.plugins.toolkit as tk

PREFIX = "ckanext.govservice.brand."
COLOURS = ("colour", "accent_colour")
HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


class BrandConfigError(ValueError):
    """A brand option that cannot be used; the message names the option and the fix."""


def _option(config: Any, name: str) -> str:
    return (config.get(PREFIX + name) or "").strip()


def check(config: Any) -> None:
    """Refuse colours that are not #rrggbb (they are written into the page's CSS)
    and a logo that is neither a path on the site nor an https address; make
    CKAN's own name, logo and favicon the brand's, so no page shows CKAN's."""
    for name in COLOURS:
        value = _option(config, name)
        if not HEX_COLOUR.fullmatch(value):
            raise BrandConfigError(f"{PREFIX}{name} = {value!r} is not a colour: write it as #rrggbb, e.g. #1d4f91")
    logo = _option(config, "logo")
    if logo and not (logo.startswith("/") and not logo.startswith("//") or logo.startswith("https://")):
        raise BrandConfigError(f"{PREFIX}logo = {logo!r} is neither a path on the site (/...) nor an https "
                               "address: give one of those, or leave it empty for the name alone")
    config["ckan.site_title"] = _option(config, "name")
    config["ckan.site_logo"] = logo
    if logo:
        config["ckan.favicon"] = logo


def brand(lang: str) -> dict[str, str]:
    """The brand in the page's language ("en" or another: Chinese)."""
    config = tk.config
    english = lang == "en"

    def pick(name: str) -> str:
        return (english and _option(config, name + "_en")) or _option(config, name)

    return {"name": pick("name"), "logo": _option(config, "logo"), "operator": pick("operator"),
            "email": _option(config, "contact_email"), "phone": _option(config, "contact_phone"),
            "licence": pick("licence_title"), "licence_url": _option(config, "licence_url"),
            "colour": _option(config, "colour"), "accent_colour": _option(config, "accent_colour")}


def stylesheet() -> str:
    """The brand's colours over CKAN's theme (checked #rrggbb values only)."""
    config = tk.config
    colour, accent = (_option(config, name) for name in COLOURS)
    return (f":root{{--govservice-brand:{colour};--govservice-accent:{accent}}}"
            ".masthead,.site-footer{background:var(--govservice-brand)}"
            ".masthead{border-bottom:4px solid var(--govservice-accent)}"
            ".masthead .navbar .govservice-brand{display:flex;align-items:center;gap:.6rem;color:#fff;"
            "text-decoration:none;font-size:1.35rem;font-weight:700}"
            ".masthead .navbar .govservice-brand img{max-height:48px}"
            ".site-footer .govservice-operator{color:#fff}"
            ".site-footer .govservice-operator a{color:#fff;text-decoration:underline}")
