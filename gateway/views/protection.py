"""Route guards: one transaction per request, the bearer token checked in it, the caller bound."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from authlib.oauth2 import OAuth2Error
from flask import current_app, request
from werkzeug.exceptions import MethodNotAllowed

from gateway import context
from gateway.context import RequestContext
from gateway.db import Database, bind_principal
from gateway.exceptions import Forbidden
from gateway.limits import call_limited, failed_authentications
from gateway.models import Developer, Principal
from gateway.oauth import challenge_for, require_oauth
from gateway.services import developers as developers_service


def database() -> Database:
    db: Database = current_app.extensions["gateway.db"]
    return db


def _authenticate(ctx: RequestContext) -> Principal:
    try:
        handle = require_oauth.acquire_token(list(ctx.required_scopes))
    except OAuth2Error as error:
        raise challenge_for(error, required_scopes=ctx.required_scopes) from None
    principal: Principal = handle.record.principal()
    return principal


def protected(
    scope: str,
    *,
    prepare: Callable[[RequestContext], tuple[Any, ...]] | None = None,
    pipelined: bool = False,
    generic_plans: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Guard a view with a bearer token carrying `scope` (never empty: V4).

    The view is called as view(ctx, *prepared, **url_args) inside the request's one
    transaction (`ctx.conn`), already bound to the caller (`ctx.principal`) for row-level
    security, after the caller's rate limit has been drawn from. `prepare(ctx)` runs before
    that draw: it may refuse the caller, set `ctx.rate_limit` and return extra arguments for
    the view. The view returns data; Flask serialises it after the commit. `pipelined` runs
    the transaction in psycopg's pipeline mode (`gateway.db._pipeline`: fewer round trips,
    for views that never catch a database error); `generic_plans` runs its prepared
    statements from plans made once (`gateway.db._GENERIC_PLANS`, for views whose every
    statement has a fixed shape).

    Before any of that, without touching the database: a HEAD is refused, a request without
    a bearer token gets the bare 401 challenge, and an address whose recent requests failed
    authentication too often gets a 429.
    """
    if not scope:
        raise ValueError("a protected route needs a scope")

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(**url_args: Any) -> Any:
            if request.method == "HEAD":
                # a HEAD would run the read, and log it, only to send its length: refuse it
                raise MethodNotAllowed(valid_methods=["GET"])
            require_oauth.require_presented()
            with context.transaction(
                database(),
                required_scopes=(scope,),
                pipelined=pipelined,
                generic_plans=generic_plans,
            ) as ctx:
                ctx.principal = _authenticate(ctx)
                bind_principal(ctx.conn, ctx.principal)
                prepared = prepare(ctx) if prepare else ()
                return call_limited(view, ctx, *prepared, **url_args)

        limited = failed_authentications(guarded)
        limited.required_scope = scope  # type: ignore[attr-defined]
        return limited

    return decorator


def _active_developer(ctx: RequestContext) -> tuple[Developer]:
    principal = ctx.principal
    if principal.developer_id is None:  # the scope is only given to developer clients
        raise Forbidden()
    developer = developers_service.get_active_developer(
        ctx.conn, developer_id=principal.developer_id, now=ctx.now()
    )
    ctx.rate_limit = developer.tier.rate_limit  # the tier sizes the bucket (rule 3)
    return (developer,)


# A developer API view: scope transcripts:read, an active developer, its tier's rate limit;
# called as view(ctx, developer, **url_args).
developer_route = protected("transcripts:read", prepare=_active_developer)

# The same, for the transcript reads: pipelined, so the read path's dozen statements cost the
# round trips of its five reads (the writes travel with the COMMIT); and from generic plans,
# since each of those statements has a fixed shape (the page statement renders only the
# clauses in use), so none is planned again at each request.
developer_read_route = protected(
    "transcripts:read", prepare=_active_developer, pipelined=True, generic_plans=True
)


def _kind(kind: str) -> Callable[[RequestContext], tuple[()]]:
    def prepare(ctx: RequestContext) -> tuple[()]:
        # a scope is only given to clients of its own kind; refuse anything else all the same
        if ctx.principal.kind != kind:
            raise Forbidden()
        return ()

    return prepare


# The platform's API (scope ingest): called as view(ctx, **url_args).
platform_route = protected("ingest", prepare=_kind("platform"))

# The admin API (scope admin): called as view(ctx, **url_args).
admin_route = protected("admin", prepare=_kind("admin"))


def _user(ctx: RequestContext) -> tuple[()]:
    # scope privacy is only in user tokens (the first-party app's, for one user)
    if ctx.principal.kind != "user" or not ctx.principal.user_id:
        raise Forbidden()
    return ()


# The users' API (scope privacy, a user token): called as view(ctx, **url_args), with
# ctx.principal.user_id the user the token acts for.
user_route = protected("privacy", prepare=_user)
