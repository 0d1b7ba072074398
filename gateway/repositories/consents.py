"""Consent history per user and skill: grants add rows, revocations close them."""

from datetime import datetime

from gateway.models import Conn, Row
from gateway.repositories.protected_groups import SENSITIVE_CATEGORY_COVERED

# Rule 2, consent at the time: a consent for this user and this skill that was granted before
# the interaction happened and has not been revoked since (revoking closes the row, so an
# open row granted earlier is exactly that). No consent row means no read: the default.
# A sensitive interaction also needs that consent to cover its category (rule 6).
# (only module constants are formatted in: no value ever reaches this text)
CONSENTED_AT_THE_TIME = f"""EXISTS (  -- consent at the time
      SELECT 1 FROM consents c
      WHERE c.user_id = i.user_id
        AND c.skill_id = i.skill_id
        AND c.revoked_at IS NULL
        AND c.granted_at <= i.occurred_at
        AND {SENSITIVE_CATEGORY_COVERED})"""  # noqa: S608


def insert_consent(
    conn: Conn,
    *,
    user_id: str,
    skill_id: str,
    categories: list[str] | None = None,
    granted_at: datetime | None = None,
) -> int:
    row = conn.execute(
        """
        INSERT INTO consents (user_id, skill_id, categories, granted_at)
        VALUES (%(user_id)s, %(skill_id)s, %(categories)s, coalesce(%(granted_at)s, now()))
        RETURNING id
        """,
        {
            "user_id": user_id,
            "skill_id": skill_id,
            "categories": categories or [],
            "granted_at": granted_at,
        },
    ).fetchone()
    assert row is not None
    return int(row["id"])


def update_revoked(
    conn: Conn, *, user_id: str, skill_id: str, revoked_at: datetime | None = None
) -> bool:
    """Close the active consent; return whether there was one."""
    row = conn.execute(
        """
        UPDATE consents SET revoked_at = coalesce(%(revoked_at)s, now())
        WHERE user_id = %(user_id)s AND skill_id = %(skill_id)s AND revoked_at IS NULL
        RETURNING id
        """,
        {"user_id": user_id, "skill_id": skill_id, "revoked_at": revoked_at},
    ).fetchone()
    return row is not None


def list_skills_in_use(conn: Conn, *, user_id: str) -> list[Row]:
    """The skills the user has interactions with or a consent for (ever), with their
    developer, by skill name."""
    return conn.execute(
        """
        SELECT s.id AS skill_id, s.name AS skill_name, s.category, d.id AS developer_id,
               d.name AS developer_name
        FROM skills s JOIN developers d ON d.id = s.developer_id
        WHERE s.id IN (SELECT c.skill_id FROM consents c WHERE c.user_id = %(user_id)s
                       UNION
                       SELECT i.skill_id FROM interactions i WHERE i.user_id = %(user_id)s)
        ORDER BY s.name, s.id
        """,
        {"user_id": user_id},
    ).fetchall()


def list_history(conn: Conn, *, user_id: str, skill_ids: list[str]) -> list[Row]:
    """The user's consent periods for these skills, newest first per skill."""
    return conn.execute(
        """
        SELECT skill_id, categories, granted_at, revoked_at FROM consents
        WHERE user_id = %(user_id)s AND skill_id = ANY(%(skill_ids)s::uuid[])
        ORDER BY skill_id, granted_at DESC, id DESC
        """,
        {"user_id": user_id, "skill_ids": skill_ids},
    ).fetchall()


def find_open(conn: Conn, *, user_id: str, skill_id: str) -> Row | None:
    """The user's open consent for the skill, if any."""
    return conn.execute(
        """
        SELECT id, categories, granted_at FROM consents
        WHERE user_id = %(user_id)s AND skill_id = %(skill_id)s AND revoked_at IS NULL
        """,
        {"user_id": user_id, "skill_id": skill_id},
    ).fetchone()


def find_skill_developer(conn: Conn, *, skill_id: str) -> int | None:
    """The developer of the skill, or None when there is no such skill."""
    row = conn.execute(
        "SELECT developer_id FROM skills WHERE id = %(skill_id)s", {"skill_id": skill_id}
    ).fetchone()
    return None if row is None else int(row["developer_id"])
