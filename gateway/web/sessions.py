"""Session cookies: one per account kind, Secure, HttpOnly, SameSite; the rows live in
PostgreSQL (gateway.services.web_sessions), the cookie holds only a random id."""

from datetime import datetime

from flask import Response, current_app, request

from gateway.db import bind_principal
from gateway.models import SYSTEM, Conn
from gateway.services import web_sessions as sessions_service
from gateway.services.web_sessions import Session

# Lax for users: the first-party app sends them to /oauth/authorize with a top-level GET from
# its own site, which must carry the cookie; POSTs from other sites never do. Strict for
# admins, whose pages nobody links to, and only under /admin.
COOKIES = {
    "user": {"name": "gateway_user_session", "samesite": "Lax", "path": "/"},
    "admin": {"name": "gateway_admin_session", "samesite": "Strict", "path": "/admin"},
}


def cookie_value(kind: str) -> str | None:
    return request.cookies.get(COOKIES[kind]["name"])


def current(conn: Conn, kind: str, *, now: datetime) -> Session | None:
    """The live session of `kind` this request's cookie names (looked up as the system caller,
    the only one that reads sessions before knowing who is there)."""
    value = cookie_value(kind)
    if not value:
        return None
    bind_principal(conn, SYSTEM)
    return sessions_service.find(conn, value, kind=kind, now=now)


def ttl(kind: str) -> int:
    return int(current_app.config["ADMIN_SESSION_TTL" if kind == "admin" else "USER_SESSION_TTL"])


def set_cookie(response: Response, kind: str, value: str, *, max_age: int) -> None:
    spec = COOKIES[kind]
    response.set_cookie(
        spec["name"],
        value,
        max_age=max_age,
        path=spec["path"],
        secure=bool(current_app.config["SIGN_IN_COOKIE_SECURE"]),
        httponly=True,
        samesite=spec["samesite"],
    )


def clear_cookie(response: Response, kind: str) -> None:
    spec = COOKIES[kind]
    response.delete_cookie(
        spec["name"],
        path=spec["path"],
        secure=bool(current_app.config["SIGN_IN_COOKIE_SECURE"]),
        httponly=True,
        samesite=spec["samesite"],
    )
