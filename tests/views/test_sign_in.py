"""Signing in on the web: users (password) and admins (password, then TOTP); sessions,
cookies, CSRF and attempt limits, through real requests to the real pages."""

import pyotp
import pytest
from factories import ADMIN_PASSWORD, USER_PASSWORD
from tokens import csrf_token, sign_in_user

from gateway import create_app
from gateway.db import SharedConnection

USER_COOKIE = "gateway_user_session"
ADMIN_COOKIE = "gateway_admin_session"


def set_cookies(response):
    return [h for h in response.headers.getlist("Set-Cookie")]


def cookie_line(response, name):
    return next(line for line in set_cookies(response) if line.startswith(f"{name}="))


def signed_in_as_user(client):
    response = client.get("/account")
    return response.status_code == 200


def admin_sign_in(client, name, password=ADMIN_PASSWORD):
    token = csrf_token(client.get("/admin/sign-in"))
    return client.post(
        "/admin/sign-in", data={"name": name, "password": password, "csrf_token": token}
    )


def admin_code(client, code):
    token = csrf_token(client.get("/admin/sign-in/code"))
    return client.post("/admin/sign-in/code", data={"code": code, "csrf_token": token})


def current_code(admin, clock):
    return pyotp.TOTP(admin.totp_secret).at(clock.now.timestamp())


@pytest.fixture
def user(make):
    return make.user_with_password()


@pytest.fixture
def admin(make):
    return make.admin_account()


def actions(make):
    return [
        (r["action"], r["actor_kind"])
        # this test's rows only (its transaction's start time): committed tests leave theirs
        for r in make.rows(
            "SELECT action, actor_kind FROM audit_events WHERE occurred_at = now() ORDER BY id"
        )
        if r["action"].endswith(("signed_in", "signed_out"))
    ]


# --- users


def test_a_user_signs_in_with_the_password(client, user, make):
    response = sign_in_user(client, user[1], USER_PASSWORD)

    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    assert signed_in_as_user(client)
    assert user[1] in client.get("/account").get_data(as_text=True)
    assert actions(make) == [("user.signed_in", "user")]


def test_the_user_cookie_is_secure_httponly_and_lax(client, user):
    line = cookie_line(sign_in_user(client, user[1], USER_PASSWORD), USER_COOKIE)

    attributes = {part.strip().split("=")[0].lower() for part in line.split(";")[1:]}
    assert {"secure", "httponly", "path", "max-age"} <= attributes
    assert "SameSite=Lax" in line and "Path=/;" in line + ";"


def test_the_session_is_stored_as_a_digest(client, user, make):
    sign_in_user(client, user[1], USER_PASSWORD)
    value = client.get_cookie(USER_COOKIE).value

    rows = make.rows("SELECT id_digest, kind, user_id FROM web_sessions")

    assert len(rows) == 1 and str(rows[0]["user_id"]) == user[0]
    assert value not in str(rows)


@pytest.mark.parametrize("login", ["wrong", "right"])
def test_a_wrong_password_or_an_unknown_account_signs_nobody_in(client, user, make, login):
    name = user[1] if login == "right" else "nobody-here"

    response = sign_in_user(client, name, "not the password at all")

    assert response.status_code == 401
    assert "do not match" in response.get_data(as_text=True)
    assert not any(line.startswith(f"{USER_COOKIE}=") for line in set_cookies(response))
    assert not signed_in_as_user(client)
    assert make.count("web_sessions") == 0


def test_a_user_without_a_password_cannot_sign_in(client, make):
    user_id = make.user()

    assert sign_in_user(client, user_id, "").status_code == 401


def test_the_next_page_must_be_on_this_site(client, user):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = sign_in_user(client, user[1], USER_PASSWORD, next_url=target)
        assert response.headers["Location"] == "/account", target


def test_signing_out_ends_the_session(client, user, make):
    sign_in_user(client, user[1], USER_PASSWORD)
    value = client.get_cookie(USER_COOKIE).value
    token = csrf_token(client.get("/account"))

    response = client.post("/sign-out", data={"csrf_token": token})

    assert response.status_code == 303
    assert f"{USER_COOKIE}=;" in cookie_line(response, USER_COOKIE)
    # the old cookie, replayed, is dead on the server too
    client.set_cookie(USER_COOKIE, value)
    assert not signed_in_as_user(client)
    assert actions(make) == [("user.signed_in", "user"), ("user.signed_out", "user")]


