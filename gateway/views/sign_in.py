"""Signing in and out on the web: users at /sign-in, admins at /admin/sign-in (a password,
then a TOTP code). Sessions live server-side; every form carries a CSRF token."""

from typing import Any

from flask import Blueprint, Response, current_app, redirect, request

from gateway import context
from gateway.context import RequestContext
from gateway.db import bind_principal
from gateway.models import SYSTEM
from gateway.services import admins as admins_service
from gateway.services import user_accounts as accounts_service
from gateway.services import web_sessions as sessions_service
from gateway.services.web_sessions import Session
from gateway.views.protection import database
from gateway.web import attempts, csrf, sessions
from gateway.web.pages import admin_page, page, refused_form, safe_next, user_page, web_page

bp = Blueprint("sign_in", __name__)

USER_HOME = "/account"
ADMIN_HOME = "/admin/account"
# an admin has this long between the password and the code
PENDING_TTL = 300


def _address() -> str:
    return request.remote_addr or "unknown"


def _signed_in(kind: str, value: str, target: str) -> Response:
    response: Any = redirect(target, code=303)
    sessions.set_cookie(response, kind, value, max_age=sessions.ttl(kind))
    return response  # type: ignore[no-any-return]


# --- users -------------------------------------------------------------------------------------


@bp.route("/sign-in", methods=["GET", "POST"])
@web_page
def user_sign_in() -> Response:
    target = safe_next(request.values.get("next"), USER_HOME)
    values: dict[str, Any] = {"kind": "user", "next": target, "login": "", "error": None}
    if request.method == "GET":
        return page("sign_in.html", **values, csrf_token=csrf.token("user"))
    try:
        csrf.check("user")
    except csrf.CsrfRefused:
        return refused_form("user")
    login = request.form.get("login", "").strip()
    password = request.form.get("password", "")
    values["login"] = login
    if attempts.refused("user", login, _address()):
        return page(
            "sign_in.html",
            status=429,
            **{**values, "error": "Too many failed attempts from here. Wait a few minutes."},
            csrf_token=csrf.token("user"),
        )
    with context.transaction(database()) as ctx:
        # before anyone is known, only the system caller may read credentials
        bind_principal(ctx.conn, SYSTEM)
        user_id = accounts_service.authenticate(ctx.conn, login=login, password=password)
        if user_id is None:
            attempts.failed("user", login, _address())
            return page(
                "sign_in.html",
                status=401,
                **{**values, "error": "That account name and password do not match."},
                csrf_token=csrf.token("user"),
            )
        attempts.succeeded("user", login, _address())
        # a fresh session id at every sign-in: nothing chosen before it carries over
        previous = sessions_service.find(
            ctx.conn, sessions.cookie_value("user"), kind="user", now=ctx.now()
        )
        if previous is not None:
            sessions_service.end(ctx.conn, previous)
        value = sessions_service.start(
            ctx.conn, kind="user", now=ctx.now(), ttl=sessions.ttl("user"), user_id=user_id
        )
    return _signed_in("user", value, target)


@bp.post("/sign-out")
@user_page
def user_sign_out(ctx: RequestContext, account: Session) -> Response:
    bind_principal(ctx.conn, SYSTEM)
    sessions_service.end(ctx.conn, account)
    response = redirect("/sign-in", code=303)
    sessions.clear_cookie(response, "user")  # type: ignore[arg-type]
    return response  # type: ignore[return-value]


@bp.get("/account")
@user_page
def user_account(ctx: RequestContext, account: Session) -> Response:
    return page("account.html", kind="user", account=account, csrf_token=csrf.token("user"))


# --- admins ------------------------------------------------------------------------------------


