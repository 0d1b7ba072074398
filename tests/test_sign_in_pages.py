"""Signing in, in a real headless Chromium against a real HTTP server: an admin with the
second factor, and a user signing in through /oauth/authorize so that the app gets a token.

Screenshots are kept in <pytest basetemp>/screenshots/ (e.g. --basetemp=/tmp/bt →
/tmp/bt/screenshots/admin-signed-in.png).
"""

from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pyotp
import pytest
from browser import console_errors
from factories import ADMIN_PASSWORD, USER_PASSWORD
from pages import click_and_wait, wait_until_replaced
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from tokens import pkce_pair


@pytest.fixture
def screenshots(tmp_path_factory) -> Path:
    folder = Path(tmp_path_factory.getbasetemp()) / "screenshots"
    folder.mkdir(exist_ok=True)
    return folder


def shoot(browser, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    assert browser.save_screenshot(str(path))
    assert path.stat().st_size > 5_000


def labelled(browser) -> bool:
    """Every visible form control has a label (what a screen reader announces)."""
    return bool(
        browser.execute_script(
            "return [...document.querySelectorAll('input:not([type=hidden]):not([hidden]),"
            " select, textarea')].every(e => e.labels && e.labels.length > 0)"
        )
    )


def test_an_admin_signs_in_with_the_second_factor(live_url, browser, make, screenshots):
    admin = make.admin_account()
    browser.get(f"{live_url}/admin/sign-in")
    assert labelled(browser)
    shoot(browser, screenshots, "admin-sign-in")
    # the name field has the focus; Tab goes on to the password, then the button
    assert browser.switch_to.active_element.get_attribute("id") == "name"
    browser.switch_to.active_element.send_keys(admin.name, Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "password"
    browser.switch_to.active_element.send_keys(ADMIN_PASSWORD, Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "continue"
    signing_in = browser.find_element(By.TAG_NAME, "html")
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait_until_replaced(browser, signing_in)

    assert urlsplit(browser.current_url).path == "/admin/sign-in/code"
    assert labelled(browser)
    shoot(browser, screenshots, "admin-code")
    code = pyotp.TOTP(admin.totp_secret).now()
    browser.find_element(By.ID, "code").send_keys(code)
    click_and_wait(browser, browser.find_element(By.ID, "verify"))

    assert urlsplit(browser.current_url).path == "/admin/account"
    assert browser.find_element(By.ID, "account-name").text == admin.name
    cookie = browser.get_cookie("gateway_admin_session")
    assert cookie is not None
    assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"], cookie["path"]) == (
        True,
        True,
        "Strict",
        "/admin",
    )
    # page scripts cannot read it (HttpOnly)
    assert "gateway_admin_session" not in browser.execute_script("return document.cookie")
    shoot(browser, screenshots, "admin-signed-in")
    assert console_errors(browser) == []


def test_a_wrong_code_keeps_the_admin_out(live_url, browser, make):
    admin = make.admin_account()
    browser.get(f"{live_url}/admin/sign-in")
    browser.find_element(By.ID, "name").send_keys(admin.name)
    browser.find_element(By.ID, "password").send_keys(ADMIN_PASSWORD)
    click_and_wait(browser, browser.find_element(By.ID, "continue"))
    right = pyotp.TOTP(admin.totp_secret).now()
    browser.find_element(By.ID, "code").send_keys(f"{(int(right) + 7) % 1_000_000:06d}")
    click_and_wait(browser, browser.find_element(By.ID, "verify"))

    assert "not right" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    browser.get(f"{live_url}/admin/account")
    assert urlsplit(browser.current_url).path == "/admin/sign-in"


def test_a_user_signs_in_through_authorize_and_the_app_gets_a_token(
    live_url, browser, client, make, screenshots
):
    _, login = make.user_with_password()
    callback = f"{live_url}/app/callback"
    app_client = make.client(kind="app", redirect_uris=[callback])
    verifier, challenge = pkce_pair()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": app_client.client_id,
            "redirect_uri": callback,
            "scope": "privacy",
            "state": "browser-state-1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )

    browser.get(f"{live_url}/oauth/authorize?{query}")

    assert urlsplit(browser.current_url).path == "/sign-in"
    assert labelled(browser)
    shoot(browser, screenshots, "user-sign-in")
    browser.find_element(By.ID, "login").send_keys(login)
    browser.find_element(By.ID, "password").send_keys(USER_PASSWORD)
    click_and_wait(browser, browser.find_element(By.ID, "sign-in"))

    assert urlsplit(browser.current_url).path == "/oauth/authorize"
    assert "Allow" in browser.find_element(By.TAG_NAME, "h1").text
    shoot(browser, screenshots, "user-authorize")
    assert console_errors(browser) == []
    click_and_wait(browser, browser.find_element(By.ID, "allow"))

    landed = urlsplit(browser.current_url)
    assert f"{landed.scheme}://{landed.netloc}{landed.path}" == callback
    params = parse_qs(landed.query)
    assert params["state"] == ["browser-state-1"]
    token = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"][0],
            "redirect_uri": callback,
            "client_id": app_client.client_id,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, token.get_json()
    headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    assert client.get("/v1/me", headers=headers).get_json()["platform_user_id"] == login


def test_the_sign_in_page_fits_a_phone_screen(live_url, browser, screenshots):
    browser.set_window_size(390, 844)
    browser.get(f"{live_url}/sign-in")

    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    shoot(browser, screenshots, "user-sign-in-phone")
    assert console_errors(browser) == []
