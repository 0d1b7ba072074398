"""Activation: the platform asks for a one-time link, with which a user sets a password."""

from typing import Any

from flask import Blueprint, Response, current_app, request

from gateway import context
from gateway.context import RequestContext
from gateway.db import bind_principal
from gateway.exceptions import InvalidInput, NotFound
from gateway.models import SYSTEM
from gateway.services import audit
from gateway.services import user_accounts as accounts_service
from gateway.views.bodies import no_body
from gateway.views.protection import database, platform_route
from gateway.web import csrf
from gateway.web.pages import page, refused_form, web_page

bp = Blueprint("activation", __name__)


@bp.post("/v1/platform/users/<user_id>/activation")
@platform_route
def issue_activation(ctx: RequestContext, user_id: str) -> dict[str, Any]:
    """A one-time link for the user (gateway id or platform user id) to set a password."""
    no_body()
    activation = accounts_service.issue_activation(
        ctx.conn,
        actor=audit.Actor.of(ctx.principal),
        user=user_id,
        now=ctx.now(),
        ttl=int(current_app.config["ACTIVATION_TTL"]),
    )
    issuer = current_app.config["ISSUER"].rstrip("/")
    return {
        "user_id": activation.user_id,
        "activation_url": f"{issuer}/activate/{activation.token}",
        "expires_at": activation.expires_at.isoformat().replace("+00:00", "Z"),
    }


def _gone() -> Response:
    return page(
        "message.html",
        status=404,
        kind="user",
        title="This link is not valid any more",
        message="Activation links work once and only for a short time. Ask for a new one in "
        "the app.",
    )


@bp.route("/activate/<token>", methods=["GET", "POST"])
@web_page
def activate(token: str) -> Response:
    with context.transaction(database()) as ctx:
        # whoever holds the link may use it: the system caller looks it up
        bind_principal(ctx.conn, SYSTEM)
        pending = accounts_service.find_activation(ctx.conn, token, now=ctx.now())
        if pending is None:
            return _gone()
        values: dict[str, Any] = {"kind": "user", "login": pending.login, "error": None}
        if request.method == "GET":
            return page("activate.html", **values, csrf_token=csrf.token("user"))
        try:
            csrf.check("user")
        except csrf.CsrfRefused:
            return refused_form("user")
        password = request.form.get("password", "")
        if password != request.form.get("confirm", ""):
            error = "The two passwords differ."
        else:
            try:
                accounts_service.activate(ctx.conn, token=token, password=password, now=ctx.now())
            except NotFound:
                return _gone()
            except InvalidInput as problem:
                error = problem.description
            else:
                return page(
                    "message.html",
                    kind="user",
                    title="Your password is set",
                    message="You can now sign in with it.",
                    link=("/sign-in", "Sign in"),
                )
        return page(
            "activate.html", status=422, **{**values, "error": error}, csrf_token=csrf.token("user")
        )
