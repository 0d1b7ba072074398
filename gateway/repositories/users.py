"""Platform users: an opaque platform id, a child-profile flag, and their own profile fields."""

from typing import Any

from gateway.models import Conn, Row


def upsert_user(conn: Conn, *, platform_user_id: str, is_child: bool | None = None) -> str:
    """Insert or update the user; return its gateway id.

    `is_child=None` leaves the flag as it is (false for a new user): a user re-sent without
    the flag never turns from a child profile into an adult one (rule 6).
    """
    row = conn.execute(
        """
        INSERT INTO users (platform_user_id, is_child)
        VALUES (%(platform_user_id)s, coalesce(%(is_child)s, false))
        ON CONFLICT (platform_user_id)
        DO UPDATE SET is_child = coalesce(%(is_child)s, users.is_child)
        RETURNING id
        """,
        {"platform_user_id": platform_user_id, "is_child": is_child},
    ).fetchone()
    assert row is not None
    return str(row["id"])


def upsert_users(conn: Conn, users: list[dict[str, Any]]) -> list[Row]:
    """Insert or update a batch of users with their profiles, in input order.

    Each item carries platform_user_id, is_child, locale, email and display_name; None
    leaves a field as it is (a new user: not a child, no profile fields).
    Returns (platform_user_id, id, created) per item.
    """
    rows = conn.execute(
        """
        WITH input AS (
            SELECT * FROM unnest(%(ids)s::text[], %(children)s::boolean[], %(locales)s::text[],
                                 %(emails)s::text[], %(names)s::text[])
                   WITH ORDINALITY AS u (platform_user_id, is_child, locale, email,
                                         display_name, position)
        ), written AS (
            INSERT INTO users (platform_user_id, is_child)
            SELECT platform_user_id, coalesce(is_child, false) FROM input
            ON CONFLICT (platform_user_id)
            DO UPDATE SET is_child = coalesce(
                (SELECT i.is_child FROM input i
                 WHERE i.platform_user_id = EXCLUDED.platform_user_id), users.is_child)
            RETURNING id, platform_user_id, (xmax = 0) AS created
        ), profiles AS (
            INSERT INTO user_profiles (user_id, locale, email, display_name)
            SELECT w.id, i.locale, i.email, i.display_name
            FROM written w JOIN input i USING (platform_user_id)
            ON CONFLICT (user_id) DO UPDATE SET
                locale = coalesce(EXCLUDED.locale, user_profiles.locale),
                email = coalesce(EXCLUDED.email, user_profiles.email),
                display_name = coalesce(EXCLUDED.display_name, user_profiles.display_name),
                updated_at = now()
        )
        SELECT w.platform_user_id, w.id, w.created
        FROM written w JOIN input i USING (platform_user_id)
        ORDER BY i.position
        """,
        {
            "ids": [u["platform_user_id"] for u in users],
            "children": [u.get("is_child") for u in users],
            "locales": [u.get("locale") for u in users],
            "emails": [u.get("email") for u in users],
            "names": [u.get("display_name") for u in users],
        },
    ).fetchall()
    return rows


def find_user_ids(conn: Conn, platform_user_ids: list[str]) -> dict[str, str]:
    """Map the platform user ids the gateway knows to gateway ids."""
    rows = conn.execute(
        "SELECT platform_user_id, id FROM users WHERE platform_user_id = ANY(%(ids)s)",
        {"ids": platform_user_ids},
    ).fetchall()
    return {row["platform_user_id"]: str(row["id"]) for row in rows}
