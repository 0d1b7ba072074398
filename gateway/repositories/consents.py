"""Consent history per user and skill: grants add rows, revocations close them."""

from datetime import datetime

from gateway.models import Conn
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
