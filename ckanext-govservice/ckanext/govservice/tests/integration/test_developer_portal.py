"""The developer portal on the test site, in-process: the reference page and its
vendored Swagger UI, the getting-started page and footer links, the served
description, and fair use (429 with Retry-After, per token and per address,
sysadmins exempt, recovery). The examples and the generated client run against
the test site over HTTP in test_developer_examples.py; the reference page in
a real browser is in tests/test_browser.py."""
from __future__ import annotations

import re
import time

import pytest
from openapi_spec_validator import validate

from ckan.tests import factories, helpers

from ckanext.govservice import openapi
from ckanext.govservice.views import openapi as openapi_views

from .. import factories as gov
from ..pages import fetch


@pytest.mark.usefixtures("with_request_context")
class TestReference:
    def test_the_reference_page_runs_swagger_ui_from_our_own_assets(self, app):
        page = fetch(app, "/api/govservice/docs")
        assert 'id="swagger-ui"' in page and 'data-spec="/api/govservice/openapi.json"' in page
        scripts = re.findall(r'<script[^>]+src="([^"]+)"', page)
        styles = re.findall(r'<link[^>]+href="([^"]+\.css)"', page)
        assert not [u for u in scripts + styles if u.startswith(("http:", "https:", "//"))]
        bundle = next(u for u in scripts if "swagger-ui" in u)
        body = fetch(app, bundle)
        assert "SwaggerUIBundle" in body and "validatorUrl: null" in body
        css = next(u for u in styles if "swagger-ui" in u)
        assert ".swagger-ui" in fetch(app, css)

    def test_the_getting_started_page_shows_every_example_in_three_languages(self, app):
        page = fetch(app, "/en/api/govservice/getting-started")
        for example in openapi_views.developer_examples():
            assert f'id="{example["id"]}"' in page
        assert page.count('class="language-python"') == len(openapi_views.developer_examples())
        assert "portal.action.datastore_search_sql(sql=sql)" in page
        assert "X-GovService-API-Version" in page and "429" in page

    def test_the_developer_pages_speak_chinese_by_default(self, app):
        page = fetch(app, "/api/govservice/getting-started")
        assert "接口快速入门" in page and "合理使用" in page
        assert "查找事项" in page   # the examples' own titles, from api_examples.yaml
        assert "接口参考" in fetch(app, "/api/govservice/docs")

    def test_every_page_footer_links_the_developers(self, app):
        page = fetch(app, "/")
        assert 'href="/api/govservice/getting-started"' in page
        assert 'href="/api/govservice/docs"' in page


@pytest.mark.usefixtures("clean_db", "clean_index", "with_request_context")
def test_the_served_description_is_valid_and_takes_its_examples_from_the_site(app):
    dept = gov.department(name="market-regulation")
    service = gov.service(dept["id"], service_code="330100-SJJ-QR001-01", name="qyslj-330100-sjj-qr001-01")
    openapi_views.forget_examples()
    try:
        response = app.get("/api/govservice/openapi.json")
    finally:
        openapi_views.forget_examples()
    doc = response.json
    validate(doc)
    assert doc["info"]["version"] == openapi.API_VERSION
    params = {p["name"]: p for p in doc["paths"]["/api/3/action/package_show"]["get"]["parameters"]}
    assert params["id"]["example"] == service["name"]
    assert doc["components"]["schemas"]["Service"]["examples"][0]["service_code"] == "330100-SJJ-QR001-01"


# ---------------------------------------------------------------- fair use

LIMITS = "ckanext.govservice.api.rate_limit."


@pytest.fixture
def counts(reset_redis):
    """No request counted yet (the counts live in the test site's Redis)."""
    reset_redis("*govservice-api*")
    yield
    reset_redis("*govservice-api*")


def _search(app, **headers):
    return app.get("/api/3/action/package_search", query_string={"rows": 0}, headers=headers)


