"""Settings: defaults, then GATEWAY_* variables, then the mapping given to create_app."""

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

# name -> (default, parser, one-line description); the README's configuration table mirrors this.
SETTINGS: dict[str, tuple[Any, Any, str]] = {
    "DATABASE_URL": (
        "",
        str,
        "PostgreSQL URL of the owner role (runs migrations). Empty: start an embedded PostgreSQL.",
    ),
    "APP_DATABASE_URL": (
        "",
        str,
        "URL the web app connects as. Empty: DATABASE_URL with the user set to gateway_app.",
    ),
    "DATABASE_APP_PASSWORD": ("", str, "Password of the app role (empty: none, e.g. trust/peer)."),
    "DATA_DIR": ("./instance", str, "Folder for the embedded PostgreSQL data and local secrets."),
    "POOL_MIN_SIZE": (1, int, "Connections the pool keeps open."),
    "POOL_MAX_SIZE": (10, int, "Most connections the pool opens."),
    "POOL_TIMEOUT": (2.0, float, "Seconds a request waits for a connection before a 503."),
    "STATEMENT_TIMEOUT_MS": (2000, int, "Server-side cap on one statement (ms); past it, a 503."),
    "SECRET_KEY": (
        "",
        str,
        "Signs cursors and proves callers to the database; the same for every instance and "
        "`skillgw db upgrade`. Empty: generated once and kept in DATA_DIR.",
    ),
    "PSEUDONYM_KEYS": (
        "",
        str,
        "Pseudonym keys as 'id:hex,id:hex'; the first is current. Empty: one generated key.",
    ),
    "AUDIT_SIGNING_KEY": (
        "",
        str,
        "Ed25519 key (hex or base64) that signs audit checkpoints. Empty: generated once in "
        "DATA_DIR.",
    ),
    "ACCESS_TOKEN_TTL": (3600, int, "Access-token lifetime in seconds (at most 3600)."),
    "RATELIMIT_STORAGE_URI": (
        "",
        str,
        "Where rate-limit counters live. Empty: the gateway's own PostgreSQL; redis://host:port "
        "for a Redis; memory:// only with one worker.",
    ),
    "TOKEN_RATE_LIMIT": (
        "30 per minute",
        str,
        "Requests of one authenticated client to each OAuth endpoint.",
    ),
    "TOKEN_ADDRESS_RATE_LIMIT": (
        "300 per minute",
        str,
        "OAuth-endpoint requests per client address, all client ids together.",
    ),
    "AUTH_FAILURE_RATE_LIMIT": (
        "60 per minute",
        str,
        "Failed authentications (OAuth 400/401, /v1 401) per client address before its "
        "requests are refused unheard.",
    ),
    "SIGN_IN_COOKIE_SECURE": (
        True,
        lambda value: str(value).strip().lower() in ("1", "true", "yes", "on"),
        "Session cookies carry Secure. Off only for development over http://localhost or "
        "127.0.0.1 (the ISSUER must be such a URL).",
    ),
    "USER_SESSION_TTL": (43200, int, "Seconds a user's web session lasts from sign-in."),
    "ADMIN_SESSION_TTL": (3600, int, "Seconds an admin's web session lasts from sign-in."),
    "ACTIVATION_TTL": (3600, int, "Seconds a user's activation link (to set a password) works."),
    "AUTHORIZATION_CODE_TTL": (
        60,
        int,
        "Seconds an OAuth authorization code stays good (at most 600, RFC 6749 §4.1.2).",
    ),
    "SIGN_IN_RATE_LIMIT": (
        "5 per 15 minutes",
        str,
        "Failed sign-ins to one account from one address before that pair is refused.",
    ),
    "SIGN_IN_ADDRESS_RATE_LIMIT": (
        "30 per 15 minutes",
        str,
        "Failed sign-ins from one address, all accounts together, before it is refused.",
    ),
    "MAX_CONTENT_LENGTH": (1_048_576, int, "Largest request body in bytes; larger is a 413."),
    "TRUSTED_PROXIES": (0, int, "Reverse-proxy hops whose X-Forwarded-* headers are trusted."),
    "HOST": ("127.0.0.1", str, "Address `skillgw serve` listens on."),
    "PORT": (8080, int, "Port `skillgw serve` listens on."),
    "WORKERS": (
        2,
        int,
        "gunicorn worker processes (`skillgw serve`, deploy/gunicorn.conf.py); rate limits "
        "divide by it while their storage is unreachable.",
    ),
    "ISSUER": (
        "",
        str,
        "OAuth issuer URL in the RFC 8414 metadata, the URL clients use. Empty: http://HOST:PORT.",
    ),
    "RETENTION_MONTHS": (
        18,
        int,
        "Whole months of interactions kept before the current one; older ones are dropped.",
    ),
    "WEBHOOK_ALLOW_LOOPBACK": (
        False,
        lambda value: str(value).strip().lower() in ("1", "true", "yes", "on"),
        "Development only: accept http:// webhook URLs on 127.0.0.1/::1/localhost.",
    ),
    "WEBHOOK_MAX_ATTEMPTS": (8, int, "Delivery attempts before a notice is dead-lettered."),
    "WEBHOOK_BACKOFF_SECONDS": (
        30.0,
        float,
        "First retry delay; doubles with each attempt (capped at 6 hours).",
    ),
    "WEBHOOK_TIMEOUT": (5.0, float, "Seconds to connect and to wait for an answer, each."),
    "WEBHOOK_CA_FILE": ("", str, "CA bundle for webhook TLS. Empty: the system's."),
    "WEBHOOK_SECRET_GRACE_HOURS": (
        24.0,
        float,
        "After a secret rotation, hours the old secret keeps signing beside the new one.",
    ),
    "METRICS": (
        "off",
        str,
        "GET /metrics (Prometheus): off (404), port (served only on METRICS_PORT) or token "
        "(needs METRICS_TOKEN as a bearer token).",
    ),
    "METRICS_PORT": (9100, int, "Port that serves /metrics alone when METRICS=port."),
    "METRICS_TOKEN": (
        "",
        str,
        "Bearer token /metrics requires when METRICS=token (at least 16 characters).",
    ),
    "LOG_LEVEL": ("info", str, "Level of the JSON log lines on stdout (debug, info, warning)."),
}


