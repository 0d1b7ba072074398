"""OAuth 2.0 endpoints: token, revocation (RFC 7009), introspection (RFC 7662), metadata."""

import json
from typing import Any

from flask import Blueprint, Response, current_app

from gateway import context
from gateway.limits import failed_authentications, per_address
from gateway.oauth import APP_AUTH_METHODS, CLIENT_AUTH_METHODS, SCOPES, authorization
from gateway.views.protection import database

bp = Blueprint("oauth", __name__)


# authlib often leaves error_description out (RFC 6749 §5.2 makes it optional); clients of
# this gateway parse one envelope everywhere, so every OAuth error gets all three fields.
_DESCRIPTIONS = {
    "invalid_request": "The request is missing a parameter or has a malformed one.",
    "invalid_client": "Client authentication failed.",
    "invalid_grant": "The grant is not valid.",
    "unauthorized_client": "This client may not use that grant type.",
    "unsupported_grant_type": "Only grant_type=client_credentials (and authorization_code for "
    "the users' app) is supported.",
    "invalid_scope": "The client may not ask for that scope.",
    "unsupported_token_type": "Only access tokens are issued, so only they can be revoked.",
}


def _as_envelope(response: Response) -> Response:
    body = response.get_json(silent=True)
    if response.status_code < 400 or not isinstance(body, dict) or "error" not in body:
        return response
    code = str(body["error"])
    response.set_data(
        json.dumps(
            {
                "error": code,
                "error_description": body.get("error_description")
                or _DESCRIPTIONS.get(code, "The OAuth request failed."),
                "details": {},
            }
        )
    )
    return response


def _in_transaction(endpoint: str | None) -> Response:
    # authlib's callbacks find the request's context (and its connection) with
    # gateway.context.current(): the whole exchange is one transaction
    with context.transaction(database()):
        if endpoint is None:
            response: Response = authorization.create_token_response()
        else:
            response = authorization.create_endpoint_response(endpoint)
    return _as_envelope(response)


# Three buckets: every request of an address (a flood cap), the failed ones of an address
# (checked before any database work), and, once its secret checks out, the client's own
# (gateway.oauth.Server.authenticate_client). A stranger naming a client id spends only the
# budgets of its own address.


@bp.post("/oauth/token")
@per_address
@failed_authentications
def issue_token() -> Response:
    return _in_transaction(None)


@bp.post("/oauth/revoke")
@per_address
@failed_authentications
def revoke_token() -> Response:
    return _in_transaction("revocation")


@bp.post("/oauth/introspect")
@per_address
@failed_authentications
def introspect_token() -> Response:
    return _in_transaction("introspection")


@bp.get("/.well-known/oauth-authorization-server")
def metadata() -> dict[str, Any]:
    issuer = current_app.config["ISSUER"].rstrip("/")
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "grant_types_supported": ["client_credentials", "authorization_code"],
        # "none": the users' first-party app, a public client that proves itself with PKCE
        "token_endpoint_auth_methods_supported": [*CLIENT_AUTH_METHODS, *APP_AUTH_METHODS],
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    }
