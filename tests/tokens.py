"""Access tokens for tests, minted through the real /oauth/token of whichever app a test built."""

from typing import Any


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
