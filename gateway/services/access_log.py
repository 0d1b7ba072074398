"""Rule 7, audit of reads: every interaction a developer is shown is logged in the same
transaction that reads it, so a read that commits is a read that was recorded."""

from gateway.models import Conn, Developer, Row
from gateway.repositories import access_log as access_log_repo


def log_reads(
    conn: Conn,
    rows: list[Row],
    *,
    developer: Developer,
    client_id: str,
    skill_id: str,
    endpoint: str,
) -> None:
    """Record one access-log row per interaction in `rows`, read by `client_id` (rule 7)."""
    access_log_repo.insert_reads(
        conn,
        developer_id=developer.id,
        client_id=client_id,
        skill_id=skill_id,
        endpoint=endpoint,
        reads=[(str(row["id"]), str(row["user_id"])) for row in rows],
    )
