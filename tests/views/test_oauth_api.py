"""The OAuth 2.0 endpoints and RFC 6750 behaviour, exercised through real HTTP requests."""

import base64
import hashlib
import re
from contextlib import contextmanager

import pytest

from gateway import create_app
from gateway.db import SharedConnection

TOKEN_URL = "/oauth/token"
PROTECTED = "/v1/developer"
URLSAFE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43,}$")


@contextmanager
def as_owner(conn):
    """Step out of the app role inside the test's transaction, to see rows as they are stored."""
    conn.execute("RESET ROLE")
    try:
        yield conn
    finally:
        conn.execute("SET LOCAL ROLE gateway_app")


@pytest.fixture
def make_app_with(conn, app_settings):
    """Build another app over the test's connection, with settings overridden."""

    def build(**extra):
        return create_app(app_settings(DATABASE=SharedConnection(conn), **extra))

    return build


@pytest.fixture
def developer_client(make):
    developer = make.developer(tier="standard")
    make.skill(developer)
    return make.client(developer_id=developer)


def token_request(client, creds, *, method="basic", secret=None, **form):
    form.setdefault("grant_type", "client_credentials")
    secret = creds.client_secret if secret is None else secret
    if method == "basic":
        return client.post(TOKEN_URL, data=form, auth=(creds.client_id, secret))
    form.update(client_id=creds.client_id, client_secret=secret)
    return client.post(TOKEN_URL, data=form)


def issue(client, creds, **kwargs):
    response = token_request(client, creds, **kwargs)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


def bearer_header(token):
    return {"Authorization": f"Bearer {token}"}


def basic(creds):
    return {
        "Authorization": "Basic "
        + base64.b64encode(f"{creds.client_id}:{creds.client_secret}".encode()).decode()
    }


# --- the token endpoint


@pytest.mark.parametrize("method", ["basic", "post"])
def test_client_credentials_issues_a_short_lived_bearer_token(client, developer_client, method):
    response = token_request(client, developer_client, method=method)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"].lower() == "bearer"
    assert 0 < body["expires_in"] <= 3600
    assert "refresh_token" not in body
    assert body["scope"] == "transcripts:read"
    assert URLSAFE_TOKEN.match(body["access_token"])
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def test_tokens_carry_256_bits_and_never_repeat(client, developer_client):
    tokens = {issue(client, developer_client) for _ in range(5)}

    assert len(tokens) == 5
    for token in tokens:
        # 32 random bytes in url-safe base64 without padding are 43 characters
        assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) >= 32


def test_database_keeps_only_digests_of_tokens_and_secrets(client, conn, developer_client):
    token = issue(client, developer_client)

    with as_owner(conn):
        tokens = conn.execute("SELECT * FROM oauth_tokens").fetchall()
        clients = conn.execute("SELECT * FROM oauth_clients").fetchall()
    stored = repr(tokens) + repr(clients)
    assert token not in stored
    assert developer_client.client_secret not in stored
    assert [row["token_digest"] for row in tokens] == [hashlib.sha256(token.encode()).hexdigest()]


@pytest.mark.parametrize("method", ["basic", "post"])
def test_wrong_secret_and_unknown_client_fail_identically(client, make, developer_client, method):
    wrong = token_request(client, developer_client, method=method, secret="not-the-secret")
    stranger = type(developer_client)(
        "dev_000000000000000000000000", developer_client.client_secret, "developer", []
    )
    unknown = token_request(client, stranger, method=method)
    revoked_creds = make.client(developer_id=make.developer())
    # as an admin would (only a verified admin or the system may revoke a client)
    make.rows(
        "UPDATE oauth_clients SET revoked_at = now() WHERE client_id = %s RETURNING client_id",
        (revoked_creds.client_id,),
    )
    revoked = token_request(client, revoked_creds, method=method)

    assert wrong.status_code == 401
    assert wrong.get_json()["error"] == "invalid_client"
    for other in (unknown, revoked):
        assert other.status_code == wrong.status_code
        assert other.get_data() == wrong.get_data()
        assert other.headers.get("WWW-Authenticate") == wrong.headers.get("WWW-Authenticate")


