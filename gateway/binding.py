"""The caller proof: a keyed digest over the bound caller that the database recomputes."""

import hashlib
import hmac
from collections.abc import Sequence

# Labels that keep this key and these messages apart from every other use of SECRET_KEY.
_KEY_CONTEXT = b"gateway database caller binding"
_MESSAGE_TAG = b"gateway caller v1"


def derive_binding_key(secret_key: str) -> bytes:
    """The 32-byte key the app proves callers with; `skillgw db upgrade` installs the same."""
    return hmac.new(secret_key.encode(), _KEY_CONTEXT, hashlib.sha256).digest()


def caller_message(fields: Sequence[str]) -> bytes:
    """The canonical caller: a tag, then each field as '\\n' <byte length> ':' <UTF-8 bytes>.

    Length-prefixed, so no two different callers encode alike. gateway_binding_ok() (migration
    0002) builds the same bytes in SQL.
    """
    parts = [_MESSAGE_TAG]
    for field in fields:
        raw = field.encode()
        parts.append(b"\n" + str(len(raw)).encode() + b":" + raw)
    return b"".join(parts)


def caller_proof(key: bytes, fields: Sequence[str]) -> str:
    """sha256(key || sha256(key || message)) in hex, as gateway_binding_ok() recomputes it.

    The database has sha256 built in but no HMAC without pgcrypto; with a fixed-length key
    and the outer hash over the inner digest, length extension gains an attacker nothing.
    """
    inner = hashlib.sha256(key + caller_message(fields)).digest()
    return hashlib.sha256(key + inner).hexdigest()
