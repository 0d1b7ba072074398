"""Access tokens for tests, minted through the real /oauth/token of whichever app a test built."""

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from gateway.models import SYSTEM
from gateway.services import audit
from gateway.services import oauth_clients as oauth_clients_service


def _pair(credentials: Any) -> tuple[str, str]:
    if isinstance(credentials, dict):
        return credentials["client_id"], credentials["client_secret"]
    return credentials.client_id, credentials.client_secret


def mint_token(http: Any, credentials: Any, *, scope: str | None = None) -> str:
    """POST client_credentials (client_secret_basic) to `http`, a Flask test client; the token."""
    form = {"grant_type": "client_credentials"}
    if scope:
        form["scope"] = scope
    response = http.post("/oauth/token", data=form, auth=_pair(credentials))
    assert response.status_code == 200, response.get_json()
    return str(response.get_json()["access_token"])


def bearer_headers(http: Any, credentials: Any, *, scope: str | None = None) -> dict[str, str]:
    """The Authorization header of a freshly minted token."""
    return {"Authorization": f"Bearer {mint_token(http, credentials, scope=scope)}"}


# --- user tokens: the first-party app's real authorization_code + PKCE flow

APP_REDIRECT_URI = "https://app.example/callback"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(page: Any) -> str:
    """The CSRF token of the form on a page a test client fetched."""
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, page.get_data(as_text=True)[:500]
    return match.group(1)


def app_client(http: Any) -> Any:
    """The first-party app's client on `http`'s app (registered once per app, as the system)."""
    app = http.application
    found = app.extensions.get("tests.app_client")
    if found is None:
        with app.extensions["gateway.db"].transaction(SYSTEM) as conn:
            found = oauth_clients_service.register_client(
                conn,
                actor=audit.SYSTEM,
                kind="app",
                name="Privacy app",
                redirect_uris=[APP_REDIRECT_URI],
            )
        app.extensions["tests.app_client"] = found
    return found


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge) as RFC 7636 §4.1-4.2 make them."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.decode().rstrip("=")


def sign_in_user(http: Any, login: str, password: str, *, next_url: str = "/account") -> Any:
    """Sign in on /sign-in as a browser would (the form's CSRF token included)."""
    token = csrf_token(http.get("/sign-in"))
    return http.post(
        "/sign-in",
        data={"login": login, "password": password, "csrf_token": token, "next": next_url},
    )


def authorization_code(
    http: Any, login: str, password: str, *, client: Any = None, state: str = "xyz"
) -> tuple[str, str]:
    """Sign in, approve the app and return (code, verifier), checking the state came back."""
    client = client or app_client(http)
    verifier, challenge = pkce_pair()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": APP_REDIRECT_URI,
            "scope": "privacy",
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    url = f"/oauth/authorize?{query}"
    signed_in = sign_in_user(http, login, password, next_url=url)
    assert signed_in.status_code == 303, signed_in.get_data(as_text=True)[:500]
    consent = http.get(url)
    assert consent.status_code == 200, consent.get_data(as_text=True)[:500]
    answer = http.post(url, data={"csrf_token": csrf_token(consent), "decision": "allow"})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    params = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert params["state"] == [state]
    return params["code"][0], verifier


def exchange_code(http: Any, code: str, verifier: str, *, client: Any = None) -> Any:
    """POST the code and its verifier to /oauth/token as the public client; the response."""
    client = client or app_client(http)
    return http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": APP_REDIRECT_URI,
            "client_id": client.client_id,
            "code_verifier": verifier,
        },
    )


def user_bearer_headers(http: Any, user_id_or_login: str, password: str) -> dict[str, str]:
    """The Authorization header of a user token got through the real flow: sign in on the
    page, approve the first-party app, exchange the code with its PKCE verifier."""
    code, verifier = authorization_code(http, user_id_or_login, password)
    response = exchange_code(http, code, verifier)
    assert response.status_code == 200, response.get_json()
    http.delete_cookie("gateway_user_session")  # the next sign-in starts afresh
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}
