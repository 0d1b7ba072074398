"""The admin console in a real headless Chromium: sign-in with the second factor, approving a
tier request (then the developer reads transcripts through the real API), a suspension that
stops a live token, and the audit view. Screenshots go to pages.SCREENSHOTS."""

from browser import console_errors
from factories import ADMIN_PASSWORD
from pages import click_and_wait, keep_screenshot, totp_now
from selenium.webdriver.common.by import By

from gateway.services import audit, tier_requests

# Every visible form control has a label: its own <label for>, a wrapping one, or aria-label.
UNLABELLED = """
return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
  .map(el => el.outerHTML);
"""


def _click(browser, selector: str) -> None:  # type: ignore[no-untyped-def]
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, selector))


def test_an_admin_approves_a_request_suspends_a_developer_and_sees_it_audited(
    live_url, browser, client, make, clock, bearer
):
    admin = make.admin_account()
    developer_id = make.developer(tier=None, name="Pizza Palace Inc")
    skill_id = make.skill(developer_id, name="Pizza Palace")
    user_id = make.user()
    make.consent(user_id, skill_id)
    interaction_id = make.interaction(skill_id, user_id)
    request = make._run(
        tier_requests.submit_request,
        actor=audit.SYSTEM,
        developer_id=developer_id,
        tier="standard",
        purpose="We improve our pizza ordering from real conversations.",
        accepted_terms=True,
    )
    token = bearer(make.client(developer_id=developer_id))
    interactions = f"/v1/skills/{skill_id}/interactions"
    assert client.get(interactions, headers=token).status_code == 403  # tier none

    # sign in: password, then the code from the authenticator app
    browser.get(f"{live_url}/admin/")
    assert "/admin/sign-in" in browser.current_url
    browser.find_element(By.ID, "name").send_keys(admin.name)
    browser.find_element(By.ID, "password").send_keys(ADMIN_PASSWORD)
    _click(browser, "#continue")
    browser.find_element(By.ID, "code").send_keys(totp_now(admin.totp_secret, clock))
    _click(browser, "#verify")
    assert browser.current_url == f"{live_url}/admin/developers"
    assert "1 tier request waiting" in browser.find_element(By.TAG_NAME, "main").text
    assert browser.execute_script(UNLABELLED) == []
    keep_screenshot(browser, "console-developers")

    # approve the pending request
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Review the tier requests"))
    card = browser.find_element(By.ID, f"request-{request['id']}")
    assert "We improve our pizza ordering" in card.text
    assert browser.execute_script(UNLABELLED) == []
    keep_screenshot(browser, "console-requests")
    click_and_wait(browser, card.find_element(By.CSS_SELECTOR, ".approve-form button"))
    assert "The request is approved" in browser.find_element(By.CSS_SELECTOR, "[role=status]").text
    assert browser.find_elements(By.ID, "no-requests")

    # the developer's own token now reads transcripts through the real API
    response = client.get(interactions, headers=token)
    assert response.status_code == 200, response.get_json()
    assert [item["id"] for item in response.get_json()["interactions"]] == [interaction_id]

    # suspend it: the same live token is refused on its very next request
    browser.get(f"{live_url}/admin/developers/{developer_id}")
    assert browser.find_element(By.ID, "current-tier").text == "standard"
    assert browser.execute_script(UNLABELLED) == []
    keep_screenshot(browser, "console-developer")
    _click(browser, "#suspend-form button")
    assert "suspended" in browser.find_element(By.ID, "developer-status").text.lower()
    keep_screenshot(browser, "console-developer-suspended")
    assert client.get(interactions, headers=token).status_code == 401

    # the audit view: the actions, by this admin, and the chain's verdict
    browser.get(f"{live_url}/admin/audit")
    verdict = browser.find_element(By.ID, "chain-verdict")
    assert "The chain verifies" in verdict.text
    events = browser.find_element(By.ID, "audit-events").text
    for action in ("tier_request.decided", "grant.made", "developer.suspended", "token.revoked"):
        assert f"admin:{admin.name} {action}" in events, action
    assert browser.execute_script(UNLABELLED) == []
    keep_screenshot(browser, "console-audit")
    assert console_errors(browser) == []


def test_the_console_fits_a_phone_screen_and_keyboard_focus_is_visible(
    live_url, browser, make, clock
):
    admin = make.admin_account()
    make.developer(tier="standard", name="Weather Now")
    browser.set_window_size(390, 844)
    browser.get(f"{live_url}/admin/sign-in")
    browser.find_element(By.ID, "name").send_keys(admin.name)
    browser.find_element(By.ID, "password").send_keys(ADMIN_PASSWORD)
    _click(browser, "#continue")
    browser.find_element(By.ID, "code").send_keys(totp_now(admin.totp_secret, clock))
    _click(browser, "#verify")

    for path in ("/admin/developers", "/admin/audit"):
        browser.get(f"{live_url}{path}")
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, path
    # the first Tab reaches the skip link, which then shows
    browser.find_element(By.TAG_NAME, "body").send_keys("\t")
    focused = browser.switch_to.active_element
    assert focused.get_attribute("class") == "skip"
    assert focused.value_of_css_property("outline-style") == "solid"
    keep_screenshot(browser, "console-audit-phone")
    assert console_errors(browser) == []