def test_client_id_with_a_nul_byte_is_just_unknown(client, developer_client):
    wrong = token_request(client, developer_client, method="post", secret="not-the-secret")
    nul = type(developer_client)("dev\x00x", "secret", "developer", [])

    for method in ("basic", "post"):
        response = token_request(client, nul, method=method)
        assert response.status_code == 401
        assert response.get_data() == wrong.get_data()


def test_password_grant_is_unsupported(client, developer_client):
    response = token_request(
        client, developer_client, grant_type="password", username="u", password="p"
    )

    assert response.status_code == 400
    assert response.get_json()["error"] == "unsupported_grant_type"


def test_scope_the_client_lacks_is_refused(client, developer_client):
    response = token_request(client, developer_client, scope="admin")

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_scope"


@pytest.mark.parametrize("scope", ["transcripts:read admin", "ingest transcripts:read"])
def test_a_scope_beyond_the_clients_is_refused_even_beside_its_own(
    client, conn, developer_client, scope
):
    refused = token_request(client, developer_client, scope=scope)
    own = token_request(client, developer_client, scope="transcripts:read")

    assert refused.status_code == 400
    assert refused.get_json()["error"] == "invalid_scope"
    assert own.status_code == 200 and own.get_json()["scope"] == "transcripts:read"
    with as_owner(conn):
        stored = conn.execute("SELECT scopes FROM oauth_tokens").fetchall()
    assert [row["scopes"] for row in stored] == [["transcripts:read"]]


def test_token_dies_when_its_lifetime_passes(client, developer_client, clock):
    response = token_request(client, developer_client)
    token, expires_in = response.get_json()["access_token"], response.get_json()["expires_in"]
    assert client.get(PROTECTED, headers=bearer_header(token)).status_code == 200

    clock.advance(seconds=expires_in - 1)
    assert client.get(PROTECTED, headers=bearer_header(token)).status_code == 200
    clock.advance(seconds=2)
    expired = client.get(PROTECTED, headers=bearer_header(token))

    assert expired.status_code == 401
    assert 'error="invalid_token"' in expired.headers["WWW-Authenticate"]


# --- revocation (RFC 7009)


def test_revoking_own_token_ends_it_on_the_next_request(client, developer_client):
    token = issue(client, developer_client)

    response = client.post("/oauth/revoke", data={"token": token}, headers=basic(developer_client))
    after = client.get(PROTECTED, headers=bearer_header(token))

    assert response.status_code == 200
    assert after.status_code == 401
    assert 'error="invalid_token"' in after.headers["WWW-Authenticate"]


def test_revoking_an_unknown_token_answers_200(client, developer_client):
    response = client.post(
        "/oauth/revoke", data={"token": "never-issued"}, headers=basic(developer_client)
    )

    assert response.status_code == 200


def test_a_client_cannot_revoke_another_clients_token(client, make, developer_client):
    victim = make.client(developer_id=make.developer())
    token = issue(client, victim)

    client.post("/oauth/revoke", data={"token": token}, headers=basic(developer_client))

    assert client.get(PROTECTED, headers=bearer_header(token)).status_code == 200


def test_revocation_needs_client_authentication(client, developer_client):
    token = issue(client, developer_client)

    response = client.post("/oauth/revoke", data={"token": token})

    assert response.status_code == 401
    assert client.get(PROTECTED, headers=bearer_header(token)).status_code == 200


# --- introspection (RFC 7662)


def introspect(client, creds, token):
    response = client.post("/oauth/introspect", data={"token": token}, headers=basic(creds))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_introspecting_own_active_token(client, developer_client, clock):
    token = issue(client, developer_client)

    body = introspect(client, developer_client, token)

    assert body["active"] is True
    assert body["client_id"] == developer_client.client_id
    assert body["scope"] == "transcripts:read"
    assert body["exp"] == int(clock.now.timestamp()) + 3600


