"""Rate limits (flask-limiter): per OAuth client, sized by the developer's tier."""

from flask import Flask, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many
from werkzeug.exceptions import HTTPException

# No default limits: every limited route says which bucket it draws from.
limiter = Limiter(key_func=get_remote_address, default_limits=[])

FALLBACK_RATE_LIMIT = "60 per minute"
# What a caller gets when its tier's limit string does not parse: flask-limiter would log the
# error and apply no limit at all, so fail closed instead.
UNPARSABLE_RATE_LIMIT = "1 per minute"
# An unreachable Redis must cost a request milliseconds, not the OS connect timeout.
REDIS_TIMEOUTS = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}


def init_app(app: Flask) -> None:
    """Bind the limiter to `app` with the storage its config names.

    The limiter is module level, so state from an earlier app in this process (limits turned
    off, a storage judged dead) is cleared: each app starts on its own configured storage.
    """
    if str(app.config.get("RATELIMIT_STORAGE_URI", "")).startswith(("redis://", "rediss://")):
        options = {**REDIS_TIMEOUTS, **app.config.get("RATELIMIT_STORAGE_OPTIONS", {})}
        app.config["RATELIMIT_STORAGE_OPTIONS"] = options
    # flask-limiter keeps `enabled` from the last app that set it: say it for every app
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    limiter._storage_dead = False


def client_key() -> str:
    """The bucket of the authenticated client; never the address, which many clients share."""
    return f"client:{g.principal.client_id}"


def principal_rate_limit() -> str:
    """The caller's limit: its tier's for a developer, a fixed one for service clients."""
    limit: str = getattr(g, "rate_limit", FALLBACK_RATE_LIMIT)
    try:
        parse_many(limit)
    except ValueError:
        return UNPARSABLE_RATE_LIMIT
    return limit


def token_request_key() -> str:
    """Token-endpoint bucket: the client id asked for (guessing one id's secret is capped),
    else the remote address."""
    auth = request.authorization
    client_id = auth.username if auth and auth.type == "basic" else None
    if not client_id:
        try:
            client_id = request.form.get("client_id")
        except HTTPException:
            # an oversized or malformed body: flask-limiter would take any error raised here
            # for a dead storage and fall back to per-process counters; the view answers it
            client_id = None
    return f"token:{client_id}" if client_id else f"token-addr:{get_remote_address()}"


@limiter.shared_limit(principal_rate_limit, scope="api", key_func=client_key)
def call_limited(view, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Call `view` after drawing one request from the caller's bucket (429 when empty)."""
    return view(*args, **kwargs)
