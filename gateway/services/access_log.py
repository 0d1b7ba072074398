"""Rule 7, audit of reads: every interaction a developer is shown is logged in the same
transaction that reads it, so a read that commits is a read that was recorded."""

from gateway.models import Conn, Developer, Row
from gateway.repositories import access_log as access_log_repo
from gateway.services import audit


def log_reads(
    conn: Conn,
    rows: list[Row],
    *,
    developer: Developer,
    client_id: str,
    skill_id: str,
    endpoint: str,
) -> None:
    """Record one access-log row per interaction in `rows`, read by `client_id`, and one audit
    event for the whole read: the endpoint and how many interactions (rule 7).

    A read that returned nothing read no transcript data and records nothing.
    """
    if not rows:
        return
    # no result is read back: on the read routes, which run pipelined (gateway.db._pipeline),
    # both writes travel with the COMMIT in the transaction's last round trip
    access_log_repo.insert_reads(
        conn,
        developer_id=developer.id,
        client_id=client_id,
        skill_id=skill_id,
        endpoint=endpoint,
        reads=[(str(row["id"]), str(row["user_id"])) for row in rows],
    )
    audit.record(
        conn,
        actor=audit.Actor.client(client_id),
        action="transcripts.read",
        developer_id=developer.id,
        skill_id=skill_id,
        details={"endpoint": endpoint, "interactions": len(rows)},
    )