@bp.route("/admin/sign-in", methods=["GET", "POST"])
@web_page
def admin_sign_in() -> Response:
    target = safe_next(request.values.get("next"), ADMIN_HOME)
    values: dict[str, Any] = {"kind": "admin", "next": target, "name": "", "error": None}
    if request.method == "GET":
        return page("admin_sign_in.html", **values, csrf_token=csrf.token("admin"))
    try:
        csrf.check("admin")
    except csrf.CsrfRefused:
        return refused_form("admin")
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    values["name"] = name
    if attempts.refused("admin", name, _address()):
        return page(
            "admin_sign_in.html",
            status=429,
            **{**values, "error": "Too many failed attempts from here. Wait a few minutes."},
            csrf_token=csrf.token("admin"),
        )
    with context.transaction(database()) as ctx:
        bind_principal(ctx.conn, SYSTEM)
        admin = admins_service.check_password(ctx.conn, name=name, password=password)
        if admin is None:
            attempts.failed("admin", name, _address())
            return page(
                "admin_sign_in.html",
                status=401,
                **{**values, "error": "That name and password do not match."},
                csrf_token=csrf.token("admin"),
            )
        # half signed in: this session can only finish with the code
        value = sessions_service.start(
            ctx.conn,
            kind="admin",
            now=ctx.now(),
            ttl=PENDING_TTL,
            admin_id=admin.id,
            admin_name=admin.name,
            pending=True,
        )
    response = redirect(f"/admin/sign-in/code?{_next_query(target)}", code=303)
    sessions.set_cookie(response, "admin", value, max_age=PENDING_TTL)  # type: ignore[arg-type]
    return response  # type: ignore[return-value]


def _next_query(target: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"next": target})


@bp.route("/admin/sign-in/code", methods=["GET", "POST"])
@web_page
def admin_second_factor() -> Response:
    target = safe_next(request.values.get("next"), ADMIN_HOME)
    with context.transaction(database()) as ctx:
        pending = sessions.current(ctx.conn, "admin", now=ctx.now())
        if pending is None or not pending.pending:
            return redirect(f"/admin/sign-in?{_next_query(target)}", code=303)  # type: ignore[return-value]
        values: dict[str, Any] = {"kind": "admin", "next": target, "error": None}
        if request.method == "GET":
            return page("admin_code.html", **values, csrf_token=csrf.token("admin"))
        try:
            csrf.check("admin")
        except csrf.CsrfRefused:
            return refused_form("admin")
        name = str(pending.admin_name)
        if attempts.refused("admin", name, _address()):
            return page(
                "admin_code.html",
                status=429,
                **{**values, "error": "Too many failed attempts from here. Wait a few minutes."},
                csrf_token=csrf.token("admin"),
            )
        admin = admins_service.check_second_factor(
            ctx.conn,
            admin_id=int(pending.admin_id or 0),
            code=request.form.get("code", "")[:20],
            now=ctx.now(),
            server_secret=current_app.config["SECRET_KEY"],
        )
        if admin is None:
            attempts.failed("admin", name, _address())
            return page(
                "admin_code.html",
                status=401,
                **{**values, "error": "That code is not right. Use the current one."},
                csrf_token=csrf.token("admin"),
            )
        attempts.succeeded("admin", name, _address())
        sessions_service.end(ctx.conn, pending, audited=False)
        value = sessions_service.start(
            ctx.conn,
            kind="admin",
            now=ctx.now(),
            ttl=sessions.ttl("admin"),
            admin_id=admin.id,
            admin_name=admin.name,
        )
    return _signed_in("admin", value, target)


@bp.post("/admin/sign-out")
@admin_page
def admin_sign_out(ctx: RequestContext, account: Session) -> Response:
    bind_principal(ctx.conn, SYSTEM)
    sessions_service.end(ctx.conn, account)
    response = redirect("/admin/sign-in", code=303)
    sessions.clear_cookie(response, "admin")  # type: ignore[arg-type]
    return response  # type: ignore[return-value]


@bp.get("/admin/account")
@admin_page
def admin_account(ctx: RequestContext, account: Session) -> Response:
    return page("account.html", kind="admin", account=account, csrf_token=csrf.token("admin"))
