"""Admin accounts: Argon2 passwords and a TOTP second factor whose secret is stored sealed."""

import re
from dataclasses import dataclass
from datetime import datetime

import psycopg

from gateway import security
from gateway.exceptions import Conflict, InvalidInput, NotFound
from gateway.models import Conn
from gateway.repositories import admin_accounts as admins_repo
from gateway.services import audit
from gateway.web import passwords

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
_TOTP_PURPOSE = "admin totp secret"


@dataclass(frozen=True)
class NewAdmin:
    id: int
    name: str
    totp_secret: str  # shown once (as a provisioning URI); stored only sealed


@dataclass(frozen=True)
class Admin:
    id: int
    name: str


def create_admin(
    conn: Conn, *, actor: audit.Actor, name: str, password: str, server_secret: str
) -> NewAdmin:
    """Create an admin account with a fresh TOTP secret, returned once.

    Raises InvalidInput for a bad name or a weak password, Conflict for a taken name.
    Audited as `admin.created`.
    """
    if not _NAME.fullmatch(name):
        raise InvalidInput("An admin name is lower-case letters, digits and _ . - (up to 63).")
    problem = passwords.weakness(password, names=(name,))
    if problem:
        raise InvalidInput(problem)
    secret = passwords.new_totp_secret()
    sealed = security.seal(secret, server_secret=server_secret, purpose=_TOTP_PURPOSE)
    try:
        with conn.transaction():
            admin_id = admins_repo.insert_admin(
                conn,
                name=name,
                password_hash=passwords.hash_password(password),
                totp_ciphertext=sealed,
            )
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict("An admin of that name exists.") from exc
    audit.record(conn, actor=actor, action="admin.created", subject=name)
    return NewAdmin(admin_id, name, secret)


def check_password(conn: Conn, *, name: str, password: str) -> Admin | None:
    """The enabled admin whose name and password these are, else None (one Argon2 run either
    way). This is only the first factor: `check_second_factor` must follow."""
    row = admins_repo.find_admin(conn, name=name[:100]) if name else None
    stored = row["password_hash"] if row else None
    if not passwords.verify_password(stored, password) or row is None:
        return None
    if row["disabled_at"] is not None:
        return None
    return Admin(int(row["id"]), row["name"])


def check_second_factor(
    conn: Conn, *, admin_id: int, code: str, now: datetime, server_secret: str
) -> Admin | None:
    """The admin, when `code` is its current TOTP code not used before; else None.

    The accepted time step is recorded under a row lock, so one code signs in once.
    """
    row = admins_repo.get_admin_by_id(conn, admin_id, lock=True)
    if row is None or row["disabled_at"] is not None:
        return None
    secret = security.unseal(
        bytes(row["totp_ciphertext"]), server_secret=server_secret, purpose=_TOTP_PURPOSE
    )
    step = passwords.totp_step(secret, code, at=now.timestamp(), after=int(row["last_totp_step"]))
    if step is None or not admins_repo.update_totp_step(conn, admin_id=admin_id, step=step):
        return None
    return Admin(int(row["id"]), row["name"])


def reset_password(conn: Conn, *, name: str, password: str) -> None:
    """Give an admin a new password (the demo's, at every run). Raises NotFound."""
    row = admins_repo.find_admin(conn, name=name)
    if row is None:
        raise NotFound("No such admin.")
    admins_repo.update_password(
        conn, admin_id=int(row["id"]), password_hash=passwords.hash_password(password)
    )


def totp_secret(conn: Conn, *, name: str, server_secret: str) -> str | None:
    """An admin's TOTP secret, unsealed (the demo prints it; tests compute codes)."""
    row = admins_repo.find_admin(conn, name=name)
    if row is None:
        return None
    return security.unseal(
        bytes(row["totp_ciphertext"]), server_secret=server_secret, purpose=_TOTP_PURPOSE
    )


def list_admins(conn: Conn) -> list[Admin]:
    return [Admin(int(r["id"]), r["name"]) for r in admins_repo.list_admins(conn)]
