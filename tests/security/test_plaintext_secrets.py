"""No secret in the clear at rest: a realistic run through every audience's real endpoints
hands out client secrets, access tokens, codes, passwords, links, cookies, CSRF tokens, webhook
and TOTP secrets; a full plain-text dump of the database holds none of them, in any encoding that
would be the same secret (DESIGN §3: secrets hashed, tokens as digests)."""

import base64
import secrets as random
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pyotp
import pytest
from factories import ADMIN_PASSWORD
from security.secret_flow import Browser, Secrets, dump, encodings
from tokens import APP_REDIRECT_URI, app_client, pkce_pair

pytestmark = pytest.mark.committed

ADMIN = "/v1/admin"


def passphrase() -> str:
    return " ".join(random.token_hex(4) for _ in range(5))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def client_token(http: Browser, client_id: str, secret: str, label: str) -> str:
    """An access token for a client, got at /oauth/token with client_secret_basic."""
    answer = http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert "refresh_token" not in body  # client_credentials: none (RFC 6749 §4.4.3)
    return http.secrets.add(f"access token ({label})", body["access_token"])


def json_of(response, status=201):  # type: ignore[no-untyped-def]
    """The JSON body of an answer that must have `status`."""
    assert response.status_code == status, response.get_json()
    return response.get_json()


def admin_side(http: Browser, seen: Secrets, bootstrap) -> dict:  # type: ignore[no-untyped-def]
    """An admin client's token; through the admin API: another admin client, a developer on
    `trusted` with a skill, its client (rotated with grace) and a platform client."""
    seen.add("client secret (bootstrap admin)", bootstrap.client_secret)
    first = client_token(http, bootstrap.client_id, bootstrap.client_secret, "bootstrap admin")
    admin_client = json_of(
        http.post(f"{ADMIN}/clients", json={"kind": "admin", "name": "ops"}, headers=bearer(first))
    )
    seen.add("client secret (admin)", admin_client["client_secret"])
    admin = bearer(
        client_token(http, admin_client["client_id"], admin_client["client_secret"], "admin")
    )

    developer = json_of(
        http.post(
            f"{ADMIN}/developers",
            json={
                "name": f"Pizza Palace {random.token_hex(3)}",
                "contact_email": "ops@pizza.example",
            },
            headers=admin,
        )
    )["id"]
    json_of(
        http.post(
            f"{ADMIN}/developers/{developer}/grants",
            json={"tier": "trusted", "reason": "signed the data-use terms"},
            headers=admin,
        )
    )
    skill = json_of(
        http.post(f"{ADMIN}/developers/{developer}/skills", json={"name": "Pizza"}, headers=admin)
    )["id"]
    issued = json_of(
        http.post(
            f"{ADMIN}/clients", json={"kind": "developer", "developer_id": developer}, headers=admin
        )
    )
    seen.add("client secret (developer, first)", issued["client_secret"])
    old_token = client_token(http, issued["client_id"], issued["client_secret"], "developer, old")
    rotated = json_of(
        http.post(
            f"{ADMIN}/clients/{issued['client_id']}/rotation",
            json={"grace_seconds": 3600},
            headers=admin,
        ),
        200,
    )
    secret = seen.add("client secret (developer, rotated)", rotated["client_secret"])
    # in its grace period the replaced secret still works: its hash is kept, not the secret
    client_token(http, issued["client_id"], issued["client_secret"], "developer, grace")
    platform = json_of(http.post(f"{ADMIN}/clients", json={"kind": "platform"}, headers=admin))
    seen.add("client secret (platform)", platform["client_secret"])
    # RFC 7009 and 7662 with a token in hand: neither may store it
    revoked = http.post(
        "/oauth/revoke", data={"token": old_token}, auth=(issued["client_id"], secret)
    )
    assert revoked.status_code == 200
    return {
        "admin": admin,
        "developer": developer,
        "skill": skill,
        "developer_credentials": (issued["client_id"], secret),
        "platform_credentials": (platform["client_id"], platform["client_secret"]),
    }


def developer_side(http: Browser, seen: Secrets, world: dict) -> dict[str, str]:  # type: ignore[type-arg]
    """The developer's token, its webhook (the signing secret, rotated) and a tier request."""
    client_id, secret = world["developer_credentials"]
    token = client_token(http, client_id, secret, "developer")
    headers = bearer(token)
    inspected = http.post("/oauth/introspect", data={"token": token}, auth=(client_id, secret))
    assert inspected.get_json()["active"] is True
    hook = json_of(
        http.put("/v1/developer/webhook", json={"url": "http://127.0.0.1:9/hook"}, headers=headers),
        200,
    )
    seen.add("webhook secret (first)", hook["secret"])
    rotated = json_of(http.post("/v1/developer/webhook/secret", headers=headers), 200)
    seen.add("webhook secret (rotated)", rotated["secret"])
    return headers


