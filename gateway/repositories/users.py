"""Platform users, known to the gateway by an opaque id and a child-profile flag."""

from gateway.models import Conn


def upsert_user(conn: Conn, *, platform_user_id: str, is_child: bool = False) -> str:
    """Insert or update the user; return its gateway id."""
    row = conn.execute(
        """
        INSERT INTO users (platform_user_id, is_child)
        VALUES (%(platform_user_id)s, %(is_child)s)
        ON CONFLICT (platform_user_id) DO UPDATE SET is_child = EXCLUDED.is_child
        RETURNING id
        """,
        {"platform_user_id": platform_user_id, "is_child": is_child},
    ).fetchone()
    assert row is not None
    return str(row["id"])
