"""Activation: the platform asks for a one-time link; the user sets a password with it."""

import re
from urllib.parse import urlsplit

import pytest
from tokens import csrf_token, sign_in_user

NEW_PASSWORD = "a long and private phrase"


@pytest.fixture
def platform(make, bearer):
    return bearer(make.client(kind="platform"))


def issue(client, platform, user):
    response = client.post(f"/v1/platform/users/{user}/activation", headers=platform)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def set_password(client, link, password=NEW_PASSWORD, confirm=None):
    path = urlsplit(link).path
    page = client.get(path)
    assert page.status_code == 200
    return client.post(
        path,
        data={
            "password": password,
            "confirm": password if confirm is None else confirm,
            "csrf_token": csrf_token(page),
        },
    )


def test_the_platform_gets_a_one_time_link_and_the_user_sets_a_password(
    app, client, make, platform
):
    user = make.user()
    login = make.rows("SELECT platform_user_id FROM users WHERE id = %s", (user,))[0]
    login = login["platform_user_id"]

    body = issue(client, platform, login)

    assert body["user_id"] == user
    assert body["activation_url"].startswith(app.config["ISSUER"].rstrip("/") + "/activate/")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", body["expires_at"])
    assert login in client.get(urlsplit(body["activation_url"]).path).get_data(as_text=True)
    assert set_password(client, body["activation_url"]).status_code == 200
    assert sign_in_user(client, login, NEW_PASSWORD).status_code == 303


def test_a_link_works_once(client, make, platform):
    user = make.user()
    link = issue(client, platform, user)["activation_url"]
    assert set_password(client, link).status_code == 200

    again = client.get(urlsplit(link).path)

    assert again.status_code == 404
    assert "not valid any more" in again.get_data(as_text=True)


def test_a_link_expires(client, make, platform, clock, app):
    link = issue(client, platform, make.user())["activation_url"]
    clock.advance(seconds=app.config["ACTIVATION_TTL"])

    assert client.get(urlsplit(link).path).status_code == 404


def test_a_weak_or_mistyped_password_leaves_the_link_usable(client, make, platform):
    user = make.user()
    link = issue(client, platform, user)["activation_url"]

    assert set_password(client, link, "short").status_code == 422
    assert set_password(client, link, NEW_PASSWORD, confirm="something else").status_code == 422
    assert make.count("user_credentials") == 0
    assert set_password(client, link).status_code == 200


def test_the_form_needs_its_csrf_token(client, make, platform):
    link = issue(client, platform, make.user())["activation_url"]
    client.get(urlsplit(link).path)

    response = client.post(
        urlsplit(link).path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )

    assert response.status_code == 403
    assert make.count("user_credentials") == 0


def test_only_a_digest_of_the_link_is_stored_and_the_issue_is_audited(client, make, platform):
    user = make.user()
    token = issue(client, platform, user)["activation_url"].rsplit("/", 1)[1]

    stored = make.rows("SELECT token_digest FROM activation_links")

    assert len(stored) == 1 and token not in str(stored)
    audited = make.rows(
        "SELECT actor_kind, subject FROM audit_events WHERE action = 'user.activation_issued'"
        " AND occurred_at = now()"
    )
    assert audited == [{"actor_kind": "client", "subject": user}]


def test_an_unknown_user_is_a_404(client, platform, make):
    response = client.post("/v1/platform/users/nobody-at-all/activation", headers=platform)

    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
    assert make.count("activation_links") == 0


@pytest.mark.parametrize("kind", ["developer", "admin"])
def test_only_the_platform_asks_for_links(client, make, bearer, kind):
    developer = make.developer() if kind == "developer" else None
    headers = bearer(make.client(kind=kind, developer_id=developer))

    response = client.post(f"/v1/platform/users/{make.user()}/activation", headers=headers)

    assert response.status_code == 403
    assert make.count("activation_links") == 0
