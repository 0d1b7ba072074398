"""Rate limits (flask-limiter): per OAuth client, sized by the developer's tier."""

from flask import g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# No default limits: every limited route says which bucket it draws from.
limiter = Limiter(key_func=get_remote_address, default_limits=[])

FALLBACK_RATE_LIMIT = "60 per minute"


def client_key() -> str:
    """The bucket of the authenticated client; never the address, which many clients share."""
    return f"client:{g.principal.client_id}"


def principal_rate_limit() -> str:
    """The caller's limit: its tier's for a developer, a fixed one for service clients."""
    return getattr(g, "rate_limit", FALLBACK_RATE_LIMIT)


def token_request_key() -> str:
    """Token-endpoint bucket: the client id asked for (guessing one id's secret is capped),
    else the remote address."""
    auth = request.authorization
    client_id = (auth.username if auth and auth.type == "basic" else None) or request.form.get(
        "client_id"
    )
    return f"token:{client_id}" if client_id else f"token-addr:{get_remote_address()}"


@limiter.shared_limit(principal_rate_limit, scope="api", key_func=client_key)
def call_limited(view, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Call `view` after drawing one request from the caller's bucket (429 when empty)."""
    return view(*args, **kwargs)
