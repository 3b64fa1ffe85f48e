"""CKAN's page furniture in Chinese on the test site: our catalogue (i18n/) fills what
CKAN's leaves in English (the catalogue itself and the plural rule are in
unit/test_translation_catalogue.py)."""
import pytest

from ckan.tests import factories

from .. import factories as gov
from ..pages import fetch


@pytest.mark.usefixtures("clean_db", "clean_index")
class TestChinesePages:
    def test_the_header_and_footer_are_in_chinese(self, app):
        page = fetch(app, "/")
        assert "跳到主要内容" in page and 'aria-label="展开或收起导航"' in page
        assert "基于 CKAN 构建" in page   # the footer's line where CKAN's "Powered by" logo was
        for english in ("Skip to main content", "Toggle navigation", "Powered by", "Breadcrumb"):
            assert english not in page

    def test_counts_of_departments_and_datasets_are_in_chinese(self, app, sysadmin):
        # "2 datasets found" was English: ckanext-dcat's missing Chinese catalogue
        # put English's plural rule in force over CKAN's one-form Chinese plurals.
        org = gov.department(name="market-regulation", title="滨江市市场监督管理局")
        factories.Dataset(owner_org=org["id"])
        factories.Dataset(owner_org=org["id"])

        datasets = fetch(app, "/dataset/")
        assert "找到2个数据集" in datasets and "datasets found" not in datasets  # CKAN's own words
        page = fetch(app, "/organization/")
        assert "共 1 个部门" in page and "2 个数据集" in page                   # ours
        assert "organizations found" not in page and "Datasets" not in page

    def test_a_plugin_merged_without_chinese_does_not_bring_back_english_plurals(self, app, sysadmin):
        # Whichever catalogue flask-babel merges last sets the rule; make it
        # English's, as ckanext-dcat's missing Chinese one does when it is last.
        import flask_babel
        org = gov.department(name="market-regulation")
        factories.Dataset(owner_org=org["id"])
        factories.Dataset(owner_org=org["id"])
        with app.flask_app.test_request_context("/dataset/"):
            merged = flask_babel.get_translations()
            merged.plural = lambda n: int(n != 1)

        assert "找到2个数据集" in fetch(app, "/dataset/")
        assert merged.plural(2) == 0

    def test_english_pages_stay_english(self, app, sysadmin):
        org = gov.department(name="market-regulation", title="滨江市市场监督管理局")
        factories.Dataset(owner_org=org["id"])
        page = fetch(app, "/en/organization/")
        assert "1 organization found" in page and "1 Dataset" in page
        assert "Skip to main content" in fetch(app, "/en/")

    def test_no_sharing_to_x_or_facebook(self, app, sysadmin):
        dataset = factories.Dataset(owner_org=gov.department(name="transport")["id"])
        page = fetch(app, f"/dataset/{dataset['name']}")
        assert "facebook.com/sharer" not in page and "x.com/share" not in page

    def test_the_about_page_describes_the_platform(self, app):
        page = fetch(app, "/about")
        assert "政务服务事项目录" in page and "service performance statistics" in page
        assert "world’s leading open-source data portal" not in page


@pytest.mark.usefixtures("clean_db")
class TestErrorPages:
    def test_an_address_that_leads_nowhere_is_explained_in_chinese(self, app):
        page = fetch(app, "/no-such-page", status=404)
        assert "<h1>404 找不到这个页面</h1>" in page
        assert "地址可能输错了" in page and 'href="/service/"' in page
        assert "The requested URL was not found" not in page

    def test_in_english_too(self, app):
        page = fetch(app, "/en/no-such-page", status=404)
        assert "<h1>404 Page not found</h1>" in page

    def test_a_message_ckan_gave_is_kept(self, app):
        page = fetch(app, "/dataset/no-such-dataset", status=404)
        assert "<h1>404 找不到这个页面</h1>" in page
        assert "<p>找不到这个数据集，或您没有查看它的权限</p>" in page


def test_ckans_script_finds_its_chinese_translations(app):
    """CKAN's script asks for /api/i18n/zh_Hans-CN on a Chinese page (only the first "-"
    of zh-Hans-CN made "_"); CKAN alone answered 400 and started none of its modules."""
    from ..pages import fetch_json
    assert fetch_json(app, "/api/i18n/zh_Hans-CN") == fetch_json(app, "/api/i18n/zh_Hans_CN")
    assert app.get("/api/i18n/xx_Yyyy-ZZ").status_code == 400        # CKAN's own answer otherwise


def test_ckans_script_strings_are_in_chinese(app):
    """The stack builds CKAN's script translations (stack/entrypoints/govservice
    migrate); without them CKAN answers {} and its scripts speak English."""
    from ..pages import fetch_json
    strings = fetch_json(app, "/api/i18n/zh_Hans-CN")
    assert strings[""]["lang"] == "zh_Hans_CN"
    assert strings["Cancel"] == [None, "取消"]

