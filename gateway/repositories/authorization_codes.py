"""OAuth authorization codes (stored as digests), and the user tokens issued from them."""

from datetime import datetime

from gateway.models import Conn, Row


def insert_code(
    conn: Conn,
    *,
    digest: str,
    client_id: str,
    user_id: str,
    redirect_uri: str,
    code_challenge: str,
    code_challenge_method: str,
    scopes: list[str],
    expires_at: datetime,
) -> int:
    row = conn.execute(
        """
        INSERT INTO authorization_codes (code_digest, client_id, user_id, redirect_uri,
                                         code_challenge, code_challenge_method, scopes,
                                         expires_at)
        VALUES (%(digest)s, %(client_id)s, %(user_id)s, %(redirect_uri)s, %(code_challenge)s,
                %(code_challenge_method)s, %(scopes)s, %(expires_at)s)
        RETURNING id
        """,
        {
            "digest": digest,
            "client_id": client_id,
            "user_id": user_id,
            "redirect_uri": redirect_uri,
            "code_challenge": code_challenge,
            "code_challenge_method": code_challenge_method,
            "scopes": scopes,
            "expires_at": expires_at,
        },
    ).fetchone()
    assert row is not None
    return int(row["id"])


def find_code(conn: Conn, digest: str, *, client_id: str) -> Row | None:
    """The code issued to `client_id`, locked: two exchanges of one code take turns."""
    return conn.execute(
        """
        SELECT id, client_id, user_id, redirect_uri, code_challenge, code_challenge_method,
               scopes, expires_at, used_at
        FROM authorization_codes
        WHERE code_digest = %(digest)s AND client_id = %(client_id)s
        FOR UPDATE
        """,
        {"digest": digest, "client_id": client_id},
    ).fetchone()


def update_used(conn: Conn, *, code_id: int) -> None:
    conn.execute(
        "UPDATE authorization_codes SET used_at = now() WHERE id = %(id)s", {"id": code_id}
    )


def revoke_tokens_of_code(conn: Conn, *, code_id: int) -> list[int]:
    """Revoke the live tokens issued from the code; their ids."""
    rows = conn.execute(
        """
        UPDATE oauth_tokens SET revoked_at = now()
        WHERE authorization_code_id = %(id)s AND revoked_at IS NULL
        RETURNING id
        """,
        {"id": code_id},
    ).fetchall()
    return sorted(int(row["id"]) for row in rows)
