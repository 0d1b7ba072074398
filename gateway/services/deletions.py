"""Rule 8, deletion is real: a user's interactions, and every copy of their text the gateway
holds, are gone when the call returns; each developer that read any of them is sent a signed
notice to purge its copies, tracked until acknowledged.

The deleting itself is one database function, gateway_delete_interactions (migration 0010),
the only way interactions leave: the app role has no DELETE. It checks the proven caller and
writes the receipt and the audit event; this module queues the notices in the same transaction
(the webhook outbox) and reports how they went.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.exceptions import InvalidInput, NotFound
from gateway.models import Conn, Row
from gateway.repositories import deletions as deletions_repo
from gateway.repositories import webhooks as webhooks_repo
from gateway.services import audit, webhooks

# The most interaction ids one notice carries; a larger deletion sends several notices.
IDS_PER_NOTICE = 1000


@dataclass(frozen=True)
class Receipt:
    id: str
    since: datetime | None
    until: datetime | None
    interactions: int
    requested_at: datetime
    # developers notified (those that had read any of the deleted interactions)
    developers: int
    # who asked, as the receipt shows it: "you", "platform" or "operator"
    requested_by: str


def _pseudonym(reader: dict[str, Any]) -> str:
    # the pseudonym the developer was shown (stored by the read path beside its access-log
    # rows); after a key rotation, the one made with the newest key
    known: list[str] = sorted(reader["pseudonyms"])
    return known[-1] if known else ""


def delete_interactions(
    conn: Conn,
    *,
    actor: audit.Actor,
    user_id: str,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime,
) -> Receipt:
    """Delete the user's interactions in [since, until) (no range: all of them); the receipt.

    Enforces rule 8: the interactions, their redacted forms and search vectors, audio
    references, the ingest ledger's digests of their content and the session pseudonyms left
    pointing at nothing are gone when the caller's transaction commits. Every developer that
    had read any of them (access log) gets an `interactions.deleted` notice in the same
    transaction: its pseudonym for the user and the ids it read. Audited as
    `deletion.completed` by the caller (rule 7); the database checks that `actor`'s binding
    may delete this user's data (`Forbidden` otherwise). Raises `InvalidInput` when since is
    not before until. `now` is the caller's clock, unused by the database (which records its
    own transaction time).
    """
    del now  # the database records its own transaction time
    if since is not None and until is not None and since >= until:
        raise InvalidInput(details={"until": ["Must be later than since."]})
    row = deletions_repo.delete_interactions(conn, user_id=user_id, since=since, until=until)
    deletion_id = str(row["deletion_id"])
    for reader in row["readers"]:
        ids = sorted(reader["interaction_ids"])
        pseudonym = _pseudonym(reader)
        for start in range(0, len(ids), IDS_PER_NOTICE):
            webhooks.queue_notice(
                conn,
                developer_id=int(reader["developer_id"]),
                event_type="interactions.deleted",
                data={
                    "user": pseudonym,
                    "interaction_ids": ids[start : start + IDS_PER_NOTICE],
                    "deletion_id": deletion_id,
                },
                user_id=user_id,
                deletion_id=deletion_id,
            )
    return Receipt(
        deletion_id,
        since,
        until,
        int(row["deleted"]),
        row["requested_at"],
        len(row["readers"]),
        _REQUESTED_BY[actor.kind],
    )


def _status(notices: list[Row]) -> str:
    states = {notice["status"] for notice in notices}
    if states == {"delivered"}:
        return "acknowledged"
    if "dead" in states:
        return "failed"
    return "pending"


def deletion_status(conn: Conn, *, user_id: str, deletion_id: str) -> dict[str, Any]:
    """The receipt and its propagation: for each developer that had read any of the deleted
    interactions, whether its notice was delivered and acknowledged (a 2xx), is still being
    retried, or failed for good.

    Raises `NotFound` for a receipt that is not the user's, exactly as for one that does not
    exist (row-level security shows a user their own receipts only).
    """
    receipt = deletions_repo.find_receipt(conn, deletion_id=deletion_id)
    if receipt is None or str(receipt["user_id"]) != str(user_id):
        raise NotFound()
    by_developer: dict[int, list[Row]] = {}
    names: dict[int, str] = {}
    for notice in webhooks_repo.list_for_deletion(conn, deletion_id=deletion_id):
        by_developer.setdefault(int(notice["developer_id"]), []).append(notice)
        names[int(notice["developer_id"])] = notice["developer_name"]
    developers = []
    for developer_id, notices in sorted(by_developer.items(), key=lambda kv: names[kv[0]]):
        delivered = [n["delivered_at"] for n in notices if n["status"] == "delivered"]
        status = _status(notices)
        developers.append(
            {
                "developer": {"id": developer_id, "name": names[developer_id]},
                "status": status,
                "delivered": status == "acknowledged",
                "acknowledged_at": max(delivered) if status == "acknowledged" else None,
                "notices": len(notices),
                "attempts": sum(int(n["attempts"]) for n in notices),
            }
        )
    return {**_receipt(receipt), "developers": developers}


# the audit actor's kind, as a receipt names who asked
_REQUESTED_BY = {"user": "you", "client": "platform", "system": "operator", "cli": "operator"}


def _receipt(row: Row) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "since": row["since"],
        "until": row["until"],
        "interactions": int(row["interactions"]),
        "requested_at": row["requested_at"],
        "requested_by": _REQUESTED_BY[row["actor_kind"]],
    }


def list_deletions(conn: Conn, *, user_id: str) -> list[dict[str, Any]]:
    """The user's deletion receipts, newest first."""
    return [_receipt(row) for row in deletions_repo.list_receipts(conn, user_id=user_id)]
