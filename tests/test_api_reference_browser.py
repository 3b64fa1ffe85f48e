"""The API reference (/api/govservice/docs) in headless Chromium, on the running
portal: Swagger UI draws every operation from our own assets, a read action is
tried from the page and the portal answers it, and the page asked nothing of
any other host. Its screenshot is test-artifacts/browser/api-reference.png."""
from __future__ import annotations

from .stackctl import CKAN_URL
from .test_browser import browser, shot   # noqa: F401  (the module's headless Chromium)


def press(browser, element) -> None:
    """Click as a user would, wherever the page has scrolled it (a header may lie over it)."""
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", element)


def test_the_api_reference_draws_from_our_own_assets_and_tries_a_read_action(browser):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{CKAN_URL}/api/govservice/docs")
    WebDriverWait(browser, 60).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#swagger-ui .opblock"))
    operations = browser.find_elements(By.CSS_SELECTOR, "#swagger-ui .opblock")
    assert len(operations) >= 20   # ours and the CKAN actions, GET and POST
    assert browser.find_elements(By.ID, "operations-ckan-datastore_search_sql")

    schema = browser.find_element(By.ID, "operations-govservice-govservice_schema")
    press(browser, schema.find_element(By.CSS_SELECTOR, ".opblock-summary-control"))
    WebDriverWait(browser, 20).until(lambda b: schema.find_elements(By.CSS_SELECTOR, ".try-out__btn"))
    press(browser, schema.find_element(By.CSS_SELECTOR, ".try-out__btn"))
    WebDriverWait(browser, 20).until(lambda b: schema.find_elements(By.CSS_SELECTOR, ".execute"))
    press(browser, schema.find_element(By.CSS_SELECTOR, ".execute"))
    WebDriverWait(browser, 60).until(
        lambda b: schema.find_elements(By.CSS_SELECTOR, ".live-responses-table .response .response-col_status"))
    status = schema.find_element(By.CSS_SELECTOR, ".live-responses-table .response .response-col_status").text
    assert status.startswith("200")
    assert "in_person_visits_i" in schema.find_element(By.CSS_SELECTOR, ".live-responses-table").text
    # a POST (a write action) has no "Try it out": only read actions are tried from the page
    build = browser.find_element(By.ID, "operations-govservice-govservice_catalogue_build_post")
    press(browser, build.find_element(By.CSS_SELECTOR, ".opblock-summary-control"))
    WebDriverWait(browser, 20).until(lambda b: build.find_elements(By.CSS_SELECTOR, ".opblock-body"))
    assert not build.find_elements(By.CSS_SELECTOR, ".try-out__btn")

    fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert any("swagger-ui" in url for url in fetched)
    assert [url for url in fetched if not url.startswith(CKAN_URL)] == []
    shot(browser, "api-reference")
