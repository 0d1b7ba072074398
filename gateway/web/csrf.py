"""CSRF protection for every POST form: a token bound to the browser's session.

A signed-in form's token is an HMAC of the session's cookie value, so it is the session's own
and another session's does not pass. Before sign-in (the sign-in forms themselves, against
login CSRF) it binds to a random pre-session cookie instead. Nothing is stored server-side.
"""

import hashlib
import hmac
import secrets

from flask import Response, current_app, g, request

from gateway.exceptions import GatewayError
from gateway.web.sessions import COOKIES

FIELD = "csrf_token"
PRESESSION_COOKIE = "gateway_presession"


class CsrfRefused(GatewayError):
    status = 403
    code = "csrf_failed"


def _token(binding: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"gateway csrf v1\n" + binding.encode(), hashlib.sha256).hexdigest()


def _binding(kind: str) -> str | None:
    session_value = request.cookies.get(COOKIES[kind]["name"])
    if session_value:
        return f"{kind}-session:{session_value}"
    presession = g.get("gateway_presession") or request.cookies.get(PRESESSION_COOKIE)
    return f"presession:{presession}" if presession else None


def token(kind: str, *, session_value: str | None = None) -> str:
    """The token a form of `kind`'s pages carries (for a session just started: its value)."""
    if session_value:
        return _token(f"{kind}-session:{session_value}")
    binding = _binding(kind)
    if binding is None:
        g.gateway_presession = secrets.token_urlsafe(32)
        binding = f"presession:{g.gateway_presession}"
    return _token(binding)


def check(kind: str) -> None:
    """Raise CsrfRefused (403) unless the posted form carries this browser's token."""
    sent = request.form.get(FIELD, "")
    binding = _binding(kind)
    if (
        not sent
        or binding is None
        or not hmac.compare_digest(sent.encode(), _token(binding).encode())
    ):
        raise CsrfRefused("This form has expired or did not come from this site; reload it.")


def set_presession_cookie(response: Response) -> Response:
    """After a page minted a pre-session binding, hand its cookie to the browser."""
    value = g.get("gateway_presession")
    if value:
        response.set_cookie(
            PRESESSION_COOKIE,
            value,
            path="/",
            secure=bool(current_app.config["SIGN_IN_COOKIE_SECURE"]),
            httponly=True,
            samesite="Lax",
        )
    return response