def load(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return the settings: defaults, then GATEWAY_<NAME> from the environment, then `overrides`."""
    settings: dict[str, Any] = {}
    for name, (default, parse, _) in SETTINGS.items():
        raw = os.environ.get(f"GATEWAY_{name}")
        settings[name] = default if raw is None else parse(raw)
    settings.update(overrides or {})
    if settings["ACCESS_TOKEN_TTL"] > 3600:
        raise ValueError("ACCESS_TOKEN_TTL must be at most 3600 seconds (RFC 9700 §2.2.1)")
    if not 1 <= settings["AUTHORIZATION_CODE_TTL"] <= 600:
        raise ValueError("AUTHORIZATION_CODE_TTL must be 1 to 600 seconds (RFC 6749 §4.1.2)")
    if not settings["SIGN_IN_COOKIE_SECURE"] and not _local_development(settings):
        raise ValueError(
            "SIGN_IN_COOKIE_SECURE may be off only for development over http://localhost "
            "(set ISSUER to such a URL, or leave HOST at 127.0.0.1)"
        )
    if settings["RETENTION_MONTHS"] < 1:
        raise ValueError("RETENTION_MONTHS must be at least 1")
    return settings


def _local_development(settings: Mapping[str, Any]) -> bool:
    issuer = str(settings.get("ISSUER") or "")
    if issuer:
        parts = urlsplit(issuer)
        return parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1")
    return str(settings.get("HOST")) in ("localhost", "127.0.0.1", "::1")


def parse_pseudonym_keys(raw: str) -> tuple[str, dict[str, bytes]]:
    """Parse 'id:hex,id:hex' into (current key id, {id: key}); the first key is current."""
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        key_id, _, hex_key = item.partition(":")
        if not key_id.isalnum() or len(hex_key) < 32:
            raise ValueError("PSEUDONYM_KEYS entries look like 'k1:<at least 32 hex digits>'")
        keys[key_id] = bytes.fromhex(hex_key)
    if not keys:
        raise ValueError("PSEUDONYM_KEYS is empty")
    return next(iter(keys)), keys
