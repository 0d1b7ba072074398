"""Users' sign-in credentials: one-time activation links, Argon2 passwords, password checks."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway import security
from gateway.exceptions import InvalidInput, NotFound
from gateway.models import Conn
from gateway.repositories import credentials as credentials_repo
from gateway.services import audit
from gateway.web import passwords


@dataclass(frozen=True)
class Activation:
    token: str  # shown once, in the link; only its digest is stored
    user_id: str
    expires_at: datetime


@dataclass(frozen=True)
class PendingActivation:
    activation_id: int
    user_id: str
    login: str


def issue_activation(
    conn: Conn, *, actor: audit.Actor, user: str, now: datetime, ttl: int
) -> Activation:
    """A one-time link token with which `user` (gateway id or platform user id) sets a password,
    valid for `ttl` seconds. Raises NotFound for an unknown user. Audited (rule 7)."""
    row = credentials_repo.find_user(conn, login=user)
    if row is None:
        raise NotFound("No such user.")
    token = secrets.token_urlsafe(security.TOKEN_BYTES)
    expires_at = now + timedelta(seconds=ttl)
    user_id = str(row["id"])
    credentials_repo.insert_activation(
        conn, digest=security.token_digest(token), user_id=user_id, expires_at=expires_at
    )
    audit.record(conn, actor=actor, action="user.activation_issued", subject=user_id)
    return Activation(token, user_id, expires_at)


def find_activation(
    conn: Conn, token: str, *, now: datetime, lock: bool = False
) -> PendingActivation | None:
    """The unused, unexpired activation `token` names, else None (all failures alike)."""
    if not token or len(token) > 200:
        return None
    row = credentials_repo.find_activation(conn, security.token_digest(token), lock=lock)
    if row is None or row["used_at"] is not None or now >= row["expires_at"]:
        return None
    return PendingActivation(int(row["id"]), str(row["user_id"]), row["platform_user_id"])


def activate(conn: Conn, *, token: str, password: str, now: datetime) -> str:
    """Set the password of the user the link names and use the link up; the user's id.

    Raises NotFound for an unknown, used or expired link and InvalidInput for a weak
    password (then the link stays usable). Audited as `user.password_set` by the user.
    """
    pending = find_activation(conn, token, now=now, lock=True)
    if pending is None:
        raise NotFound("This link is not valid any more; ask for a new one.")
    problem = passwords.weakness(password, names=(pending.login,))
    if problem:
        raise InvalidInput(problem, details={"password": [problem]})
    credentials_repo.upsert_password(
        conn, user_id=pending.user_id, password_hash=passwords.hash_password(password)
    )
    credentials_repo.update_activation_used(conn, activation_id=pending.activation_id)
    audit.record(
        conn,
        actor=audit.Actor.user(pending.user_id),
        action="user.password_set",
        subject=pending.user_id,
    )
    return pending.user_id


def set_password(conn: Conn, *, user: str, password: str) -> str:
    """Set a user's password directly (the demo's known passwords, tests); the user's id."""
    row = credentials_repo.find_user(conn, login=user)
    if row is None:
        raise NotFound("No such user.")
    credentials_repo.upsert_password(
        conn, user_id=str(row["id"]), password_hash=passwords.hash_password(password)
    )
    return str(row["id"])


def authenticate(conn: Conn, *, login: str, password: str) -> str | None:
    """The id of the user whose login and password these are, else None.

    An unknown login, a user without a password and a wrong password fail alike, after one
    Argon2 verification each. A hash made with weaker parameters is upgraded on success.
    """
    row = credentials_repo.find_user(conn, login=login[:200]) if login else None
    stored = row["password_hash"] if row else None
    if not passwords.verify_password(stored, password) or row is None or stored is None:
        return None
    if passwords.needs_rehash(stored):
        credentials_repo.update_password(
            conn, user_id=str(row["id"]), password_hash=passwords.hash_password(password)
        )
    return str(row["id"])


def login_of(conn: Conn, *, user_id: str) -> str | None:
    """The platform user id a user signs in with, or None for a user the caller cannot see."""
    row = credentials_repo.find_user(conn, login=user_id)
    return None if row is None else str(row["platform_user_id"])