def platform_side(http: Browser, seen: Secrets, world: dict, clock) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """The platform's token; a user pushed in with an interaction; their activation link."""
    platform = bearer(client_token(http, *world["platform_credentials"], "platform"))
    login = f"secret-flow-user-{random.token_hex(4)}"
    json_of(
        http.post(
            "/v1/ingest/users",
            json={"users": [{"platform_user_id": login, "email": "pat@example.com"}]},
            headers=platform,
        ),
        200,
    )
    relayed = http.put(
        f"/v1/platform/users/{login}/consents/{world['skill']}", json={}, headers=platform
    )
    assert relayed.status_code == 200, relayed.get_json()
    clock.advance(minutes=1)
    record = {
        "interaction_id": f"secret-flow-{random.token_hex(6)}",
        "skill_id": world["skill"],
        "user_id": login,
        "session_id": "secret-flow-session",
        "occurred_at": (clock.now - timedelta(seconds=30)).isoformat(),
        "utterance": "a large margherita please",
        "response": "One large margherita, coming up.",
        "intent": "OrderPizza",
        "slots": [],
        "outcome": "success",
        "order_ref": "P-1",
    }
    json_of(
        http.post("/v1/ingest/interactions", json={"interactions": [record]}, headers=platform),
        200,
    )
    link = json_of(http.post(f"/v1/platform/users/{login}/activation", headers=platform), 200)
    path = urlsplit(link["activation_url"]).path
    seen.add("activation link token", path.rsplit("/", 1)[-1])
    password = seen.add("user password", passphrase())
    page = http.get(path)
    assert page.status_code == 200
    set_password = http.post(
        path,
        data={"password": password, "confirm": password, "csrf_token": http.form_token(path)},
    )
    assert set_password.status_code == 200, set_password.get_data(as_text=True)[:300]
    return {"platform": platform, "login": login, "password": password}


def user_side(http: Browser, seen: Secrets, login: str, password: str) -> dict[str, str]:
    """Sign in on the page, approve the first-party app with PKCE, exchange the code; use the
    token; the signed-in privacy page's own CSRF token."""
    app = app_client(http.http)
    verifier, challenge = pkce_pair()
    seen.add("PKCE verifier", verifier)
    state = random.token_urlsafe(16)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": APP_REDIRECT_URI,
            "scope": "privacy",
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    url = f"/oauth/authorize?{query}"
    signed_in = http.post(
        "/sign-in",
        data={
            "login": login,
            "password": password,
            "csrf_token": http.form_token("/sign-in"),
            "next": url,
        },
    )
    assert signed_in.status_code == 303, signed_in.get_data(as_text=True)[:300]
    answer = http.post(url, data={"csrf_token": http.form_token(url), "decision": "allow"})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    params = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert params["state"] == [state]
    code = seen.add("authorization code", params["code"][0])
    exchanged = http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": APP_REDIRECT_URI,
            "client_id": app.client_id,
            "code_verifier": verifier,
        },
    )
    body = json_of(exchanged, 200)
    assert "refresh_token" not in body  # the design issues none; a refresh token would be here
    headers = bearer(seen.add("access token (user)", body["access_token"]))
    assert http.get("/v1/me", headers=headers).status_code == 200
    http.form_token("/privacy/deletion")  # bound to the signed-in session, not the presession
    return headers


def admin_console(http: Browser, seen: Secrets, make, clock, developer: int) -> None:  # type: ignore[no-untyped-def]
    """An admin account signs in with its password and TOTP code and issues a client on the
    console, whose secret is on that page only."""
    # accounts are made by `skillgw admins add`, which runs this same service
    account = make.admin_account(f"secretflow{random.token_hex(3)}")
    seen.add("admin password", ADMIN_PASSWORD)
    # the TOTP seed must be kept to check codes, so it is stored, but sealed (AES-GCM under a
    # key derived from SECRET_KEY, migration 0009): its clear form must not be in the dump
    seen.add("TOTP secret", account.totp_secret)
    first = http.post(
        "/admin/sign-in",
        data={
            "name": account.name,
            "password": ADMIN_PASSWORD,
            "csrf_token": http.form_token("/admin/sign-in"),
        },
    )
    assert first.status_code in (302, 303), first.get_data(as_text=True)[:300]
    # a 6-digit code is too short to look for in a dump, and is dead once used
    code = pyotp.TOTP(account.totp_secret).at(clock.now.timestamp())
    second = http.post(
        "/admin/sign-in/code",
        data={"code": code, "csrf_token": http.form_token("/admin/sign-in/code")},
    )
    assert second.status_code in (302, 303), second.get_data(as_text=True)[:300]
    path = f"/admin/developers/{developer}"
    page = http.post(
        f"{path}/clients", data={"name": "console client", "csrf_token": http.form_token(path)}
    )
    assert page.status_code == 201, page.get_data(as_text=True)[:300]
    html = page.get_data(as_text=True)
    seen.add(
        "client secret (console)",
        html.split('id="issued-client-secret" class="secret">')[1].split("<")[0],
    )


