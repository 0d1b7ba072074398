"""Web sessions, server-side: a row per session, found by the digest of its cookie."""

from datetime import datetime

from gateway.models import Conn, Row


def insert_session(
    conn: Conn,
    *,
    digest: str,
    kind: str,
    expires_at: datetime,
    user_id: str | None = None,
    admin_id: int | None = None,
    pending: bool = False,
) -> int:
    row = conn.execute(
        """
        INSERT INTO web_sessions (id_digest, kind, user_id, admin_id, pending, expires_at)
        VALUES (%(digest)s, %(kind)s, %(user_id)s, %(admin_id)s, %(pending)s, %(expires_at)s)
        RETURNING id
        """,
        {
            "digest": digest,
            "kind": kind,
            "user_id": user_id,
            "admin_id": admin_id,
            "pending": pending,
            "expires_at": expires_at,
        },
    ).fetchone()
    assert row is not None
    return int(row["id"])


def find_session(conn: Conn, digest: str) -> Row | None:
    """The session with its account's name (an admin's) or platform id (a user's)."""
    return conn.execute(
        """
        SELECT s.id, s.kind, s.user_id, s.admin_id, s.pending, s.created_at, s.expires_at,
               s.ended_at, a.name AS admin_name, a.disabled_at AS admin_disabled_at,
               u.platform_user_id
        FROM web_sessions s
        LEFT JOIN admin_accounts a ON a.id = s.admin_id
        LEFT JOIN users u ON u.id = s.user_id
        WHERE s.id_digest = %(digest)s
        """,
        {"digest": digest},
    ).fetchone()


def update_ended(conn: Conn, *, session_id: int) -> bool:
    row = conn.execute(
        """
        UPDATE web_sessions SET ended_at = now()
        WHERE id = %(id)s AND ended_at IS NULL
        RETURNING id
        """,
        {"id": session_id},
    ).fetchone()
    return row is not None
