"""Passwords (Argon2id, argon2-cffi) and TOTP second factors (pyotp); no web framework here."""

import secrets

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2-cffi's defaults are RFC 9106's second recommended profile (64 MiB, 3 passes, 4 lanes)
_HASHER = PasswordHasher()
# Verified against when an account is unknown, so both failures cost one Argon2 run.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))

MIN_LENGTH = 12
MAX_LENGTH = 256  # Argon2 takes any length; a cap keeps a megabyte "password" from being hashed
TOTP_DIGITS = 6
TOTP_PERIOD = 30


def hash_password(password: str) -> str:
    """The Argon2id hash of `password`, in argon2's encoded form."""
    return _HASHER.hash(password)


def weakness(password: str, *, names: tuple[str, ...] = ()) -> str | None:
    """Why `password` may not be used, or None when it may (NIST SP 800-63B §5.1.1.2)."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if len(set(password)) < 4:
        return "Use more than a few different characters."
    lowered = password.lower()
    if any(name and name.lower() in lowered for name in names):
        return "Do not use your account name in your password."
    return None


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches the stored hash; an unknown account costs the same and fails."""
    if len(password) > MAX_LENGTH:
        password = password[:MAX_LENGTH]
    try:
        matches = _HASHER.verify(stored or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return bool(matches) and stored is not None


def needs_rehash(stored: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(stored)


def new_totp_secret() -> str:
    """A base32 TOTP secret of 160 bits (RFC 4226 §4 recommends 160)."""
    return pyotp.random_base32(32)


def totp_uri(secret: str, *, account: str, issuer: str) -> str:
    """The otpauth:// provisioning URI an authenticator app scans."""
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD).provisioning_uri(
        name=account, issuer_name=issuer
    )


def totp_now(secret: str, *, at: float) -> str:
    """The code an authenticator shows at `at` (seconds since the epoch)."""
    return str(pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD).at(int(at)))


def totp_step(secret: str, code: str, *, at: float, after: int) -> int | None:
    """The time step `code` is valid for at `at` (±1 step of clock drift), if later than
    `after`; else None. A step once accepted is never accepted again (RFC 6238 §5.2)."""
    code = code.strip().replace(" ", "")
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD)
    current = int(at) // TOTP_PERIOD
    for step in (current - 1, current, current + 1):
        if step > after and secrets.compare_digest(str(totp.at(step * TOTP_PERIOD)), code):
            return step
    return None
