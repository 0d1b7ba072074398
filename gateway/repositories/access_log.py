"""The access log: one row for every interaction a developer read (rule 7)."""

from gateway.models import Conn


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
