"""The platform's own brand on the real pages: its name, logo and colours from
configuration (the demo city's by default), no CKAN logo or CKAN links, a footer
naming the operator, its contact and the licence; a citizen's service page
without CKAN's follower counts or organisation box, while CKAN's own dataset
page keeps working for datasets that are not services."""
import re

import pytest

from ckan.tests import factories

from .. import factories as gov
from ..pages import fetch
from ...branding import BrandConfigError, check

BRAND = "ckanext.govservice.brand."


def header(html: str) -> str:
    return re.search(r'<header class="masthead">.*?</header>', html, re.S).group(0)


def footer(html: str) -> str:
    return re.search(r'<footer class="site-footer">.*?</footer>', html, re.S).group(0)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


@pytest.mark.usefixtures("clean_db")
class TestTheDemoCitysBrand:
    def test_the_header_shows_the_platforms_name_and_logo_not_ckans(self, app):
        html = fetch(app, "/")
        top = header(html)
        assert '<a class="govservice-brand" href="/">' in top
        assert '<img src="/govservice/binjiang-emblem.svg"' in top
        assert text_of(top).startswith("滨江市政务服务开放数据 ")
        assert "ckan-logo" not in html and "ckan.org" not in html
        assert re.search(r"<title>[^<]*滨江市政务服务开放数据\s*</title>", html)
        assert '<link rel="shortcut icon" href="/govservice/binjiang-emblem.svg" />' in html

    def test_the_footer_names_the_operator_its_contact_and_the_licence(self, app):
        bottom = footer(fetch(app, "/"))
        words = text_of(bottom)
        assert "运营单位：滨江市数据资源管理局" in words
        assert '<a href="mailto:opendata@binjiang.example">opendata@binjiang.example</a>' in bottom
        assert "热线 12345" in words
        assert ('数据许可：<a href="https://creativecommons.org/licenses/by/4.0/" rel="license">'
                "知识共享署名 4.0（CC BY 4.0）</a>") in bottom
        assert "基于 CKAN 构建" in words
        assert "ckan-footer-logo" not in bottom and "CKAN Association" not in bottom and "技术支持" not in words

    def test_english_pages_use_the_english_names(self, app):
        html = fetch(app, "/en/")
        assert text_of(header(html)).startswith("Binjiang Government Services Open Data ")
        assert re.search(r"<title>[^<]*Binjiang Government Services Open Data\s*</title>", html)
        words = text_of(footer(html))
        assert "Operated by Binjiang Data Resources Administration" in words
        assert "Contact us: opendata@binjiang.example · Hotline 12345" in words
        assert "Data licence: Creative Commons Attribution 4.0 (CC BY 4.0)" in words

    def test_the_colours_are_the_brands(self, app):
        html = fetch(app, "/")
        assert "<style>:root{--govservice-brand:#1d4f91;--govservice-accent:#c8102e}" in html
        assert ".masthead,.site-footer{background:var(--govservice-brand)}" in html

    def test_the_logo_is_served(self, app):
        response = app.get("/govservice/binjiang-emblem.svg")
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("image/svg+xml")
        assert response.get_data(as_text=True).lstrip().startswith("<svg")


@pytest.mark.usefixtures("clean_db")
@pytest.mark.ckan_config(BRAND + "name", "示例市政务数据")
@pytest.mark.ckan_config(BRAND + "name_en", "Example City Open Data")
@pytest.mark.ckan_config(BRAND + "logo", "https://www.example.gov.cn/emblem.png")
@pytest.mark.ckan_config(BRAND + "colour", "#004d40")
@pytest.mark.ckan_config(BRAND + "operator", "示例市大数据中心")
@pytest.mark.ckan_config(BRAND + "contact_email", "")
@pytest.mark.ckan_config(BRAND + "contact_phone", "0000-1234")
def test_another_city_configures_its_own_brand(app):
    html = fetch(app, "/")
    assert '<img src="https://www.example.gov.cn/emblem.png"' in header(html)
    assert text_of(header(html)).startswith("示例市政务数据 ")
    assert re.search(r"<title>[^<]*示例市政务数据\s*</title>", html)
    assert "--govservice-brand:#004d40;" in html
    words = text_of(footer(html))
    assert "运营单位：示例市大数据中心" in words
    assert "联系我们： · 热线 0000-1234" in words and "mailto:" not in footer(html)
    assert text_of(header(fetch(app, "/en/"))).startswith("Example City Open Data ")


@pytest.mark.parametrize("option, value, message", [
    ("colour", "blue", "ckanext.govservice.brand.colour = 'blue' is not a colour: write it as #rrggbb, e.g. #1d4f91"),
    ("accent_colour", "#c8102e;}body{display:none",
     "ckanext.govservice.brand.accent_colour = '#c8102e;}body{display:none' is not a colour: write it as #rrggbb"),
    ("logo", "javascript:alert(1)", "ckanext.govservice.brand.logo = 'javascript:alert(1)' is neither a path on "
                                    "the site (/...) nor an https address"),
    ("logo", "//evil.example/x.png", "ckanext.govservice.brand.logo = '//evil.example/x.png' is neither a path"),
])
def test_a_brand_option_that_cannot_be_used_stops_the_start_naming_it(option, value, message):
    config = {BRAND + "colour": "#1d4f91", BRAND + "accent_colour": "#c8102e", BRAND + "logo": "",
              BRAND + "name": "x", BRAND + option: value}
    with pytest.raises(BrandConfigError) as refused:
        check(config)
    assert str(refused.value).startswith(message)


@pytest.mark.usefixtures("clean_index")
class TestPagesOfAServiceAndOfAPlainDataset:
    def test_a_service_page_has_the_department_box_not_ckans_furniture(self, app, dept, sysadmin):
        service = gov.service(dept["id"], context=dict(sysadmin), name="business-licence")
        html = fetch(app, f"/service/{service['name']}")
        sidebar = re.search(r'<aside class="secondary.*?</aside>', html, re.S).group(0)
        assert 'class="module module-narrow govservice-department-box"' in sidebar
        assert '<a href="/service/?organization=market-regulation">本部门的全部事项</a>' in sidebar
        assert '<a href="/performance/market-regulation">查看本部门绩效</a>' in sidebar
        for ckan_furniture in ("context-info", "follow", "关注", "Followers", "social", "license"):
            assert ckan_furniture not in sidebar, ckan_furniture

    def test_ckans_dataset_page_still_serves_a_dataset_that_is_not_a_service(self, app, dept, sysadmin):
        dataset = factories.Dataset(owner_org=dept["id"], name="road-works", title="道路施工计划",
                                    license_id="cc-by")
        html = fetch(app, f"/dataset/{dataset['name']}")
        assert "<h1>" in html and "道路施工计划" in html
        sidebar = re.search(r'<aside class="secondary.*?</aside>', html, re.S).group(0)
        assert "context-info" in sidebar                    # CKAN's own boxes, for CKAN's own datasets
        assert "govservice-department-box" not in sidebar
        assert "ckan-logo" not in html and text_of(header(html)).startswith("滨江市政务服务开放数据 ")
