"""The OAuth authorization endpoint for the users' first-party app: sign in, approve, get a
code (authorization_code with PKCE S256, RFC 6749 §4.1, RFC 7636)."""

from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Response, redirect, request

from gateway import context
from gateway.db import bind_principal
from gateway.oauth import authorization
from gateway.views.protection import database
from gateway.web import csrf, sessions
from gateway.web.pages import page, principal_of, refused_form, web_page

bp = Blueprint("authorize", __name__)


def _error(error: OAuth2Error) -> Response:
    # RFC 6749 §4.1.2.1: with an unknown client or a redirect URI that is not registered the
    # user is told here and never sent anywhere; otherwise the app hears of it at its URI
    if error.redirect_uri:
        return authorization.handle_error_response(None, error)  # type: ignore[no-any-return]
    return page(
        "message.html",
        status=400,
        kind="user",
        title="This sign-in link is not valid",
        message=error.description
        or "The app sent an authorization request this gateway cannot accept.",
    )


@bp.route("/oauth/authorize", methods=["GET", "POST"])
@web_page
def authorize() -> Response:
    with context.transaction(database()) as ctx:
        session = sessions.current(ctx.conn, "user", now=ctx.now())
        if request.method == "POST":
            if session is None:
                return refused_form("user")
            try:
                csrf.check("user")
            except csrf.CsrfRefused:
                return refused_form("user")
        try:
            grant = authorization.get_consent_grant(end_user=session.user_id if session else None)
        except OAuth2Error as error:
            return _error(error)
        if session is None:
            query = urlencode({"next": request.full_path.rstrip("?")})
            return redirect(f"/sign-in?{query}", code=303)  # type: ignore[return-value]
        ctx.principal = principal_of(session)
        bind_principal(ctx.conn, ctx.principal)
        if request.method == "GET":
            client = grant.client
            return page(
                "authorize.html",
                kind="user",
                account=session,
                app_name=(client.client.name if client.client else "") or client.client_id,
                scopes=grant.request.scope.split(),
                action=request.full_path,
                csrf_token=csrf.token("user"),
            )
        approved = request.form.get("decision") == "allow"
        response: Response = authorization.create_authorization_response(
            grant=grant, grant_user=session.user_id if approved else None
        )
        return response
