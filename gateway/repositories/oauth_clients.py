"""OAuth clients: credentials of developers, admins and the platform (secrets stored hashed)."""

import psycopg

from gateway.exceptions import Conflict
from gateway.models import Conn, Row


def find_client(conn: Conn, client_id: str) -> Row | None:
    return conn.execute(
        """
        SELECT client_id, secret_hash, kind, developer_id, scopes, name, created_at, revoked_at,
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
