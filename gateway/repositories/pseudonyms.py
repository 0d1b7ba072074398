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


def insert_session_pseudonyms(
    conn: Conn, *, developer_id: int, entries: list[tuple[str, str, str]]
) -> None:
    """Remember (pseudonym, skill id, session id) triples shown to the developer."""
    if not entries:
        return
    conn.execute(
        """
        INSERT INTO session_pseudonyms (developer_id, pseudonym, skill_id, session_id)
        SELECT %(developer_id)s, e.pseudonym, e.skill_id, e.session_id
        FROM unnest(%(pseudonyms)s::text[], %(skill_ids)s::uuid[], %(session_ids)s::text[])
             AS e (pseudonym, skill_id, session_id)
        ON CONFLICT DO NOTHING
        """,
        {
            "developer_id": developer_id,
            "pseudonyms": [e[0] for e in entries],
            "skill_ids": [e[1] for e in entries],
            "session_ids": [e[2] for e in entries],
        },
    )


def find_session_id(conn: Conn, *, developer_id: int, skill_id: str, pseudonym: str) -> str | None:
    """The session behind a pseudonym this developer was shown for this skill, else None."""
    row = conn.execute(
        """
        SELECT session_id FROM session_pseudonyms
        WHERE developer_id = %(developer_id)s AND pseudonym = %(pseudonym)s
          AND skill_id = %(skill_id)s
        """,
        {"developer_id": developer_id, "pseudonym": pseudonym, "skill_id": skill_id},
    ).fetchone()
    return None if row is None else str(row["session_id"])
