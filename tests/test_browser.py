"""The portal in a real browser: Debian's headless Chromium driven by Selenium.

A citizen searches 营业执照, opens the service, sees what to bring, how long
it takes and how it performs, and switches to English; a department admin
signs in to the harvest admin app and opens a harvest report; the same
citizen steps on a 375-px phone. Every step leaves a screenshot in
test-artifacts/browser/.

What the page's own scripts do (the sort and language selects submitting
their forms, the performance chart drawn) is left to them: a step fails when
a script did not do its work, and any error in the browser's console fails it.

The test builds its own department (a service, a year of statistics loaded
by a harvest with one bad row) on the running portal, and serves the harvest
admin app on the harvest test database, so it needs nothing from `make demo`.
"""
from __future__ import annotations

import csv
import io
import os
import shutil
import threading
import uuid
from pathlib import Path

import pytest
from ckanapi import RemoteCKAN

from .stackctl import CKAN_URL, ROOT

ARTIFACTS = ROOT / "test-artifacts" / "browser"
MONTHS = [f"2025-{m:02d}" for m in range(11, 13)] + [f"2026-{m:02d}" for m in range(1, 11)]


def _harvest_settings() -> dict[str, str]:
    env = dict(line.split("=", 1) for line in (ROOT / "var" / "harvest.env").read_text().splitlines()
               if "=" in line)
    slot = os.environ.get("GOVSERVICE_TEST_SLOT")
    if slot:
        env["GOVHARVEST_TEST_DB_URL"] += f"_{slot}"
    return env


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for need in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        assert Path(need).exists(), f"{need} is missing: `make install` installs chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                "--lang=zh-CN", "--disable-gpu"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})   # the console, for script errors
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(60)
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    yield driver
    driver.quit()


def shot(driver, name: str) -> None:
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def no_console_errors(driver) -> None:
    """Nothing went wrong in the page's scripts or loads since the last look."""
    # (a favicon is the browser's own request, not the page's)
    errors = [e["message"] for e in driver.get_log("browser")
              if e["level"] == "SEVERE" and "/favicon.ico " not in e["message"]]
    assert errors == [], f"{driver.current_url}: the browser's console shows errors: {errors}"


def until(driver, condition, what_failed: str, seconds: int = 30) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait
    try:
        WebDriverWait(driver, seconds).until(condition)
    except TimeoutException:
        no_console_errors(driver)          # a script's error says more than the timeout
        raise AssertionError(f"{driver.current_url}: {what_failed} within {seconds} s") from None


def scripts_ready(driver) -> None:
    """The page and every script it loads have run (CKAN starts its modules on load)."""
    until(driver, lambda b: b.execute_script("return document.readyState") == "complete",
          "the page did not finish loading")


@pytest.fixture(scope="module")
def city(portal, tmp_path_factory):
    """A department with one service, a year of statistics harvested from a file
    (one row refused), its admin's API token, and the harvest admin app."""
    from ckanext.govservice.tests.factories import service_dict

    suffix = uuid.uuid4().hex[:6]
    dept = portal.action.organization_create(
        name=f"browser-{suffix}", title="滨江市浏览器测试局", title_en="Binjiang Browser Test Bureau",
        level="city", area="滨江市")
    admin = portal.action.user_create(name=f"browser-admin-{suffix}", email=f"b{suffix}@example.org",
                                      password=uuid.uuid4().hex)
    portal.action.organization_member_create(id=dept["id"], username=admin["name"], role="admin")
    token = portal.action.api_token_create(user=admin["name"], name="browser test")["token"]
    service = portal.action.package_create(**service_dict(
        dept["id"], name=f"yyzz-{suffix}", service_code=f"BT-{suffix}",
        title=f"企业营业执照核发（{suffix}）", title_en=f"Business licence issuance ({suffix})"))

    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["事项编码", "统计月份", "办理渠道", "受理量", "办结量", "按时办结量", "网上办结量"])
    for i, month in enumerate(MONTHS):
        writer.writerow([service["service_code"], month, "online", 100 + i, 90 + i, 80 + i, 60 + i])
    writer.writerow([service["service_code"], "2026-13", "online", 1, 1, 1, 1])   # refused
    stats_file = tmp_path_factory.mktemp("browser") / "statistics.csv"
    stats_file.write_text(rows.getvalue(), encoding="utf-8")

    settings = _harvest_settings()
    os.environ["GOVHARVEST_DB_URL"] = settings["GOVHARVEST_TEST_DB_URL"]
    from govharvest import admin as admin_app, db, pipeline, sources
    with db.connect() as conn:
        source = sources.add(conn, name=f"browser-statistics-{suffix}", department=dept["name"],
                             format="csv", location=str(stats_file), kind="statistics")
        job_id = pipeline.start_job(conn, source)
    pipeline.run_job(db.connect, job_id, portal)

    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, admin_app.create_app(CKAN_URL), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"dept": dept, "service": service, "token": token, "job": job_id,
           "admin_url": f"http://127.0.0.1:{server.server_port}"}
    server.shutdown()
    for dataset in portal.action.package_search(fq=f"owner_org:{dept['id']}", rows=100,
                                                include_private=True)["results"]:
        portal.action.dataset_purge(id=dataset["id"])
    portal.action.organization_purge(id=dept["id"])
    portal.action.user_delete(id=admin["name"])