def test_a_session_expires(client, user, clock, app):
    sign_in_user(client, user[1], USER_PASSWORD)
    clock.advance(seconds=app.config["USER_SESSION_TTL"] - 1)
    assert signed_in_as_user(client)

    clock.advance(seconds=2)

    response = client.get("/account")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_a_new_sign_in_gets_a_new_session_id(client, user, make):
    sign_in_user(client, user[1], USER_PASSWORD)
    first = client.get_cookie(USER_COOKIE).value

    sign_in_user(client, user[1], USER_PASSWORD)

    assert client.get_cookie(USER_COOKIE).value != first
    assert make.rows("SELECT count(*) AS n FROM web_sessions WHERE ended_at IS NULL")[0]["n"] == 1


# --- CSRF


def test_a_sign_in_form_without_the_token_is_refused(client, user, make):
    client.get("/sign-in")
    for extra in ({}, {"csrf_token": "made-up"}):
        response = client.post(
            "/sign-in", data={"login": user[1], "password": USER_PASSWORD, **extra}
        )
        assert response.status_code == 403
        assert not any(line.startswith(f"{USER_COOKIE}=") for line in set_cookies(response))
    assert make.count("web_sessions") == 0


def test_a_form_with_another_sessions_token_is_refused(app, client, user, make):
    other_user = make.user_with_password()
    other = app.test_client()
    sign_in_user(other, other_user[1], USER_PASSWORD)
    their_token = csrf_token(other.get("/account"))
    sign_in_user(client, user[1], USER_PASSWORD)

    response = client.post("/sign-out", data={"csrf_token": their_token})

    assert response.status_code == 403
    assert signed_in_as_user(client) and signed_in_as_user(other)
    assert make.rows("SELECT count(*) AS n FROM web_sessions WHERE ended_at IS NULL")[0]["n"] == 2


def test_the_sign_in_pages_token_binds_to_a_pre_session_cookie(app, client, user):
    token = csrf_token(client.get("/sign-in"))
    stranger = app.test_client()  # another browser, its own pre-session cookie
    stranger.get("/sign-in")

    response = stranger.post(
        "/sign-in", data={"login": user[1], "password": USER_PASSWORD, "csrf_token": token}
    )

    assert response.status_code == 403


# --- attempt limits


@pytest.fixture
def limited(conn, app_settings):
    app = create_app(
        app_settings(
            DATABASE=SharedConnection(conn),
            SIGN_IN_RATE_LIMIT="3 per 15 minutes",
            SIGN_IN_ADDRESS_RATE_LIMIT="6 per 15 minutes",
        )
    )

    def client_from(address):
        browser = app.test_client()
        browser.environ_base["REMOTE_ADDR"] = address
        return browser

    return client_from


