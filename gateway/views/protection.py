"""Route guards: one transaction per request, the bearer token checked in it, the caller bound."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from authlib.oauth2 import OAuth2Error
from flask import current_app, g

from gateway.db import Database, bind_principal
from gateway.exceptions import Forbidden
from gateway.limits import call_limited
from gateway.models import ANONYMOUS, Conn, Developer, Principal
from gateway.oauth import require_oauth
from gateway.services import developers as developers_service


def database() -> Database:
    db: Database = current_app.extensions["gateway.db"]
    return db


def _authenticate(conn: Conn, scope: str) -> Principal:
    g.oauth_conn = conn
    g.required_scopes = [scope]
    try:
        handle = require_oauth.acquire_token([scope])
    except OAuth2Error as error:
        require_oauth.raise_error_response(error)
    principal: Principal = handle.record.principal()
    return principal


def protected(
    scope: str, *, prepare: Callable[[Conn, Principal], tuple[Any, ...]] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Guard a view with a bearer token carrying `scope` (never empty: V4).

    The view is called as view(conn, principal, *prepared, **url_args) inside the request's
    one transaction, already bound to the caller for row-level security, after the caller's
    rate limit has been drawn from. `prepare(conn, principal)` runs before that draw: it may
    refuse the caller, set `g.rate_limit` and return extra arguments for the view. The view
    returns data; Flask serialises it after the commit.
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
                prepared = prepare(conn, principal) if prepare else ()
                return call_limited(view, conn, principal, *prepared, **url_args)

        guarded.required_scope = scope  # type: ignore[attr-defined]
        return guarded

    return decorator


def _active_developer(conn: Conn, principal: Principal) -> tuple[Developer]:
    if principal.developer_id is None:  # the scope is only given to developer clients
        raise Forbidden()
    developer = developers_service.get_active_developer(conn, developer_id=principal.developer_id)
    g.rate_limit = developer.tier.rate_limit  # the tier sizes the bucket (rule 3)
    return (developer,)


# A developer API view: scope transcripts:read, an active developer, its tier's rate limit;
# called as view(conn, principal, developer, **url_args).
developer_route = protected("transcripts:read", prepare=_active_developer)
