"""Web sessions for admins and users: started on sign-in, found by cookie, ended on sign-out;
the cookie's value is a secret, only its digest is stored. Sign-ins and sign-outs are
audited (rule 7)."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway import security
from gateway.models import Conn
from gateway.repositories import web_sessions as sessions_repo
from gateway.services import audit


@dataclass(frozen=True)
class Session:
    id: int
    kind: str  # "admin" or "user"
    user_id: str | None
    admin_id: int | None
    admin_name: str | None
    login: str | None  # a user's platform id, for the page to greet them by
    pending: bool  # an admin between the password and the second factor
    expires_at: datetime

    @property
    def actor(self) -> audit.Actor:
        if self.kind == "admin":
            return audit.Actor.admin(str(self.admin_name))
        return audit.Actor.user(str(self.user_id))


def start(
    conn: Conn,
    *,
    kind: str,
    now: datetime,
    ttl: int,
    user_id: str | None = None,
    admin_id: int | None = None,
    admin_name: str | None = None,
    pending: bool = False,
) -> str:
    """A new session; its cookie value (shown once). A completed sign-in is audited."""
    value = secrets.token_urlsafe(security.TOKEN_BYTES)
    session_id = sessions_repo.insert_session(
        conn,
        digest=security.token_digest(value),
        kind=kind,
        expires_at=now + timedelta(seconds=ttl),
        user_id=user_id,
        admin_id=admin_id,
        pending=pending,
    )
    if not pending:
        actor = (
            audit.Actor.admin(str(admin_name))
            if kind == "admin"
            else audit.Actor.user(str(user_id))
        )
        audit.record(conn, actor=actor, action=f"{kind}.signed_in", subject=str(session_id))
    return value


def find(conn: Conn, value: str | None, *, kind: str, now: datetime) -> Session | None:
    """The live session of `kind` the cookie value names, else None."""
    if not value or len(value) > 200 or "\x00" in value:
        return None
    row = sessions_repo.find_session(conn, security.token_digest(value))
    if (
        row is None
        or row["kind"] != kind
        or row["ended_at"] is not None
        or now >= row["expires_at"]
        or row["admin_disabled_at"] is not None
    ):
        return None
    return Session(
        id=int(row["id"]),
        kind=row["kind"],
        user_id=None if row["user_id"] is None else str(row["user_id"]),
        admin_id=row["admin_id"],
        admin_name=row["admin_name"],
        login=row["platform_user_id"],
        pending=bool(row["pending"]),
        expires_at=row["expires_at"],
    )


def end(conn: Conn, session: Session, *, audited: bool = True) -> None:
    """End the session (sign-out); audited unless it was only half signed in."""
    if sessions_repo.update_ended(conn, session_id=session.id) and audited and not session.pending:
        audit.record(
            conn, actor=session.actor, action=f"{session.kind}.signed_out", subject=str(session.id)
        )
