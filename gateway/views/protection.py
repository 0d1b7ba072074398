"""Route guards: one transaction per request, the bearer token checked in it, the caller bound."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from authlib.oauth2 import OAuth2Error
from flask import current_app, g

from gateway.db import Database, bind_principal
from gateway.exceptions import Forbidden
from gateway.limits import call_limited
from gateway.models import ANONYMOUS, Principal
from gateway.oauth import require_oauth
from gateway.services import developers as developers_service


def database() -> Database:
    db: Database = current_app.extensions["gateway.db"]
    return db


def _authenticate(conn: Any, scope: str) -> Principal:
    g.oauth_conn = conn
    g.required_scopes = [scope]
    try:
        handle = require_oauth.acquire_token([scope])
    except OAuth2Error as error:
        require_oauth.raise_error_response(error)
    principal: Principal = handle.record.principal()
    return principal


def protected(scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Guard a view with a bearer token carrying `scope` (never empty: V4).

    The view is called as view(conn, principal, **url_args) inside the request's one
    transaction, already bound to the caller for row-level security, after the caller's
    rate limit has been drawn from. It returns data; Flask serialises it after the commit.
    """
    if not scope:
        raise ValueError("a protected route needs a scope")

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(**url_args: Any) -> Any:
            with database().transaction(ANONYMOUS) as conn:
                principal = _authenticate(conn, scope)
                bind_principal(conn, principal)
                g.principal = principal
                return call_limited(view, conn, principal, **url_args)

        guarded.required_scope = scope  # type: ignore[attr-defined]
        return guarded

    return decorator


def developer_route(view: Callable[..., Any]) -> Callable[..., Any]:
    """Guard a developer API view: scope transcripts:read, an active developer, its tier's limit.

    The view is called as view(conn, principal, developer, **url_args).
    """

    @wraps(view)
    def guarded(**url_args: Any) -> Any:
        with database().transaction(ANONYMOUS) as conn:
            principal = _authenticate(conn, "transcripts:read")
            bind_principal(conn, principal)
            g.principal = principal
            if principal.developer_id is None:  # the scope is only given to developers
                raise Forbidden()
            developer = developers_service.get_active_developer(
                conn, developer_id=principal.developer_id
            )
            g.rate_limit = developer.tier.rate_limit
            return call_limited(view, conn, principal, developer, **url_args)

    guarded.required_scope = "transcripts:read"  # type: ignore[attr-defined]
    return guarded
