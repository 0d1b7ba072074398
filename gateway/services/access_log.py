"""Rule 7, audit of reads: every interaction a developer is shown is logged in the same
transaction that reads it, so a read that commits is a read that was recorded."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
    # both writes in one round trip: the audit row costs the read path its execution only
    with conn.pipeline():
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


# --- the user's side: every read of my data, shown to me (rule 7)

MAX_PAGE = 200


@dataclass(frozen=True)
class ReadPage:
    items: list[dict[str, Any]]
    # keyset of the last item when more may follow; the view turns it into a signed cursor
    next_after: tuple[datetime, int] | None


def list_my_reads(
    conn: Conn, *, user_id: str, after: tuple[datetime, int] | None = None, limit: int = 50
) -> ReadPage:
    """Every read of the user's interactions, newest first, one page of at most `limit`:
    which skill's developer read it, with which client, when, and which interaction (its time
    and intent, or that it has since been deleted). Never text. Row-level security shows a
    user their own reads only; this asks for them by id as well."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = access_log_repo.list_for_user(conn, user_id=user_id, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        {
            "read_at": row["read_at"],
            "developer": {"id": int(row["developer_id"]), "name": row["developer_name"]},
            "skill": {"id": str(row["skill_id"]), "name": row["skill_name"]},
            "client_id": row["client_id"],
            "endpoint": row["endpoint"],
            "interaction": {
                "id": str(row["interaction_id"]),
                "occurred_at": row["occurred_at"],
                "intent": row["intent"],
                "deleted": row["occurred_at"] is None,
            },
        }
        for row in rows
    ]
    next_after = (rows[-1]["read_at"], int(rows[-1]["id"])) if more and rows else None
    return ReadPage(items, next_after)
