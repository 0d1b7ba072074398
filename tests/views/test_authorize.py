"""The users' first-party app: authorization_code with PKCE (S256) through the real pages and
the real token endpoint; user tokens and which routes they open."""

import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from factories import USER_PASSWORD
from tokens import (
    APP_REDIRECT_URI,
    app_client,
    authorization_code,
    csrf_token,
    exchange_code,
    pkce_pair,
    sign_in_user,
    user_bearer_headers,
)
from werkzeug.routing import IntegerConverter, UUIDConverter


@pytest.fixture
def user(make):
    """(user id, login) of a user with a password."""
    return make.user_with_password()


def authorize_url(client_id, challenge, **overrides):
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": APP_REDIRECT_URI,
        "scope": "privacy",
        "state": "s-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **overrides,
    }
    return "/oauth/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def redirect_params(response):
    location = response.headers["Location"]
    assert location.startswith(APP_REDIRECT_URI + "?"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def codes(make):
    return make.count("authorization_codes")


def test_the_flow_gives_the_app_a_user_token_for_that_user(client, user):
    user_id, login = user
    headers = user_bearer_headers(client, login, USER_PASSWORD)

    me = client.get("/v1/me", headers=headers)

    assert me.status_code == 200
    assert me.get_json() == {"user_id": user_id, "platform_user_id": login}


def test_the_token_response_is_a_privacy_bearer_token(client, user):
    code, verifier = authorization_code(client, user[1], USER_PASSWORD)

    body = exchange_code(client, code, verifier).get_json()

    assert body["token_type"] == "Bearer"
    assert body["scope"] == "privacy"
    assert 0 < body["expires_in"] <= 3600
    assert "refresh_token" not in body


def test_state_comes_back_exactly(client, user):
    code, _ = authorization_code(client, user[1], USER_PASSWORD, state="a b&c=d/é")
    assert code  # authorization_code asserts the state came back unchanged


def test_the_gateway_id_signs_in_too(client, user):
    headers = user_bearer_headers(client, user[0], USER_PASSWORD)
    assert client.get("/v1/me", headers=headers).status_code == 200


def test_a_wrong_verifier_gets_no_token(client, user):
    code, _ = authorization_code(client, user[1], USER_PASSWORD)
    other_verifier, _ = pkce_pair()

    response = exchange_code(client, code, other_verifier)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_a_missing_verifier_gets_no_token(client, user):
    code, _ = authorization_code(client, user[1], USER_PASSWORD)

    response = exchange_code(client, code, "")

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_a_code_works_once_and_its_replay_revokes_the_token(client, user, make):
    code, verifier = authorization_code(client, user[1], USER_PASSWORD)
    first = exchange_code(client, code, verifier)
    assert first.status_code == 200
    headers = {"Authorization": f"Bearer {first.get_json()['access_token']}"}
    assert client.get("/v1/me", headers=headers).status_code == 200

    again = exchange_code(client, code, verifier)

    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_grant"
    # RFC 6749 §4.1.2: the tokens issued from a replayed code are revoked
    assert client.get("/v1/me", headers=headers).status_code == 401
    events = make.rows(
        "SELECT details FROM audit_events WHERE action = 'authorization_code.replayed'"
        " AND occurred_at = now()"
    )
    assert len(events) == 1 and len(events[0]["details"]["tokens_revoked"]) == 1


def test_an_expired_code_gets_no_token(client, user, clock):
    code, verifier = authorization_code(client, user[1], USER_PASSWORD)
    clock.advance(seconds=61)

    response = exchange_code(client, code, verifier)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_a_code_is_good_until_it_expires(client, user, clock):
    code, verifier = authorization_code(client, user[1], USER_PASSWORD)
    clock.advance(seconds=59)

    assert exchange_code(client, code, verifier).status_code == 200


def test_the_token_request_must_name_the_same_redirect_uri(client, user):
    code, verifier = authorization_code(client, user[1], USER_PASSWORD)
    app = app_client(client)

    for redirect_uri in ("https://app.example/callback/", "https://app.example/other", None):
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": app.client_id,
            "code_verifier": verifier,
        }
        if redirect_uri:
            data["redirect_uri"] = redirect_uri
        response = client.post("/oauth/token", data=data)
        assert response.status_code == 400, redirect_uri
        assert response.get_json()["error"] == "invalid_grant"
    # none of the failures used the code up
    assert exchange_code(client, code, verifier).status_code == 200


def test_a_code_is_only_good_for_the_app_it_was_issued_to(client, user, make):
    code, verifier = authorization_code(client, user[1], USER_PASSWORD)
    other = make.client(kind="app", redirect_uris=[APP_REDIRECT_URI])

    response = exchange_code(client, code, verifier, client=other)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://app.example/callback/",
        "https://app.example/callback?x=1",
        "https://APP.example/callback",
        "https://evil.example/callback",
        "http://app.example/callback",
    ],
)
def test_an_unregistered_redirect_uri_is_refused_on_the_page(client, user, make, redirect_uri):
    sign_in_user(client, user[1], USER_PASSWORD)
    _, challenge = pkce_pair()
    url = authorize_url(app_client(client).client_id, challenge, redirect_uri=redirect_uri)

    response = client.get(url)

    # RFC 6749 §4.1.2.1: never redirect to a URI that is not registered
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "not valid" in response.get_data(as_text=True)