def run_flow(app, make, clock) -> Secrets:  # type: ignore[no-untyped-def]
    seen = Secrets()
    http = Browser(app.test_client(), seen)
    world = admin_side(http, seen, make.client(kind="admin"))
    developer = developer_side(http, seen, world)
    platform = platform_side(http, seen, world, clock)
    # the developer reads the user's interaction, so the deletion below owes it a signed notice
    read = http.get(f"/v1/skills/{world['skill']}/interactions", headers=developer).get_json()
    assert len(read["interactions"]) == 1, read
    user = user_side(http, seen, platform["login"], platform["password"])
    receipt = json_of(http.delete("/v1/me/interactions", headers=user), 200)
    assert receipt["interactions"] == 1, receipt
    status = http.get(f"/v1/me/deletions/{receipt['id']}", headers=user).get_json()
    assert status["developers"], status  # a notice queued, signed with the webhook secret
    admin_console(Browser(app.test_client(), seen), seen, make, clock, world["developer"])
    return seen


@pytest.fixture
def flow_app(owner_conn, pooled_app):  # type: ignore[no-untyped-def]
    # a loopback webhook URL is allowed so that the deletion queues a notice to it
    return pooled_app(WEBHOOK_ALLOW_LOOPBACK=True)


def test_no_secret_the_gateway_handed_out_is_in_a_dump_of_its_database(
    flow_app, committed_make, clock, owner_url
):
    seen = run_flow(flow_app, committed_make, clock)

    # every kind of secret was seen, so a missing step cannot pass for a clean dump
    assert {
        "access token (admin)",
        "access token (developer)",
        "access token (platform)",
        "access token (user)",
        "activation link token",
        "admin password",
        "authorization code",
        "client secret (admin)",
        "client secret (console)",
        "client secret (developer, first)",
        "client secret (developer, rotated)",
        "client secret (platform)",
        "cookie gateway_admin_session",
        "cookie gateway_presession",
        "cookie gateway_user_session",
        "csrf token",
        "PKCE verifier",
        "TOTP secret",
        "user password",
        "webhook secret (first)",
        "webhook secret (rotated)",
    } <= seen.labels()
    text = dump(owner_url)
    # the rows are there: the dump is of the database the flow wrote to
    assert "secret-flow-user-" in text and "console client" in text

    assert seen.found_in(text) == []


def test_the_search_finds_a_secret_stored_in_any_of_its_encodings(
    committed_app, committed_make, owner_url
):
    # the sweep above can fail: a client secret kept in a column in the clear, as hex, or as
    # the bytes it encodes in standard base64, is found in the dump
    seen = Secrets()
    credentials = committed_make.client(kind="admin")
    secret = seen.add("client secret", credentials.client_secret)
    http = committed_app.test_client()
    admin = bearer(client_token(Browser(http, seen), credentials.client_id, secret, "admin"))
    raw = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    standard = base64.standard_b64encode(raw).decode().rstrip("=")
    assert {secret, secret.encode().hex(), raw.hex(), standard} <= encodings(secret)
    # a secret without `-` or `_` is its own standard base64 form: each form is stored once
    for n, form in enumerate(dict.fromkeys((secret, secret.encode().hex().upper(), standard))):
        assert form.lower() not in {f.lower() for _label, f in seen.found_in(dump(owner_url))}
        stored = http.post(
            f"{ADMIN}/developers",
            json={"name": form, "contact_email": f"leak{n}@example.com"},
            headers=admin,
        )
        assert stored.status_code == 201, stored.get_json()
        found = {found for _label, found in seen.found_in(dump(owner_url))}
        assert form.lower() in {f.lower() for f in found}, form


def test_the_encodings_include_the_other_base64_alphabet():
    shown = "a-b_" * 11  # URL-safe base64 of 33 bytes, with both of its own characters
    raw = base64.urlsafe_b64decode(shown)

    forms = encodings(shown)

    assert base64.standard_b64encode(raw).decode() in forms  # "+" and "/" instead
    assert raw.hex() in forms and shown.encode().hex() in forms
    assert base64.b32encode(raw).decode().rstrip("=") in forms