def test_introspection_reports_revoked_expired_and_foreign_tokens_inactive(
    client, make, developer_client, clock
):
    revoked = issue(client, developer_client)
    client.post("/oauth/revoke", data={"token": revoked}, headers=basic(developer_client))
    other = make.client(developer_id=make.developer())
    foreign = issue(client, other)
    expiring = issue(client, developer_client)

    assert introspect(client, developer_client, revoked) == {"active": False}
    assert introspect(client, developer_client, foreign) == {"active": False}
    assert introspect(client, developer_client, "never-issued") == {"active": False}
    assert introspect(client, other, foreign)["active"] is True
    clock.advance(seconds=3601)
    assert introspect(client, developer_client, expiring) == {"active": False}


# --- RFC 8414


def test_authorization_server_metadata(client, app):
    response = client.get("/.well-known/oauth-authorization-server")

    assert response.status_code == 200
    body = response.get_json()
    issuer = app.config["ISSUER"].rstrip("/")
    assert body["issuer"] == issuer
    assert body["token_endpoint"] == f"{issuer}/oauth/token"
    assert body["revocation_endpoint"] == f"{issuer}/oauth/revoke"
    assert body["introspection_endpoint"] == f"{issuer}/oauth/introspect"
    assert body["grant_types_supported"] == ["client_credentials", "authorization_code"]
    # "none": only the users' first-party app, which proves itself with PKCE
    assert set(body["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "none",
    }
    assert "transcripts:read" in body["scopes_supported"]


# --- RFC 6750 on a protected resource


def test_no_credentials_get_a_bare_challenge(client):
    response = client.get(PROTECTED)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="gateway"'
    assert "error=" not in response.headers["WWW-Authenticate"]
    assert response.get_json()["error"] == "unauthorized"


def test_token_in_the_query_string_is_ignored(client, developer_client):
    token = issue(client, developer_client)

    response = client.get(f"{PROTECTED}?access_token={token}")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="gateway"'


def test_token_in_a_form_body_is_ignored(client, developer_client):
    token = issue(client, developer_client)

    response = client.get(PROTECTED, data={"access_token": token})

    assert response.status_code == 401


def test_basic_credentials_on_a_resource_are_like_none(client, developer_client):
    response = client.get(PROTECTED, headers=basic(developer_client))

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="gateway"'


@pytest.mark.parametrize("token", ["not-a-token", "x" * 43, "", "a b"])
def test_bad_tokens_are_invalid_token(client, token):
    response = client.get(PROTECTED, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="gateway"')
    if token.strip():
        assert 'error="invalid_token"' in challenge
        assert response.get_json()["error"] == "invalid_token"


def test_token_of_a_revoked_client_is_invalid(client, make, developer_client):
    token = issue(client, developer_client)
    make.rows(
        "UPDATE oauth_clients SET revoked_at = now() WHERE client_id = %s RETURNING client_id",
        (developer_client.client_id,),
    )

    response = client.get(PROTECTED, headers=bearer_header(token))

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_wrong_scope_is_403_with_insufficient_scope_challenge(client, make, bearer):
    admin = make.client(kind="admin")

    response = client.get(PROTECTED, headers=bearer(admin))

    assert response.status_code == 403
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="transcripts:read"' in challenge
    assert response.get_json()["error"] == "insufficient_scope"


def test_every_oauth_failure_body_is_json(client, developer_client):
    responses = [
        client.get(PROTECTED),
        client.get(PROTECTED, headers=bearer_header("nope")),
        token_request(client, developer_client, secret="wrong"),
        token_request(client, developer_client, grant_type="password"),
    ]

    for response in responses:
        assert response.mimetype == "application/json"
        assert isinstance(response.get_json()["error"], str)


@pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect"])
def test_oauth_errors_carry_the_whole_envelope(client, make, path):
    credentials = make.client(developer_id=make.developer())
    response = client.post(path, data={}, auth=(credentials.client_id, credentials.client_secret))
    body = response.get_json()
    assert response.status_code == 400
    assert body["error"] == "invalid_request"
    assert body["error_description"] and body["details"] == {}


# --- hardening: credentials that are not UTF-8, another client's token, token type hints


NOT_UTF8_BASIC = "Basic " + base64.b64encode(b"\xc3\xa9:\xff").decode()


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_basic_credentials_that_are_not_utf8_fail_like_a_wrong_secret(
    client, developer_client, path
):
    form = {"grant_type": "client_credentials", "token": "x"}
    wrong = client.post(path, data=form, auth=(developer_client.client_id, "not-the-secret"))

    response = client.post(path, data=form, headers={"Authorization": NOT_UTF8_BASIC})

    assert response.status_code == 401
    assert response.get_json() == wrong.get_json()
    assert response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_revoking_another_clients_token_answers_like_an_unknown_token(
    client, make, developer_client
):
    victim = make.client(developer_id=make.developer())
    token = issue(client, victim)

    foreign = client.post("/oauth/revoke", data={"token": token}, headers=basic(developer_client))
    unknown = client.post(
        "/oauth/revoke", data={"token": "never-issued"}, headers=basic(developer_client)
    )

    # RFC 7009 §2.2: nothing tells a live token of someone else's from one never issued
    assert (foreign.status_code, foreign.get_data(), foreign.mimetype) == (
        unknown.status_code,
        unknown.get_data(),
        unknown.mimetype,
    )
    assert foreign.status_code == 200 and foreign.get_json() == {}
    # ... and it changed nothing
    assert client.get(PROTECTED, headers=bearer_header(token)).status_code == 200
    assert introspect(client, victim, token)["active"] is True


def test_revoking_with_a_refresh_token_hint_is_unsupported_token_type(client, developer_client):
    token = issue(client, developer_client)

    response = client.post(
        "/oauth/revoke",
        data={"token": token, "token_type_hint": "refresh_token"},
        headers=basic(developer_client),
    )

    # RFC 7009 §2.2.1: a 400, not a 401 (which would need a WWW-Authenticate challenge)
    assert response.status_code == 400
    assert response.get_json()["error"] == "unsupported_token_type"
    assert response.get_json()["error_description"]
    assert client.get(PROTECTED, headers=bearer_header(token)).status_code == 200


@pytest.mark.parametrize("hint", ["access_token", "refresh_token", "something_else"])
def test_introspection_answers_for_the_token_whatever_the_hint(client, developer_client, hint):
    token = issue(client, developer_client)

    response = client.post(
        "/oauth/introspect",
        data={"token": token, "token_type_hint": hint},
        headers=basic(developer_client),
    )

    # RFC 7662 §2.1: the hint may be ignored; the answer is about the token
    assert response.status_code == 200
    assert response.get_json()["active"] is True


def test_every_oauth_401_carries_a_challenge(client, developer_client):
    responses = [
        token_request(client, developer_client, secret="wrong"),
        client.post("/oauth/revoke", data={"token": "x"}, auth=(developer_client.client_id, "x")),
        client.post("/oauth/introspect", data={"token": "x"}, headers={"Authorization": "Basic !"}),
        client.post(
            "/oauth/revoke",
            data={"token": "x", "token_type_hint": "refresh_token"},
            headers=basic(developer_client),
        ),
    ]

    for response in responses:
        if response.status_code == 401:
            assert "WWW-Authenticate" in response.headers, response.get_json()


# --- the issuer is configuration


def test_the_issuer_never_follows_the_host_header(client, app):
    response = client.get(
        "/.well-known/oauth-authorization-server",
        headers={"Host": "attacker.example", "X-Forwarded-Host": "attacker.example"},
    )

    assert response.get_json()["issuer"] == app.config["ISSUER"].rstrip("/")
    assert "attacker" not in response.get_data(as_text=True)


def test_without_an_issuer_setting_it_is_the_configured_host_and_port(make_app_with):
    app = make_app_with(ISSUER="", HOST="127.0.0.1", PORT=9123)

    body = app.test_client().get("/.well-known/oauth-authorization-server").get_json()

    assert body["issuer"] == "http://127.0.0.1:9123"
    assert body["token_endpoint"] == "http://127.0.0.1:9123/oauth/token"


def test_a_configured_issuer_wins(make_app_with):
    app = make_app_with(ISSUER="https://gateway.example.com/", PORT=9123)

    body = app.test_client().get("/.well-known/oauth-authorization-server").get_json()

    assert body["issuer"] == "https://gateway.example.com"
