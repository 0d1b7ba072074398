"""The /docs page in a real headless Chromium, served by a real HTTP server."""

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from werkzeug.serving import make_server

from gateway.openapi import document_for

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def base_url(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    # CI installs Chromium (.ci/run): a missing browser is a failure, never a skip
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    assert Path(CHROMEDRIVER).exists(), (
        f"{CHROMEDRIVER} is missing: apt-get install chromium-driver"
    )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,1800",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    yield driver
    driver.quit()
    shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


def console_errors(browser: webdriver.Chrome) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def test_the_docs_page_renders_every_endpoint_cleanly(app, base_url, browser, tmp_path):
    browser.get(f"{base_url}/docs")
    document = document_for(app)
    operations = [(m.upper(), path) for path, item in document["paths"].items() for m in item]

    assert "Skill Data Gateway" in browser.title
    articles = browser.find_elements(By.CSS_SELECTOR, "article.endpoint")
    shown = [
        (
            article.find_element(By.CSS_SELECTOR, ".endpoint-head .method").text,
            article.find_element(By.CSS_SELECTOR, ".path").text,
        )
        for article in articles
    ]
    assert sorted(shown) == sorted(operations)
    interactions = browser.find_element(By.ID, "developers_list_interactions")
    assert "scope: transcripts:read" in interactions.text
    assert "cursor" in interactions.find_element(By.CSS_SELECTOR, "table").text
    assert "Authorization: Bearer $TOKEN" in interactions.find_element(By.CSS_SELECTOR, "pre").text
    # the stylesheet loaded (and the Content-Security-Policy let it)
    badge = browser.find_element(By.CSS_SELECTOR, ".method-get")
    assert badge.value_of_css_property("background-color") == "rgba(10, 107, 61, 1)"
    screenshot = tmp_path / "docs.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000
    assert console_errors(browser) == []


def test_the_docs_page_fits_a_phone_screen(base_url, browser):
    browser.set_window_size(390, 844)
    browser.get(f"{base_url}/docs")

    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    assert console_errors(browser) == []


def test_the_openapi_link_opens_the_document(base_url, browser):
    browser.get(f"{base_url}/docs")
    assert console_errors(browser) == []

    browser.find_element(By.ID, "openapi-link").click()

    # (the JSON viewer then asks for /favicon.ico, which this API does not serve)
    assert browser.current_url == f"{base_url}/openapi.json"
    document = json.loads(browser.find_element(By.TAG_NAME, "pre").text)
    assert document["openapi"] == "3.1.0"
