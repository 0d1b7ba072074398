"""Secrets, digests and signed cursors: the gateway's small cryptographic toolbox."""

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TOKEN_BYTES = 32  # 256 bits from the OS CSPRNG (RFC 6750 §5.2, RFC 9700)


def new_access_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_client_id(kind: str) -> str:
    return f"{kind[:3]}_{secrets.token_hex(12)}"


def new_client_secret() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """The stored form of an access token: its SHA-256, so a database dump grants nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def hash_secret(secret: str, *, salt: str | None = None) -> str:
    """Return 'sha256$salt$digest'.

    Client secrets are 256 random bits, so a fast salted hash is as strong as a slow KDF here;
    a slow KDF would only make the token endpoint an easy CPU target.
    """
    salt = salt or secrets.token_hex(16)
    digest = hashlib.sha256(f"{salt}${secret}".encode()).hexdigest()
    return f"sha256${salt}${digest}"


# Compared against when the client id is unknown, so both failures cost the same.
_DUMMY_HASH = hash_secret(secrets.token_urlsafe(TOKEN_BYTES))


def verify_secret(stored: str | None, presented: str) -> bool:
    """Check `presented` against a stored hash in constant time (a missing hash never matches)."""
    parts = (stored or _DUMMY_HASH).split("$", 2)
    if len(parts) != 3 or parts[0] != "sha256":
        return False
    salt = parts[1]
    matches = hmac.compare_digest(stored or _DUMMY_HASH, hash_secret(presented, salt=salt))
    return matches and stored is not None


def new_webhook_secret() -> str:
    """A Standard Webhooks signing secret: 'whsec_' and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _sealing_key(server_secret: str, purpose: str) -> bytes:
    return hmac.new(server_secret.encode(), purpose.encode(), hashlib.sha256).digest()


def seal(plaintext: str, *, server_secret: str, purpose: str) -> bytes:
    """Encrypt `plaintext` (AES-256-GCM) under a key derived from the server secret.

    For secrets the gateway must use again (webhook signing secrets), so that a database dump
    holds nothing usable. `purpose` separates keys (and is bound as associated data).
    """
    nonce = secrets.token_bytes(12)
    key = _sealing_key(server_secret, purpose)
    return nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), purpose.encode())


def unseal(ciphertext: bytes, *, server_secret: str, purpose: str) -> str:
    """Decrypt what `seal` made; raises `ValueError` when it was not made under this key."""
    key = _sealing_key(server_secret, purpose)
    try:
        plain = AESGCM(key).decrypt(ciphertext[:12], ciphertext[12:], purpose.encode())
    except InvalidTag as exc:
        raise ValueError("sealed under another key") from exc
    return plain.decode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_cursor(payload: dict[str, Any], *, key: bytes) -> str:
    """Encode `payload` as an opaque cursor whose integrity is protected by an HMAC."""
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    mac = _b64(hmac.new(key, b"cursor." + body.encode(), hashlib.sha256).digest()[:16])
    return f"{body}.{mac}"


def verify_cursor(cursor: str, *, key: bytes) -> dict[str, Any] | None:
    """Return the payload of a cursor made by `sign_cursor`, or None if it was altered."""
    body, _, mac = cursor.partition(".")
    if not body or not mac or len(cursor) > 1024:
        return None
    expected = _b64(hmac.new(key, b"cursor." + body.encode(), hashlib.sha256).digest()[:16])
    # bytes: compare_digest raises TypeError on a str with non-ASCII characters (a 500)
    if not hmac.compare_digest(expected.encode(), mac.encode()):
        return None
    try:
        payload = json.loads(_unb64(body))
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None
