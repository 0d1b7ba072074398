"""Helpers for the admin console's and the privacy page's tests: signing in as a browser does,
the forms' CSRF tokens, and screenshots kept where a test run leaves its artifacts."""

import os
import re
from pathlib import Path
from typing import Any

import pyotp
from factories import ADMIN_PASSWORD, USER_PASSWORD
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait
from tokens import csrf_token, sign_in_user

# Screenshots of the page tests: GATEWAY_TEST_SCREENSHOTS, else test-artifacts/screenshots
# at the top of the repository (ignored by git; CI keeps the folder as an artifact).
SCREENSHOTS = Path(
    os.environ.get("GATEWAY_TEST_SCREENSHOTS")
    or Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
)

_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)


def keep_screenshot(driver: Any, name: str) -> Path:
    """Save the browser's window as SCREENSHOTS/<name>.png; its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    assert driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000  # a rendered page, not a blank window
    return path


def click_and_wait(browser: Any, element: Any) -> None:
    """Click `element` (a link or a form's button) and wait until the next page has replaced
    this one: a click returns before a form's navigation has finished."""
    page = browser.find_element(By.TAG_NAME, "html")
    element.click()
    wait_until_replaced(browser, page)


def wait_until_replaced(browser: Any, page: Any) -> None:
    """Wait (10 s at most) until the next page has replaced `page`, the old <html> element."""
    WebDriverWait(browser, 10).until(lambda _: _replaced(page))


def _replaced(element: Any) -> bool:
    """Whether `element`'s page has been replaced. Mid-navigation chromedriver may answer
    "does not belong to the document" instead of a stale-element error: replaced all the same."""
    try:
        return bool(expected_conditions.staleness_of(element)(None))
    except WebDriverException as error:
        if "does not belong to the document" in str(error.msg):
            return True
        raise


def totp_now(secret: str, clock: Any) -> str:
    """The admin's code at the app's clock (the server checks it against the same clock)."""
    return str(pyotp.TOTP(secret).at(clock.now))


def sign_in_admin(http: Any, make: Any, clock: Any, *, name: str | None = None) -> Any:
    """A new admin account, signed in on `http` with its password and its TOTP code."""
    admin = make.admin_account(name)
    page = http.get("/admin/sign-in")
    first = http.post(
        "/admin/sign-in",
        data={"name": admin.name, "password": ADMIN_PASSWORD, "csrf_token": csrf_token(page)},
    )
    assert first.status_code in (302, 303), first.get_data(as_text=True)[:300]
    page = http.get(first.headers["Location"])
    second = http.post(
        "/admin/sign-in/code",
        data={"code": totp_now(admin.totp_secret, clock), "csrf_token": csrf_token(page)},
    )
    assert second.status_code in (302, 303), second.get_data(as_text=True)[:300]
    return admin


def sign_in_as_user(http: Any, make: Any) -> tuple[str, str]:
    """A new user with a password, signed in on `http`; (user id, login)."""
    user_id, login = make.user_with_password()
    response = sign_in_user(http, login, USER_PASSWORD, next_url="/privacy/")
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
    return user_id, login


def form_token(http: Any, path: str) -> str:
    """The CSRF token of the forms on the page at `path`."""
    return csrf_token(http.get(path))


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))
