"""Rate limits (flask-limiter): per OAuth client, sized by the tier, counted in shared storage."""

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many

from gateway import context
from gateway.limit_storage import SCHEME as POSTGRES_SCHEME
from gateway.limit_storage import PostgresStorage

# No default limits: every limited route says which bucket it draws from.
limiter = Limiter(key_func=get_remote_address, default_limits=[])

FALLBACK_RATE_LIMIT = "60 per minute"
# What a caller gets when its tier's limit string does not parse: flask-limiter would log the
# error and apply no limit at all, so fail closed instead.
UNPARSABLE_RATE_LIMIT = "1 per minute"
# An unreachable Redis must cost a request milliseconds, not the OS connect timeout.
REDIS_TIMEOUTS = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}
REDIS_SCHEMES = ("redis://", "rediss://", "redis+sentinel://", "redis+cluster://")
# flask-limiter puts a Retry-After on every limited response, and on a 503 it would replace
# the database's own hint with the time until the bucket refills. It writes its hint under
# this name instead; `retry_after_only_when_refused` makes it the Retry-After of a 429 only.
RETRY_HINT_HEADER = "X-Gateway-Retry-Hint"


def storage_uri(settings: Mapping[str, Any]) -> str:
    """The storage URI a setting names: '' (the gateway's PostgreSQL), memory:// or redis://…

    Raises ValueError for anything else.
    """
    uri = str(settings.get("RATELIMIT_STORAGE_URI") or "")
    if uri and uri != "memory://" and not uri.startswith(REDIS_SCHEMES):
        raise ValueError(
            "RATELIMIT_STORAGE_URI must be empty (the gateway's own PostgreSQL), memory:// "
            "(one process only) or a redis:// URL"
        )
    return uri


def init_app(app: Flask, *, conninfo: str | None = None) -> None:
    """Bind the limiter to `app` with the storage its config names.

    An empty RATELIMIT_STORAGE_URI counts in the gateway's own PostgreSQL, reached with
    `conninfo` (the web app's URL). The limiter is module level, so state from an earlier app
    in this process (limits turned off, a storage judged dead, its storage options) is
    cleared: each app starts on its own configured storage.
    """
    uri = storage_uri(app.config)
    options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS", {}))
    if not uri:
        if not conninfo:
            raise RuntimeError(
                "Rate limits are counted in the gateway's PostgreSQL, but no URL is known: "
                "set GATEWAY_APP_DATABASE_URL or GATEWAY_RATELIMIT_STORAGE_URI."
            )
        uri = f"{POSTGRES_SCHEME}://"
        options = {"conninfo": conninfo, **options}
    elif uri.startswith(REDIS_SCHEMES):
        options = {**REDIS_TIMEOUTS, **options}
    app.config["RATELIMIT_STORAGE_URI"] = uri
    app.config["RATELIMIT_STORAGE_OPTIONS"] = options
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    app.config["RATELIMIT_HEADER_RETRY_AFTER"] = RETRY_HINT_HEADER
    app.config["RATELIMIT_STRATEGY"] = "moving-window"
    # a storage that stops answering falls back to counters in this process, each limit
    # divided among the workers (see `_share`): never a 500, never unlimited
    app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
    # with the fallback on, this only covers what flask-limiter does after the response was
    # made: a count of a failed authentication (deduct_when) or the headers' window read, when
    # the storage dies mid-request. That loses one count, where raising would be a 500.
    app.config["RATELIMIT_SWALLOW_ERRORS"] = True
    # flask-limiter keeps `enabled` from the last app that set it: say it for every app
    app.config.setdefault("RATELIMIT_ENABLED", True)

    previous = getattr(limiter, "_storage", None)
    if isinstance(previous, PostgresStorage):
        previous.close()
    limiter._storage_options = {}
    # registered before the limiter's own hook so that it runs after it (Flask runs them last
    # first)
    app.after_request(retry_after_only_when_refused)
    limiter.init_app(app)
    limiter._storage_dead = False


def retry_after_only_when_refused(response: Response) -> Response:
    """Retry-After from the limiter on a 429; a 503 keeps its own; nothing else has one."""
    hint = response.headers.pop(RETRY_HINT_HEADER, None)
    if response.status_code == 429 and hint is not None:
        response.headers["Retry-After"] = hint
    elif response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    return response


def _share(limit: str) -> str:
    """`limit`, or this process's share of it while the shared storage is unreachable.

    On the fallback every worker counts alone; dividing by the worker count keeps one server
    within the limit (an outage must not multiply it). Never less than one request.
    """
    workers = int(current_app.config.get("WORKERS", 1))
    if not limiter._storage_dead or workers <= 1:
        return limit
    return "; ".join(
        f"{max(1, item.amount // workers)} per {item.multiples} {item.GRANULARITY.name}"
        for item in parse_many(limit)
    )


def _setting(name: str) -> Any:
    def limit() -> str:
        return _share(str(current_app.config[name]))

    limit.__name__ = name.lower()
    return limit


def client_key() -> str:
    """The bucket of the authenticated client; never the address, which many clients share."""
    return f"client:{context.current().principal.client_id}"


def principal_rate_limit() -> str:
    """The caller's limit: its tier's for a developer, a fixed one for service clients."""
    # flask-limiter also reads it before the request's context exists (to decide whether
    # default limits apply, of which there are none): the fallback then
    ctx = context.find()
    limit = (ctx.rate_limit if ctx else None) or FALLBACK_RATE_LIMIT
    try:
        parse_many(limit)
    except ValueError:
        return UNPARSABLE_RATE_LIMIT
    return _share(limit)


def _authentication_failed(response: Response) -> bool:
    return response.status_code in (400, 401)


# Every OAuth request from one address, whatever it asks: a flood cap across the endpoints.
per_address = limiter.shared_limit(
    _setting("TOKEN_ADDRESS_RATE_LIMIT"), scope="oauth-address", key_func=get_remote_address
)

# Failed authentications from one address, on /oauth/* and /v1/* together. Checked before any
# database work and counted once the answer is a 400 or 401, so a stranger guessing (or
# flooding) spends the budget of its own address only, never that of a client it names.
failed_authentications = limiter.shared_limit(
    _setting("AUTH_FAILURE_RATE_LIMIT"),
    scope="auth-failures",
    key_func=get_remote_address,
    deduct_when=_authentication_failed,
)


@limiter.limit(_setting("TOKEN_RATE_LIMIT"), key_func=client_key)
def charge_client() -> None:
    """Draw one request from the authenticated client's bucket of this OAuth endpoint.

    Called once the client's secret has checked out (429 when the bucket is empty), so only
    the client itself can spend it. Each endpoint has its own bucket.
    """


@limiter.shared_limit(principal_rate_limit, scope="api", key_func=client_key)
def call_limited(view, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Call `view` after drawing one request from the caller's bucket (429 when empty)."""
    return view(*args, **kwargs)
