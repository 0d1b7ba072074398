"""The /docs page in a real headless Chromium, served by a real HTTP server."""

import json

from browser import console_errors
from selenium.webdriver.common.by import By

from gateway.openapi import document_for


def test_the_docs_page_renders_every_endpoint_cleanly(app, live_url, browser, tmp_path):
    browser.get(f"{live_url}/docs")
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


def test_the_docs_page_fits_a_phone_screen(live_url, browser):
    browser.set_window_size(390, 844)
    browser.get(f"{live_url}/docs")

    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    assert console_errors(browser) == []


def test_the_openapi_link_opens_the_document(live_url, browser):
    browser.get(f"{live_url}/docs")
    assert console_errors(browser) == []

    browser.find_element(By.ID, "openapi-link").click()

    # (the JSON viewer then asks for /favicon.ico, which this API does not serve)
    assert browser.current_url == f"{live_url}/openapi.json"
    document = json.loads(browser.find_element(By.TAG_NAME, "pre").text)
    assert document["openapi"] == "3.1.0"
