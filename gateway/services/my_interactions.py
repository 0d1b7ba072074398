"""What I said: a user's own interactions, unredacted (they are the user's own words), newest
first, with how often developers read each one. Never audio (rule 4)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.models import Conn
from gateway.repositories import my_interactions as my_interactions_repo

MAX_PAGE = 200


@dataclass(frozen=True)
class InteractionPage:
    items: list[dict[str, Any]]
    # keyset of the last item when more may follow; the view turns it into a signed cursor
    next_after: tuple[datetime, str] | None


def list_my_interactions(
    conn: Conn,
    *,
    user_id: str,
    skill_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int = 50,
) -> InteractionPage:
    """One page of at most `limit` of the user's interactions in [since, until)."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = my_interactions_repo.list_for_user(
        conn,
        user_id=user_id,
        skill_id=skill_id,
        since=since,
        until=until,
        after=after,
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        {
            "id": str(row["id"]),
            "occurred_at": row["occurred_at"],
            "skill": {"id": str(row["skill_id"]), "name": row["skill_name"]},
            "utterance": row["utterance"],
            "response": row["response"],
            "intent": row["intent"],
            "outcome": row["outcome"],
            "sensitive_category": row["sensitive_category"],
            "developer_reads": int(row["reads"]),
        }
        for row in rows
    ]
    last = rows[-1] if more and rows else None
    next_after = (last["occurred_at"], str(last["id"])) if last else None
    return InteractionPage(items=items, next_after=next_after)


def count_my_interactions(
    conn: Conn, *, user_id: str, since: datetime | None = None, until: datetime | None = None
) -> int:
    """How many of the user's interactions lie in [since, until) (what a deletion would take)."""
    return my_interactions_repo.count_for_user(conn, user_id=user_id, since=since, until=until)