def test_an_unknown_client_is_refused_on_the_page(client, user):
    sign_in_user(client, user[1], USER_PASSWORD)
    _, challenge = pkce_pair()

    response = client.get(authorize_url("app_unknown", challenge))

    assert response.status_code == 400
    assert "Location" not in response.headers


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_challenge": None, "code_challenge_method": None},
        {"code_challenge_method": None},
        {"code_challenge_method": "plain"},
        {"code_challenge": "short"},
    ],
    ids=["no-challenge", "no-method", "plain", "malformed"],
)
def test_a_request_without_an_s256_challenge_gets_no_code(client, user, make, overrides):
    sign_in_user(client, user[1], USER_PASSWORD)
    verifier, challenge = pkce_pair()
    url = authorize_url(app_client(client).client_id, challenge, **overrides)

    shown = client.get(url)

    assert shown.status_code == 302
    params = redirect_params(shown)
    assert params["error"] == "invalid_request"
    assert params["state"] == "s-123"
    assert "code" not in params
    assert codes(make) == 0


def test_a_plain_challenge_cannot_be_slipped_into_the_approval(client, user, make):
    sign_in_user(client, user[1], USER_PASSWORD)
    verifier, challenge = pkce_pair()
    app = app_client(client)
    page = client.get(authorize_url(app.client_id, challenge))
    plain = authorize_url(app.client_id, verifier, code_challenge_method="plain")

    response = client.post(plain, data={"csrf_token": csrf_token(page), "decision": "allow"})

    assert redirect_params(response)["error"] == "invalid_request"
    assert codes(make) == 0


def test_only_the_privacy_scope_is_granted(client, user, make):
    sign_in_user(client, user[1], USER_PASSWORD)
    _, challenge = pkce_pair()

    response = client.get(authorize_url(app_client(client).client_id, challenge, scope="admin"))

    assert redirect_params(response)["error"] == "invalid_scope"


def test_a_developer_client_cannot_use_the_authorization_endpoint(client, user, make):
    developer_client = make.client(developer_id=make.developer())
    sign_in_user(client, user[1], USER_PASSWORD)
    _, challenge = pkce_pair()

    response = client.get(authorize_url(developer_client.client_id, challenge))

    assert response.status_code == 400
    assert "Location" not in response.headers


def test_a_signed_out_user_is_sent_to_sign_in_and_back(client, user):
    _, challenge = pkce_pair()
    url = authorize_url(app_client(client).client_id, challenge)

    response = client.get(url)

    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/sign-in"
    assert parse_qs(location.query)["next"] == [url]


def test_the_user_may_deny(client, user, make):
    sign_in_user(client, user[1], USER_PASSWORD)
    _, challenge = pkce_pair()
    url = authorize_url(app_client(client).client_id, challenge)
    page = client.get(url)

    response = client.post(url, data={"csrf_token": csrf_token(page), "decision": "deny"})

    params = redirect_params(response)
    assert params["error"] == "access_denied"
    assert params["state"] == "s-123"
    assert "code" not in params
    assert codes(make) == 0


def test_an_approval_without_the_csrf_token_issues_nothing(client, user, make):
    sign_in_user(client, user[1], USER_PASSWORD)
    _, challenge = pkce_pair()
    url = authorize_url(app_client(client).client_id, challenge)
    client.get(url)

    for data in ({"decision": "allow"}, {"decision": "allow", "csrf_token": "forged"}):
        response = client.post(url, data=data)
        assert response.status_code == 403
        assert "Location" not in response.headers
    assert codes(make) == 0


def test_the_code_is_stored_as_a_digest_only(client, user, make):
    code, _ = authorization_code(client, user[1], USER_PASSWORD)

    rows = make.rows("SELECT code_digest, code_challenge_method FROM authorization_codes")

    assert len(rows) == 1 and rows[0]["code_challenge_method"] == "S256"
    assert code not in str(rows)


# --- which routes a user token opens, and which tokens open the user routes


def scoped_routes(app, *, other_than):
    """(method, url) of every route guarded by a scope other than `other_than`."""
    found = []
    for rule in app.url_map.iter_rules():
        scope = getattr(app.view_functions[rule.endpoint], "required_scope", None)
        if scope and scope != other_than:
            values = {
                name: 1
                if isinstance(converter, IntegerConverter)
                else uuid.uuid4()
                if isinstance(converter, UUIDConverter)
                else "x"
                for name, converter in rule._converters.items()
            }
            url = app.url_map.bind("localhost").build(rule.endpoint, values)
            found += [(m, url) for m in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})]
    return found


def test_a_user_token_opens_no_developer_admin_or_platform_route(app, client, user):
    headers = user_bearer_headers(client, user[1], USER_PASSWORD)
    routes = scoped_routes(app, other_than="privacy")

    assert ("POST", "/v1/ingest/users") in routes and len(routes) >= 10
    for method, url in routes:
        response = client.open(url, method=method, headers=headers, json={})
        assert response.status_code == 403, (method, url)
        assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("kind", ["developer", "admin", "platform"])
def test_other_tokens_open_no_user_route(client, make, bearer, kind):
    developer = make.developer() if kind == "developer" else None
    headers = bearer(make.client(kind=kind, developer_id=developer))

    response = client.get("/v1/me", headers=headers)

    assert response.status_code == 403
    assert 'scope="privacy"' in response.headers["WWW-Authenticate"]


def test_an_app_cannot_get_a_token_without_a_user(client):
    app = app_client(client)

    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": app.client_id}
    )

    assert response.status_code in (400, 401)
    assert "access_token" not in (response.get_json() or {})


def test_the_metadata_announces_the_code_flow(client):
    body = client.get("/.well-known/oauth-authorization-server").get_json()

    assert body["authorization_endpoint"].endswith("/oauth/authorize")
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert body["response_types_supported"] == ["code"]
    assert "authorization_code" in body["grant_types_supported"]
    assert "privacy" in body["scopes_supported"]
