"""The Skill Data Gateway: create_app(config=None) builds the WSGI application."""

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from psycopg.conninfo import make_conninfo
from werkzeug.middleware.proxy_fix import ProxyFix

from gateway import config as config_module
from gateway import limits, oauth, telemetry
from gateway.binding import derive_binding_key
from gateway.db import PooledDatabase
from gateway.json_encoding import JSONProvider
from gateway.migrate import APP_ROLE
from gateway.models import Keyring


def app_conninfo(settings: Mapping[str, Any]) -> str:
    """The URL the web app connects with: APP_DATABASE_URL, else DATABASE_URL as the app role."""
    if settings["APP_DATABASE_URL"]:
        return str(settings["APP_DATABASE_URL"])
    if not settings["DATABASE_URL"]:
        raise RuntimeError(
            "No database configured: set GATEWAY_DATABASE_URL, or start with `skillgw serve`, "
            "which runs an embedded PostgreSQL."
        )
    extra = (
        {"password": settings["DATABASE_APP_PASSWORD"]} if settings["DATABASE_APP_PASSWORD"] else {}
    )
    return make_conninfo(settings["DATABASE_URL"], user=APP_ROLE, **extra)


def _local_secret(settings: Mapping[str, Any], name: str, make: Any) -> str:
    """Read a generated secret from DATA_DIR, creating it on first use (0600)."""
    folder = Path(settings["DATA_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def secret_key(settings: Mapping[str, Any]) -> str:
    """SECRET_KEY, else the one generated once in DATA_DIR.

    The caller-binding key derives from it (gateway.binding): the app and `skillgw db upgrade`,
    which installs that key in the database, must resolve the same secret.
    """
    if settings["SECRET_KEY"]:
        return str(settings["SECRET_KEY"])
    return _local_secret(settings, "secret-key", lambda: secrets.token_hex(32))


def _keyring(settings: Mapping[str, Any]) -> Keyring:
    raw = settings["PSEUDONYM_KEYS"] or _local_secret(
        settings, "pseudonym-keys", lambda: f"k1:{secrets.token_hex(32)}"
    )
    current, keys = config_module.parse_pseudonym_keys(raw)
    return Keyring(current, keys)


# The only answers a cache may keep: the same for everyone, about no one.
CACHEABLE_ENDPOINTS = frozenset(
    {"static", "docs.page", "docs.openapi_json", "health.healthz", "health.readyz"}
)


def _no_store(response: Response) -> Response:
    # transcripts, tokens and anything personal must never sit in a shared or browser cache:
    # every answer but the listed ones, so a page or route added later is covered by default
    endpoint = request.endpoint or ""
    if endpoint not in CACHEABLE_ENDPOINTS and not endpoint.endswith(".static"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def default_issuer(settings: Mapping[str, Any]) -> str:
    """http://HOST:PORT from the settings: right only when clients reach the server there."""
    host = str(settings["HOST"])
    return (
        f"http://[{host}]:{settings['PORT']}"
        if ":" in host
        else f"http://{host}:{settings['PORT']}"
    )


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from defaults, GATEWAY_* environment variables and `config`, in that order."""
    settings = config_module.load(config)
    telemetry.check_settings(settings)
    app = Flask(__name__)
    app.config.update(settings)
    app.config.setdefault("CLOCK", oauth.default_clock)
    app.config["SECRET_KEY"] = secret_key(settings)
    # the issuer is configuration, never a request's Host header (RFC 8414 §2: clients compare
    # it with the URL they were given)
    app.config["ISSUER"] = settings["ISSUER"] or default_issuer(settings)
    limits.storage_uri(settings)  # a bad storage setting fails before any database starts
    app.json = JSONProvider(app)  # orjson (gateway/json_encoding.py)
    app.json.sort_keys = False
    if settings["TRUSTED_PROXIES"]:
        hops = settings["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    # a test or a script may hand over its own Database (e.g. a SharedConnection)
    db = settings.get("DATABASE")
    if db is None and not (settings["DATABASE_URL"] or settings["APP_DATABASE_URL"]):
        # `flask --app app run` on a laptop: the same embedded PostgreSQL `skillgw serve` uses
        from gateway.embedded import EMBEDDED_FOLDER, start_embedded

        embedded = start_embedded(Path(settings["DATA_DIR"]) / EMBEDDED_FOLDER)
        settings["DATABASE_URL"] = embedded.database_url
    conninfo = (
        app_conninfo(settings) if settings["DATABASE_URL"] or settings["APP_DATABASE_URL"] else None
    )
    if db is None:
        db = PooledDatabase(
            app_conninfo(settings),
            min_size=settings["POOL_MIN_SIZE"],
            max_size=settings["POOL_MAX_SIZE"],
            timeout=settings["POOL_TIMEOUT"],
            statement_timeout_ms=settings["STATEMENT_TIMEOUT_MS"],
            # proves the request's caller to the database for privileged writes
            binding_key=derive_binding_key(app.config["SECRET_KEY"]),
        )
        db.open()
    app.extensions["gateway.db"] = db
    app.extensions["gateway.keyring"] = _keyring(settings)

    # the rate-limit counters live in the same database, reached as the same role
    limits.init_app(app, conninfo=conninfo)
    oauth.init_app(app)

    from gateway.views import account as account_views
    from gateway.views import activation as activation_views
    from gateway.views import (
        admin_accounts,
        admin_audit,
        console,
        developers,
        docs,
        errors,
        health,
        ingest,
        me,
        privacy,
        relay,
    )
    from gateway.views import authorize as authorize_views
    from gateway.views import oauth as oauth_views
    from gateway.views import sign_in as sign_in_views
    from gateway.web import csrf

    errors.register(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(oauth_views.bp)
    app.register_blueprint(developers.bp)
    app.register_blueprint(ingest.bp)
    app.register_blueprint(me.bp)
    app.register_blueprint(relay.bp)
    from gateway.views import admin_whitelist, tier_requests

    app.register_blueprint(admin_whitelist.bp)
    app.register_blueprint(tier_requests.bp)
    app.register_blueprint(admin_accounts.bp)
    app.register_blueprint(admin_audit.bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(authorize_views.bp)
    app.register_blueprint(account_views.bp)
    app.register_blueprint(activation_views.bp)
    app.register_blueprint(sign_in_views.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(privacy.bp)
    app.after_request(csrf.set_presession_cookie)
    app.after_request(_no_store)
    # the request id, the JSON request line and the request metrics, for every response
    telemetry.init_app(app)

    from gateway import cli

    cli.register(app)
    return app
