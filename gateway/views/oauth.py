"""OAuth 2.0 endpoints: token, revocation (RFC 7009), introspection (RFC 7662), metadata."""

from typing import Any

from flask import Blueprint, Response, current_app, g
from flask_limiter.util import get_remote_address

from gateway.limits import limiter, token_request_key
from gateway.models import ANONYMOUS
from gateway.oauth import CLIENT_AUTH_METHODS, SCOPES, authorization
from gateway.views.protection import database

bp = Blueprint("oauth", __name__)


def _token_rate_limit() -> str:
    limit: str = current_app.config["TOKEN_RATE_LIMIT"]
    return limit


def _address_rate_limit() -> str:
    limit: str = current_app.config["TOKEN_ADDRESS_RATE_LIMIT"]
    return limit


# One address guessing many client ids is capped too, across the three endpoints together.
_per_address = limiter.shared_limit(
    _address_rate_limit, scope="oauth-address", key_func=get_remote_address
)


def _in_transaction(endpoint: str | None) -> Response:
    # authlib's callbacks read the connection from g; the whole exchange is one transaction
    with database().transaction(ANONYMOUS) as conn:
        g.oauth_conn = conn
        if endpoint is None:
            response: Response = authorization.create_token_response()
        else:
            response = authorization.create_endpoint_response(endpoint)
    return response


@bp.post("/oauth/token")
@_per_address
@limiter.limit(_token_rate_limit, key_func=token_request_key)
def issue_token() -> Response:
    return _in_transaction(None)


@bp.post("/oauth/revoke")
@_per_address
@limiter.limit(_token_rate_limit, key_func=token_request_key)
def revoke_token() -> Response:
    return _in_transaction("revocation")


@bp.post("/oauth/introspect")
@_per_address
@limiter.limit(_token_rate_limit, key_func=token_request_key)
def introspect_token() -> Response:
    return _in_transaction("introspection")


@bp.get("/.well-known/oauth-authorization-server")
def metadata() -> dict[str, Any]:
    issuer = current_app.config["ISSUER"].rstrip("/")
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth/token",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "scopes_supported": SCOPES,
        "response_types_supported": [],
    }
