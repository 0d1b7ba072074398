"""Pseudonyms a developer has been shown, so a pseudonym given back as a filter resolves."""

from gateway.models import Conn


def insert_pseudonyms(conn: Conn, *, developer_id: int, pairs: list[tuple[str, str]]) -> None:
    """Remember (pseudonym, user id) pairs for the developer; known pairs are left alone."""
    if not pairs:
        return
    conn.execute(
        """
        INSERT INTO user_pseudonyms (developer_id, pseudonym, user_id)
        SELECT %(developer_id)s, p.pseudonym, p.user_id
        FROM unnest(%(pseudonyms)s::text[], %(user_ids)s::uuid[]) AS p (pseudonym, user_id)
        ON CONFLICT DO NOTHING
        """,
        {
            "developer_id": developer_id,
            "pseudonyms": [p for p, _ in pairs],
            "user_ids": [u for _, u in pairs],
        },
    )


def find_user_id(conn: Conn, *, developer_id: int, pseudonym: str) -> str | None:
    row = conn.execute(
        """
        SELECT user_id FROM user_pseudonyms
        WHERE developer_id = %(developer_id)s AND pseudonym = %(pseudonym)s
        """,
        {"developer_id": developer_id, "pseudonym": pseudonym},
    ).fetchone()
    return None if row is None else str(row["user_id"])
