"""Page guards: `user_page` and `admin_page` run a view as the signed-in account, inside the
request's one transaction, after checking the CSRF token of every POST."""

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from flask import Response, redirect, render_template, request

from gateway import context
from gateway.context import RequestContext
from gateway.db import bind_principal
from gateway.models import Principal
from gateway.services.web_sessions import Session
from gateway.views.protection import database
from gateway.web import csrf, sessions

SIGN_IN = {"user": "/sign-in", "admin": "/admin/sign-in"}


def safe_next(target: str | None, default: str) -> str:
    """`target` when it is a path on this site, else `default` (no open redirect)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or any(ch in target for ch in "\r\n\x00")
    ):
        return default
    return target


def page(template: str, *, status: int = 200, **values: Any) -> Response:
    """A rendered page; every page tells caches to keep nothing and other sites to frame it not."""
    response = Response(render_template(template, **values), status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        # form-action also governs where a form's redirect goes: the app's redirect URI
        "default-src 'none'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def web_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark `view` as an HTML page: it is not part of the JSON API (nor its OpenAPI document)."""
    view.web_page = True  # type: ignore[attr-defined]
    return view


def refused_form(kind: str) -> Response:
    return page(
        "message.html",
        status=403,
        kind=kind,
        title="This form has expired",
        message="The form was not sent from this page in this browser session. "
        "Go back, reload the page and try again.",
    )


def _guard(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(**url_args: Any) -> Any:
            with context.transaction(database()) as ctx:
                session = sessions.current(ctx.conn, kind, now=ctx.now())
                if session is None or session.pending:
                    if request.method != "GET":
                        return refused_form(kind)
                    query = urlencode({"next": request.full_path.rstrip("?")})
                    return redirect(f"{SIGN_IN[kind]}?{query}", code=303)
                if request.method == "POST":
                    try:
                        csrf.check(kind)
                    except csrf.CsrfRefused:
                        return refused_form(kind)
                ctx.principal = principal_of(session)
                bind_principal(ctx.conn, ctx.principal)
                return view(ctx, session, **url_args)

        guarded.required_session = kind  # type: ignore[attr-defined]
        return web_page(guarded)

    return decorator


def principal_of(session: Session) -> Principal:
    if session.kind == "admin":
        return Principal(kind="admin", account=session.admin_name)
    return Principal(kind="user", user_id=session.user_id)


# A user's page: called as view(ctx, account, **url_args), bound as that user.
user_page = _guard("user")

# An admin console page: called as view(ctx, account, **url_args), bound as kind "admin" with
# the account's name (audit.Actor.of(ctx.principal) is admin:<name>).
admin_page = _guard("admin")

__all__ = ["RequestContext", "admin_page", "page", "safe_next", "user_page"]
