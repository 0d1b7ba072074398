"""User credentials (Argon2 hashes) and the one-time activation links that set them."""

from datetime import datetime

from gateway.models import Conn, Row


def find_user(conn: Conn, *, login: str) -> Row | None:
    """The user a sign-in names, by gateway id or platform user id, with its password hash."""
    return conn.execute(
        """
        SELECT u.id, u.platform_user_id, c.password_hash
        FROM users u LEFT JOIN user_credentials c ON c.user_id = u.id
        WHERE u.platform_user_id = %(login)s
           OR u.id = CASE WHEN %(login)s ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'
                          THEN %(login)s::uuid END
        ORDER BY u.platform_user_id = %(login)s DESC
        LIMIT 1
        """,
        {"login": login},
    ).fetchone()


def upsert_password(conn: Conn, *, user_id: str, password_hash: str) -> None:
    conn.execute(
        """
        INSERT INTO user_credentials (user_id, password_hash)
        VALUES (%(user_id)s, %(password_hash)s)
        ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash,
                                            updated_at = now()
        """,
        {"user_id": user_id, "password_hash": password_hash},
    )


def update_password(conn: Conn, *, user_id: str, password_hash: str) -> None:
    conn.execute(
        """
        UPDATE user_credentials SET password_hash = %(password_hash)s, updated_at = now()
        WHERE user_id = %(user_id)s
        """,
        {"user_id": user_id, "password_hash": password_hash},
    )


def insert_activation(conn: Conn, *, digest: str, user_id: str, expires_at: datetime) -> None:
    conn.execute(
        """
        INSERT INTO activation_links (token_digest, user_id, expires_at)
        VALUES (%(digest)s, %(user_id)s, %(expires_at)s)
        """,
        {"digest": digest, "user_id": user_id, "expires_at": expires_at},
    )


def find_activation(conn: Conn, digest: str, *, lock: bool = False) -> Row | None:
    query = """
        SELECT a.id, a.user_id, a.expires_at, a.used_at, u.platform_user_id
        FROM activation_links a JOIN users u ON u.id = a.user_id
        WHERE a.token_digest = %(digest)s
        """
    # FOR UPDATE OF a: two submissions of one link take turns, the second sees it used
    return conn.execute(query + (" FOR UPDATE OF a" if lock else ""), {"digest": digest}).fetchone()


def update_activation_used(conn: Conn, *, activation_id: int) -> None:
    conn.execute(
        "UPDATE activation_links SET used_at = now() WHERE id = %(id)s", {"id": activation_id}
    )
