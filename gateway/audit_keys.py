"""The audit checkpoint key: Ed25519, from GATEWAY_AUDIT_SIGNING_KEY or made once in DATA_DIR."""

import base64
import binascii
import hashlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE = "audit-signing-key"


def _raw32(text: str) -> bytes | None:
    """32 bytes from hex or (url-safe or standard) base64, else None."""
    text = text.strip()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        try:
            raw = base64.b64decode(
                text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True
            )
        except (binascii.Error, ValueError):
            return None
    return raw if len(raw) == 32 else None


def private_key_from_text(text: str) -> Ed25519PrivateKey:
    """Parse a private key: 32 raw bytes as hex or base64, or an unencrypted PKCS#8 PEM.

    Raises ValueError when it is none of these.
    """
    if "BEGIN" in text:
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the PEM key is not an Ed25519 private key")
        return key
    raw = _raw32(text)
    if raw is None:
        raise ValueError("an Ed25519 private key is 32 bytes, as hex or base64, or a PEM file")
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """Parse a public key: 32 raw bytes as hex or base64, or a SubjectPublicKeyInfo PEM.

    Raises ValueError when it is none of these.
    """
    if "BEGIN" in text:
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the PEM key is not an Ed25519 public key")
        return key
    raw = _raw32(text)
    if raw is None:
        raise ValueError("an Ed25519 public key is 32 bytes, as hex or base64, or a PEM file")
    return Ed25519PublicKey.from_public_bytes(raw)


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_hex(key: Ed25519PublicKey) -> str:
    return public_bytes(key).hex()


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def key_id(key: Ed25519PublicKey) -> str:
    """A short name for a public key, carried in each checkpoint: which key signed it."""
    return hashlib.sha256(public_bytes(key)).hexdigest()[:16]


def load_signing_key(settings: Mapping[str, Any]) -> Ed25519PrivateKey:
    """The server's checkpoint key: AUDIT_SIGNING_KEY, else the one generated in DATA_DIR.

    The generated key is written once, readable by its owner only (0600), like the other local
    secrets. Keep it off the database server: whoever holds it can sign checkpoints.
    """
    configured = str(settings.get("AUDIT_SIGNING_KEY") or "")
    if configured:
        return private_key_from_text(configured)
    folder = Path(settings["DATA_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / KEY_FILE
    if not path.exists():
        seed = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        # written whole under another name, then linked into place: two processes starting at
        # once keep one key, and nobody ever reads a half-written file
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{KEY_FILE}.")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(seed.hex() + "\n")
            os.chmod(temporary, 0o600)
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
    return private_key_from_text(path.read_text())
