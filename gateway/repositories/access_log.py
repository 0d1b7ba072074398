"""The access log: one row for every interaction a developer read (rule 7)."""

from datetime import datetime

from gateway.models import Conn, Row


def insert_reads(
    conn: Conn,
    *,
    developer_id: int,
    client_id: str,
    skill_id: str,
    endpoint: str,
    reads: list[tuple[str, str]],
) -> None:
    """Record that the developer read each (interaction id, user id) in `reads`."""
    if not reads:
        return
    conn.execute(
        """
        INSERT INTO access_log (developer_id, client_id, skill_id, interaction_id, user_id,
                                endpoint)
        SELECT %(developer_id)s, %(client_id)s, %(skill_id)s, r.interaction_id, r.user_id,
               %(endpoint)s
        FROM unnest(%(interaction_ids)s::uuid[], %(user_ids)s::uuid[])
             AS r (interaction_id, user_id)
        """,
        {
            "developer_id": developer_id,
            "client_id": client_id,
            "skill_id": skill_id,
            "endpoint": endpoint,
            "interaction_ids": [i for i, _ in reads],
            "user_ids": [u for _, u in reads],
        },
    )


def list_for_user(
    conn: Conn, *, user_id: str, after: tuple[datetime, int] | None, limit: int
) -> list[Row]:
    """The reads of the user's interactions, newest first, strictly after keyset `after`:
    who (developer, skill, client), when, and which interaction by id, time and intent (NULL
    once deleted). Never text."""
    return conn.execute(
        """
        SELECT a.id, a.read_at, a.client_id, a.endpoint, a.interaction_id,
               a.developer_id, d.name AS developer_name, a.skill_id, s.name AS skill_name,
               i.occurred_at, i.intent
        FROM access_log a
        JOIN developers d ON d.id = a.developer_id
        JOIN skills s ON s.id = a.skill_id
        LEFT JOIN interactions i ON i.id = a.interaction_id AND i.user_id = a.user_id
        WHERE a.user_id = %(user_id)s
          AND (%(after_time)s::timestamptz IS NULL
               OR (a.read_at, a.id) < (%(after_time)s, %(after_id)s::bigint))
        ORDER BY a.read_at DESC, a.id DESC
        LIMIT %(limit)s
        """,
        {
            "user_id": user_id,
            "after_time": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit,
        },
    ).fetchall()
