"""A user's own interactions, as they said them: the user's side of the interactions table."""

from datetime import datetime

from gateway.models import Conn, Row

# Row-level security shows a user token its own interactions only (policy interactions_access,
# user_id = gateway_user_id()); the query names the user as well. Audio references live in the
# vault and device serials in a column the app role cannot read: neither can appear here.
_PAGE = """
WITH page AS (
    SELECT i.id, i.occurred_at, i.skill_id, s.name AS skill_name, i.utterance, i.response,
           i.intent, i.outcome, i.sensitive_category
    FROM interactions i
    JOIN skills s ON s.id = i.skill_id
    WHERE i.user_id = %(user_id)s
      AND (%(skill_id)s::uuid IS NULL OR i.skill_id = %(skill_id)s::uuid)
      AND (%(since)s::timestamptz IS NULL OR i.occurred_at >= %(since)s)
      AND (%(until)s::timestamptz IS NULL OR i.occurred_at < %(until)s)
      AND (%(after_time)s::timestamptz IS NULL
           OR (i.occurred_at, i.id) < (%(after_time)s, %(after_id)s::uuid))
    ORDER BY i.occurred_at DESC, i.id DESC
    LIMIT %(limit)s
),
-- how often a developer read each one: the user's own access log, for this page's ids
reads AS (
    SELECT a.interaction_id, count(*) AS reads
    FROM access_log a
    WHERE a.user_id = %(user_id)s AND a.interaction_id IN (SELECT id FROM page)
    GROUP BY a.interaction_id
)
SELECT page.*, coalesce(reads.reads, 0) AS reads
FROM page LEFT JOIN reads ON reads.interaction_id = page.id
ORDER BY page.occurred_at DESC, page.id DESC
"""


def list_for_user(
    conn: Conn,
    *,
    user_id: str,
    skill_id: str | None,
    since: datetime | None,
    until: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Row]:
    """The user's interactions in [since, until), of one skill when `skill_id` is given,
    newest first, strictly after keyset `after`, each with how many developer reads it had."""
    return conn.execute(
        _PAGE,
        {
            "user_id": user_id,
            "skill_id": skill_id,
            "since": since,
            "until": until,
            "after_time": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit,
        },
    ).fetchall()


def count_for_user(
    conn: Conn, *, user_id: str, since: datetime | None, until: datetime | None
) -> int:
    """How many of the user's interactions lie in [since, until)."""
    row = conn.execute(
        """
        SELECT count(*) AS n FROM interactions
        WHERE user_id = %(user_id)s
          AND (%(since)s::timestamptz IS NULL OR occurred_at >= %(since)s)
          AND (%(until)s::timestamptz IS NULL OR occurred_at < %(until)s)
        """,
        {"user_id": user_id, "since": since, "until": until},
    ).fetchone()
    return int(row["n"]) if row else 0
