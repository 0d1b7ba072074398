"""The privacy page in a real headless Chromium: sign in, revoke a skill (then the developer's
token no longer reads that user's interactions), delete today and see the receipt.
Screenshots go to pages.SCREENSHOTS."""

from browser import console_errors
from factories import USER_PASSWORD
from pages import click_and_wait, keep_screenshot
from selenium.webdriver.common.by import By
from test_console_browser import UNLABELLED


def test_a_user_revokes_a_skill_and_deletes_today(live_url, browser, client, make, bearer):
    user_id, login = make.user_with_password()
    developer_id = make.developer(tier="standard", name="Pizza Palace Inc")
    skill_id = make.skill(developer_id, name="Pizza Palace")
    weather = make.skill(make.developer(tier="standard", name="Weather Now"), name="Weather")
    make.consent(user_id, skill_id)
    interaction_id = make.interaction(skill_id, user_id)
    make.interaction(weather, user_id, intent="GetForecast")
    token = bearer(make.client(developer_id=developer_id))
    interactions = f"/v1/skills/{skill_id}/interactions"
    before = client.get(interactions, headers=token)
    assert [item["id"] for item in before.get_json()["interactions"]] == [interaction_id]

    browser.get(f"{live_url}/privacy/")
    assert "/sign-in" in browser.current_url
    browser.find_element(By.ID, "login").send_keys(login)
    browser.find_element(By.ID, "password").send_keys(USER_PASSWORD)
    click_and_wait(browser, browser.find_element(By.ID, "sign-in"))
    assert browser.current_url == f"{live_url}/privacy/"
    card = browser.find_element(By.ID, f"skill-{skill_id}")
    # (badges are set in capitals by the stylesheet: compare what they say, not how)
    assert "allowed since" in card.text.lower() and "Pizza Palace Inc" in card.text
    assert "not allowed" in browser.find_element(By.ID, f"skill-{weather}").text.lower()
    assert browser.execute_script(UNLABELLED) == []
    keep_screenshot(browser, "privacy-skills")

    # revoke in one click: the developer's token no longer reads this user's interactions
    click_and_wait(browser, card.find_element(By.CSS_SELECTOR, ".revoke-form button"))
    assert "can no longer read" in browser.find_element(By.CSS_SELECTOR, "[role=status]").text
    assert "not allowed" in browser.find_element(By.ID, f"skill-{skill_id}").text.lower()
    keep_screenshot(browser, "privacy-revoked")
    after = client.get(interactions, headers=token)
    assert after.status_code == 200
    assert after.get_json()["interactions"] == []
    assert client.get(f"{interactions}/{interaction_id}", headers=token).status_code == 404

    # the developer's earlier read is in the access log
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Who read what"))
    assert "Pizza Palace Inc" in browser.find_element(By.ID, "access-log").text
    keep_screenshot(browser, "privacy-access-log")

    # what I said, in my own words, and how often developers read each
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "What I said"))
    said = browser.find_element(By.ID, "interactions").text
    assert "order a large pepperoni pizza" in said and "1 time" in said
    keep_screenshot(browser, "privacy-interactions")

    # delete today, after a confirmation step, and see the receipt
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Delete"))
    assert browser.find_element(By.ID, "scope-today").is_selected()
    assert browser.execute_script(UNLABELLED) == []
    keep_screenshot(browser, "privacy-delete")
    click_and_wait(browser, browser.find_element(By.ID, "review-delete"))
    assert "Are you sure?" in browser.find_element(By.TAG_NAME, "h1").text
    assert "today" in browser.find_element(By.ID, "confirm-deletion").text
    keep_screenshot(browser, "privacy-delete-confirm")
    assert len(make.rows("SELECT 1 FROM interactions WHERE user_id = %s", (user_id,))) == 2
    click_and_wait(browser, browser.find_element(By.ID, "confirm-delete"))
    assert "/privacy/deletions/" in browser.current_url
    receipt = browser.find_element(By.ID, "receipt")
    assert "2 interactions deleted" in receipt.text
    assert "Pizza Palace Inc" in browser.find_element(By.ID, "propagation").text
    keep_screenshot(browser, "privacy-receipt")
    assert make.rows("SELECT 1 FROM interactions WHERE user_id = %s", (user_id,)) == []

    receipt_id = browser.find_element(By.ID, "receipt-id").text
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Receipts"))
    assert receipt_id in browser.find_element(By.ID, "receipts").text
    assert console_errors(browser) == []


def test_the_privacy_page_fits_a_phone_screen(live_url, browser, make):
    user_id, login = make.user_with_password()
    skill_id = make.skill(make.developer(name="Pizza Palace Inc"), name="Pizza Palace")
    make.consent(user_id, skill_id)
    make.interaction(skill_id, user_id)  # a row in each table: the widths that must fit
    browser.set_window_size(390, 844)
    browser.get(f"{live_url}/sign-in?next=/privacy/")
    browser.find_element(By.ID, "login").send_keys(login)
    browser.find_element(By.ID, "password").send_keys(USER_PASSWORD)
    click_and_wait(browser, browser.find_element(By.ID, "sign-in"))

    for path in ("/privacy/", "/privacy/interactions", "/privacy/deletion", "/privacy/access-log"):
        browser.get(f"{live_url}{path}")
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, path
        keep_screenshot(browser, f"privacy-phone-{path.strip('/').replace('/', '-')}")
    assert console_errors(browser) == []
