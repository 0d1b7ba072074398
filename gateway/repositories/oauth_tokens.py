"""Issued access tokens, stored only as SHA-256 digests."""

from datetime import datetime

from gateway.models import Conn, Row

# The token joined with what a request needs to know about its holder, in one round trip.
_FIND_BY_DIGEST = """
SELECT t.token_digest, t.client_id, t.scopes, t.issued_at, t.expires_at, t.revoked_at,
       t.secret_version, c.kind, c.developer_id, c.revoked_at AS client_revoked_at,
       c.secret_version AS client_secret_version, c.previous_secret_expires_at, t.user_id
FROM oauth_tokens t
JOIN oauth_clients c ON c.client_id = t.client_id
WHERE t.token_digest = %(digest)s
"""


def find_token(conn: Conn, digest: str) -> Row | None:
    return conn.execute(_FIND_BY_DIGEST, {"digest": digest}).fetchone()


def insert_token(
    conn: Conn,
    *,
    digest: str,
    client_id: str,
    scopes: list[str],
    issued_at: datetime,
    expires_at: datetime,
    secret_version: int = 1,
    user_id: str | None = None,
    authorization_code_id: int | None = None,
) -> int:
    """Store a token's digest; its id (what the audit log names it by)."""
    row = conn.execute(
        """
        INSERT INTO oauth_tokens (token_digest, client_id, scopes, issued_at, expires_at,
                                  secret_version, user_id, authorization_code_id)
        VALUES (%(digest)s, %(client_id)s, %(scopes)s, %(issued_at)s, %(expires_at)s,
                %(secret_version)s, %(user_id)s, %(authorization_code_id)s)
        RETURNING id
        """,
        {
            "digest": digest,
            "client_id": client_id,
            "scopes": scopes,
            "issued_at": issued_at,
            "expires_at": expires_at,
            "secret_version": secret_version,
            "user_id": user_id,
            "authorization_code_id": authorization_code_id,
        },
    ).fetchone()
    assert row is not None
    return int(row["id"])


def update_revoked(conn: Conn, digest: str, *, client_id: str) -> int | None:
    """Revoke the token if it belongs to `client_id` and is not revoked yet; its id if so."""
    row = conn.execute(
        """
        UPDATE oauth_tokens SET revoked_at = now()
        WHERE token_digest = %(digest)s AND client_id = %(client_id)s AND revoked_at IS NULL
        RETURNING id
        """,
        {"digest": digest, "client_id": client_id},
    ).fetchone()
    return None if row is None else int(row["id"])


def revoke_live_tokens(
    conn: Conn, *, now: datetime, client_id: str | None = None, developer_id: int | None = None
) -> list[int]:
    """Revoke every unexpired, unrevoked token of one client, or of every client of one
    developer; the ids of the tokens revoked, in order."""
    if (client_id is None) == (developer_id is None):
        raise ValueError("name one client or one developer")
    rows = conn.execute(
        """
        UPDATE oauth_tokens SET revoked_at = now()
        WHERE revoked_at IS NULL AND expires_at > %(now)s
          AND client_id IN (SELECT c.client_id FROM oauth_clients c
                            WHERE c.client_id = %(client_id)s
                               OR c.developer_id = %(developer_id)s)
        RETURNING id
        """,
        {"now": now, "client_id": client_id, "developer_id": developer_id},
    ).fetchall()
    return sorted(int(row["id"]) for row in rows)
