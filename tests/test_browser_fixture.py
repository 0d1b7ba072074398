"""The page tests' browser: skipped with a reason where none is installed, required in CI."""

import pytest
from browser import find_browser


def nothing(name: str) -> None:
    return None


def only_chromium(name: str) -> str | None:
    return "/opt/chromium" if name == "chromium" else None


def test_without_chromium_the_page_tests_are_skipped_with_the_reason():
    with pytest.raises(pytest.skip.Exception, match="no chromium and no chromedriver on PATH"):
        find_browser(nothing, required=False)


def test_a_missing_driver_is_named():
    with pytest.raises(pytest.skip.Exception, match="no chromedriver .*chromium-driver"):
        find_browser(only_chromium, required=False)


def test_where_the_browser_is_required_a_missing_one_fails():
    with pytest.raises(pytest.fail.Exception, match="GATEWAY_TEST_REQUIRE_BROWSER"):
        find_browser(nothing, required=True)


def test_required_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("GATEWAY_TEST_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception):
        find_browser(nothing)
    monkeypatch.delenv("GATEWAY_TEST_REQUIRE_BROWSER")
    with pytest.raises(pytest.skip.Exception):
        find_browser(nothing)


def test_both_found_are_used():
    def both(name: str) -> str | None:
        return {"chromium-browser": "/snap/bin/chromium-browser", "chromedriver": "/x/cd"}.get(name)

    assert find_browser(both, required=True) == ("/snap/bin/chromium-browser", "/x/cd")