@pytest.mark.usefixtures("counts")   # no shared request context: each request identifies its caller
@pytest.mark.ckan_config(LIMITS + "enabled", "true")
@pytest.mark.ckan_config(LIMITS + "per_address", "3 per 2 seconds")
class TestFairUse:
    def test_an_address_over_its_budget_gets_429_with_retry_after_then_recovers(self, app):
        first = [_search(app) for _ in range(3)]
        assert [r.status_code for r in first] == [200, 200, 200]
        assert first[0].headers["X-GovService-API-Version"] == openapi.API_VERSION
        assert first[1].headers["X-RateLimit-Remaining"] == "1" and "Retry-After" not in first[1].headers
        over = _search(app)
        assert over.status_code == 429
        retry_after = int(over.headers["Retry-After"])
        assert 1 <= retry_after <= 2
        assert over.json["success"] is False
        assert over.json["error"]["__type"] == "Rate Limit Exceeded"
        assert over.json["error"]["message"].startswith(
            "Rate limit exceeded: this address's budget is 3 per 2 second requests on the Action API. Try again in")
        time.sleep(retry_after + 0.2)
        assert _search(app).status_code == 200

    def test_pages_and_the_description_are_not_counted(self, app):
        for _ in range(4):
            assert app.get("/api/govservice/openapi.json").status_code == 200
            assert app.get("/api/i18n/zh_Hans_CN").status_code == 200
        assert _search(app).status_code == 200

    @pytest.mark.ckan_config(LIMITS + "per_token", "2 per 10 seconds")
    def test_a_token_has_its_own_budget_apart_from_its_address(self, app):
        user = factories.User()
        token = helpers.call_action("api_token_create", context={"user": user["name"]},
                                    user=user["name"], name="fair use")["token"]
        assert [_search(app, Authorization=token).status_code for _ in range(3)] == [200, 200, 429]
        over = _search(app, Authorization=token)
        assert "this API token's budget is 2 per 10 second" in over.json["error"]["message"]
        assert _search(app).status_code == 200   # the address's budget is untouched

    def test_sysadmins_are_not_limited(self, app):
        admin = factories.Sysadmin()
        token = helpers.call_action("api_token_create", context={"user": admin["name"]},
                                    user=admin["name"], name="fair use")["token"]
        assert {_search(app, Authorization=token).status_code for _ in range(6)} == {200}

    @pytest.mark.ckan_config(LIMITS + "per_token", "1 per 10 seconds")
    @pytest.mark.ckan_config(LIMITS + "exempt_users", "someone-else fair-use-harvester")
    def test_the_harvesters_account_is_not_limited(self, app):
        from ckan import model
        if not model.User.get("fair-use-harvester"):
            factories.User(name="fair-use-harvester")
        token = helpers.call_action("api_token_create", context={"user": "fair-use-harvester"},
                                    user="fair-use-harvester", name="harvests")["token"]
        assert {_search(app, Authorization=token).status_code for _ in range(4)} == {200}

    @pytest.mark.ckan_config(LIMITS + "storage_url", "redis://127.0.0.1:1/0")
    def test_an_unreachable_counter_lets_requests_through_rather_than_failing(self, app):
        assert [_search(app).status_code for _ in range(5)] == [200] * 5

    def test_a_bad_request_over_the_budget_is_429_not_500(self, app):
        for _ in range(3):
            app.post("/api/3/action/package_search", data="not json", content_type="application/json")
        over = app.post("/api/3/action/package_search", data="not json", content_type="application/json")
        assert over.status_code == 429


@pytest.mark.ckan_config("ckanext.govservice.api.max_body_bytes", "1000")
def test_an_oversized_body_is_refused_with_400_keyed_by_body(app):
    body = '{"q": "' + "营业执照 " * 300 + '"}'
    response = app.post("/api/3/action/package_search", data=body.encode(), content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"]["__type"] == "Bad Request"
    assert response.json["error"]["body"][0].startswith(
        f"the request body is {len(body.encode()):,} bytes; the Action API takes at most 1,000")
    small = app.post("/api/3/action/package_search", json={"q": "营业执照", "rows": 0})
    assert small.status_code == 200