def test_failures_from_one_address_stop_that_address_only(limited, user):
    stranger = limited("203.0.113.7")
    for _ in range(3):
        assert sign_in_user(stranger, user[1], "guessing wrong again").status_code == 401

    # refused unheard from there, even with the right password...
    refused = sign_in_user(stranger, user[1], USER_PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed attempts" in refused.get_data(as_text=True)
    # ...while the owner, from their own address, is not locked out
    owner = limited("198.51.100.20")
    assert sign_in_user(owner, user[1], USER_PASSWORD).status_code == 303


def test_an_address_trying_many_accounts_is_stopped(limited, make):
    stranger = limited("203.0.113.9")
    accounts = [make.user_with_password()[1] for _ in range(3)]
    for login in accounts:
        for _ in range(2):
            assert sign_in_user(stranger, login, "guessing wrong").status_code == 401

    other = make.user_with_password()
    assert sign_in_user(stranger, other[1], USER_PASSWORD).status_code == 429
    assert sign_in_user(limited("198.51.100.21"), other[1], USER_PASSWORD).status_code == 303


def test_a_success_clears_the_accounts_failures(limited, user):
    owner = limited("198.51.100.30")
    for _ in range(2):
        sign_in_user(owner, user[1], "typo in it somewhere")
    assert sign_in_user(owner, user[1], USER_PASSWORD).status_code == 303
    for _ in range(2):
        assert sign_in_user(owner, user[1], "another typo here").status_code == 401

    assert sign_in_user(owner, user[1], USER_PASSWORD).status_code == 303


# --- admins


def test_an_admin_signs_in_with_password_and_code(client, admin, clock, make):
    first = admin_sign_in(client, admin.name)
    assert first.status_code == 303
    assert first.headers["Location"].startswith("/admin/sign-in/code")
    # half signed in: nothing but the code page
    assert client.get("/admin/account").status_code == 303

    second = admin_code(client, current_code(admin, clock))

    assert second.status_code == 303
    assert second.headers["Location"] == "/admin/account"
    page = client.get("/admin/account")
    assert page.status_code == 200 and admin.name in page.get_data(as_text=True)
    assert actions(make) == [("admin.signed_in", "admin")]
    actor = make.rows(
        "SELECT actor_id FROM audit_events WHERE action = 'admin.signed_in' AND occurred_at = now()"
    )
    assert actor == [{"actor_id": admin.name}]


def test_the_admin_cookie_is_secure_httponly_strict_and_admin_only(client, admin, clock):
    admin_sign_in(client, admin.name)
    line = cookie_line(admin_code(client, current_code(admin, clock)), ADMIN_COOKIE)

    assert "Secure" in line and "HttpOnly" in line
    assert "SameSite=Strict" in line and "Path=/admin" in line


def test_a_wrong_code_is_refused(client, admin, clock):
    admin_sign_in(client, admin.name)
    right = current_code(admin, clock)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    for code in (wrong, "", "abcdef", "1234567"):
        response = admin_code(client, code)
        assert response.status_code == 401, code
    assert client.get("/admin/account").status_code == 303


def test_a_code_from_two_steps_ago_is_refused(client, admin, clock):
    admin_sign_in(client, admin.name)
    old = pyotp.TOTP(admin.totp_secret).at(clock.now.timestamp() - 60)

    assert admin_code(client, old).status_code == 401


def test_a_code_signs_in_once(app, client, admin, clock):
    admin_sign_in(client, admin.name)
    code = current_code(admin, clock)
    assert admin_code(client, code).status_code == 303

    # someone who saw the password and the code, within the same 30 seconds
    other = app.test_client()
    admin_sign_in(other, admin.name)
    assert admin_code(other, code).status_code == 401
    assert other.get("/admin/account").status_code == 303


def test_a_wrong_admin_password_never_reaches_the_code(client, admin, make):
    response = admin_sign_in(client, admin.name, "not the admin password")

    assert response.status_code == 401
    assert make.count("web_sessions") == 0
    assert client.get("/admin/sign-in/code").status_code == 303


def test_a_user_session_opens_no_admin_page(client, user):
    sign_in_user(client, user[1], USER_PASSWORD)

    assert client.get("/admin/account").status_code == 303


def test_an_admin_signs_out(client, admin, clock, make):
    admin_sign_in(client, admin.name)
    admin_code(client, current_code(admin, clock))
    token = csrf_token(client.get("/admin/account"))

    assert client.post("/admin/sign-out", data={"csrf_token": token}).status_code == 303

    assert client.get("/admin/account").status_code == 303
    assert actions(make) == [("admin.signed_in", "admin"), ("admin.signed_out", "admin")]


def test_the_admin_session_expires(client, admin, clock, app):
    admin_sign_in(client, admin.name)
    admin_code(client, current_code(admin, clock))
    clock.advance(seconds=app.config["ADMIN_SESSION_TTL"] + 1)

    assert client.get("/admin/account").status_code == 303


def test_the_totp_secret_is_not_stored_in_the_clear(admin, make):
    row = make.rows("SELECT totp_ciphertext, password_hash FROM admin_accounts")[0]

    assert admin.totp_secret.encode() not in bytes(row["totp_ciphertext"])
    assert row["password_hash"].startswith("$argon2id$")


# --- the Secure flag


def test_secure_cookies_may_be_off_only_for_local_development(conn, app_settings):
    local = app_settings(DATABASE=SharedConnection(conn), SIGN_IN_COOKIE_SECURE=False)
    assert create_app({**local, "ISSUER": "http://localhost:8080"})
    assert create_app({**local, "ISSUER": "http://127.0.0.1:5000"})

    for issuer in ("https://gateway.example", "http://gateway.example"):
        with pytest.raises(ValueError, match="SIGN_IN_COOKIE_SECURE"):
            create_app({**local, "ISSUER": issuer})


def test_without_secure_the_cookie_says_so(conn, app_settings, user):
    app = create_app(app_settings(DATABASE=SharedConnection(conn), SIGN_IN_COOKIE_SECURE=False))
    line = cookie_line(sign_in_user(app.test_client(), user[1], USER_PASSWORD), USER_COOKIE)

    assert "Secure" not in line and "HttpOnly" in line