def citizen_finds_the_service(browser, city, prefix: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    browser.get(f"{CKAN_URL}/service/")
    box = browser.find_element(By.ID, "field-giant-search")   # the page's own search box
    box.send_keys("营业执照", Keys.ENTER)
    # Many services match; the newest (ours) comes first sorted by "last modified".
    until(browser, lambda b: "q=" in b.current_url, "the search was not sent")
    scripts_ready(browser)
    no_console_errors(browser)
    Select(browser.find_element(By.CSS_SELECTOR, "select[name=sort]")).select_by_value("metadata_modified desc")
    # CKAN's select-switch script submits the form on change: no Go button is pressed for it
    until(browser, lambda b: "sort=metadata_modified" in b.current_url,
          "the page's script did not submit the sort form on change")
    link = browser.find_element(By.CSS_SELECTOR, f"a[href$='/service/{city['service']['name']}']")
    shot(browser, f"{prefix}1-search-results")
    link.click()
    until(browser, lambda b: b.find_elements(By.ID, "performance-panel"), "the service page did not open")
    scripts_ready(browser)
    page = browser.find_element(By.TAG_NAME, "body").text
    assert city["service"]["title"] in browser.title or city["service"]["title"] in page
    assert "居民身份证" in page and "公司章程" in page          # what to bring
    assert "3 工作日" in page                                     # the committed time limit
    canvas = browser.find_element(By.CSS_SELECTOR, "#performance-panel canvas")
    assert canvas.is_displayed()
    # drawn by the page's chart script (Chart.js holds a chart for the canvas), not an empty canvas
    until(browser, lambda b: b.execute_script(
        "return !!(window.Chart && Chart.getChart(document.querySelector('#performance-panel canvas')))"),
        "the page's script drew no chart on the performance canvas")
    no_console_errors(browser)
    shot(browser, f"{prefix}2-service-page")


def test_a_citizen_finds_the_business_licence_and_reads_it_in_english(browser, city):
    from selenium.webdriver.common.by import By

    citizen_finds_the_service(browser, city, "desktop-")
    # The footer's language list, a select2 widget over a plain <select>, as a person uses it:
    # open it, click English; CKAN's scripts carry the choice to the form and submit it.
    widget = browser.find_element(By.CSS_SELECTOR, "form.lang-select .select2-selection")
    # instant: Bootstrap's smooth scrolling would still be moving the page at the click
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", widget)
    widget.click()

    def english(b):
        return [e for e in b.find_elements(By.CSS_SELECTOR, ".select2-results__option") if e.text.strip() == "English"]
    until(browser, english, "the language list did not open")
    english(browser)[0].click()
    until(browser, lambda b: "/en/" in b.current_url, "the page's script did not switch to English")
    scripts_ready(browser)
    no_console_errors(browser)
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Business licence issuance" in body
    assert "ID card" in body
    shot(browser, "desktop-3-service-page-english")


def test_a_department_admin_opens_the_harvest_report(browser, city):
    from selenium.webdriver.common.by import By

    browser.get(f"{city['admin_url']}/login")
    browser.find_element(By.CSS_SELECTOR, "input[name=token]").send_keys(city["token"])
    browser.find_element(By.CSS_SELECTOR, "form").submit()
    browser.get(f"{city['admin_url']}/jobs/{city['job']}")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "2026-13" in body and "YYYY-MM" in body          # the refused row, with its reason
    shot(browser, "desktop-4-harvest-report")


def test_the_same_on_a_phone(browser, city):
    browser.set_window_size(375, 812)
    try:
        citizen_finds_the_service(browser, city, "phone-")
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than a 375-px phone"
    finally:
        browser.set_window_size(1280, 900)
