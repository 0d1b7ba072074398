"""Settings: defaults, then GATEWAY_* variables, then the mapping given to create_app."""

import os
from collections.abc import Mapping
from typing import Any

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
        "Signs cursors. Empty: generated once and kept in DATA_DIR (set it when scaling out).",
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
        "memory://",
        str,
        "flask-limiter storage: memory:// or redis://host:port.",
    ),
    "TOKEN_RATE_LIMIT": (
        "30 per minute",
        str,
        "Token-endpoint requests per client id (or address).",
    ),
    "TOKEN_ADDRESS_RATE_LIMIT": (
        "300 per minute",
        str,
        "OAuth-endpoint requests per client address, all client ids together.",
    ),
    "MAX_CONTENT_LENGTH": (1_048_576, int, "Largest request body in bytes; larger is a 413."),
    "TRUSTED_PROXIES": (0, int, "Reverse-proxy hops whose X-Forwarded-* headers are trusted."),
    "HOST": ("127.0.0.1", str, "Address `skillgw serve` listens on."),
    "PORT": (8080, int, "Port `skillgw serve` listens on."),
    "WORKERS": (2, int, "gunicorn worker processes for `skillgw serve`."),
    "ISSUER": ("http://127.0.0.1:8080", str, "OAuth issuer URL in the RFC 8414 metadata."),
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
    return settings


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
