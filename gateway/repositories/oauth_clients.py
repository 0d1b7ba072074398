"""OAuth clients: credentials of developers, admins and the platform (secrets stored hashed)."""

from datetime import datetime

import psycopg

from gateway.exceptions import Conflict
from gateway.models import Conn, Row


def find_client(conn: Conn, client_id: str) -> Row | None:
    return conn.execute(
        """
        SELECT client_id, secret_hash, kind, developer_id, scopes, name, created_at, revoked_at,
               secret_version, previous_secret_hash, previous_secret_expires_at, rotated_at,
               redirect_uris
        FROM oauth_clients WHERE client_id = %(client_id)s
        """,
        {"client_id": client_id},
    ).fetchone()


def insert_client(
    conn: Conn,
    *,
    client_id: str,
    secret_hash: str,
    kind: str,
    scopes: list[str],
    developer_id: int | None = None,
    name: str = "",
    redirect_uris: list[str] | None = None,
) -> None:
    try:
        conn.execute(
            """
            INSERT INTO oauth_clients (client_id, secret_hash, kind, developer_id, scopes, name,
                                       redirect_uris)
            VALUES (%(client_id)s, %(secret_hash)s, %(kind)s, %(developer_id)s, %(scopes)s,
                    %(name)s, %(redirect_uris)s)
            """,
            {
                "client_id": client_id,
                "secret_hash": secret_hash,
                "kind": kind,
                "developer_id": developer_id,
                "scopes": scopes,
                "name": name,
                "redirect_uris": redirect_uris or [],
            },
        )
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict("That client id is taken.") from exc


# What an admin may see of a client: never its secret or any hash of it.
_LISTED = """
SELECT client_id, kind, developer_id, scopes, name, created_at, revoked_at, secret_version,
       rotated_at, previous_secret_expires_at
FROM oauth_clients
WHERE (%(developer_id)s::bigint IS NULL OR developer_id = %(developer_id)s)
  AND (%(kind)s::text IS NULL OR kind = %(kind)s)
  AND (%(after)s::text IS NULL OR client_id > %(after)s)
ORDER BY client_id
LIMIT %(limit)s
"""


def list_clients(
    conn: Conn,
    *,
    developer_id: int | None = None,
    kind: str | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> list[Row]:
    """Clients by client id, after `after`; no secret and no hash in any row."""
    return conn.execute(
        _LISTED,
        {"developer_id": developer_id, "kind": kind, "after": after, "limit": limit},
    ).fetchall()


def update_secret(
    conn: Conn,
    client_id: str,
    *,
    secret_hash: str,
    secret_version: int,
    previous_secret_hash: str | None,
    previous_secret_expires_at: datetime | None,
) -> bool:
    """Replace the secret of an unrevoked client, if it still has `secret_version - 1`."""
    row = conn.execute(
        """
        UPDATE oauth_clients
        SET secret_hash = %(secret_hash)s, secret_version = %(secret_version)s,
            previous_secret_hash = %(previous_secret_hash)s,
            previous_secret_expires_at = %(previous_secret_expires_at)s, rotated_at = now()
        WHERE client_id = %(client_id)s AND revoked_at IS NULL
          AND secret_version = %(secret_version)s - 1
        RETURNING client_id
        """,
        {
            "client_id": client_id,
            "secret_hash": secret_hash,
            "secret_version": secret_version,
            "previous_secret_hash": previous_secret_hash,
            "previous_secret_expires_at": previous_secret_expires_at,
        },
    ).fetchone()
    return row is not None


def update_revoked(conn: Conn, client_id: str) -> datetime | None:
    """Revoke the client unless it already is; when it was revoked, or None."""
    row = conn.execute(
        """
        UPDATE oauth_clients SET revoked_at = now()
        WHERE client_id = %(client_id)s AND revoked_at IS NULL
        RETURNING revoked_at
        """,
        {"client_id": client_id},
    ).fetchone()
    return None if row is None else row["revoked_at"]
