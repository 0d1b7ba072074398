"""Deletions of a user's interactions (through the one narrow path) and their receipts."""

from datetime import datetime

import psycopg

from gateway.exceptions import Forbidden, InvalidInput
from gateway.models import Conn, Row

_RECEIPT_COLUMNS = "id, user_id, since, until, interactions, actor_kind, actor_id, requested_at"


def delete_interactions(
    conn: Conn, *, user_id: str, since: datetime | None, until: datetime | None
) -> Row:
    """Run gateway_delete_interactions (migration 0010) for the bound caller.

    Returns deletion_id, requested_at, deleted (a count) and readers (per developer that had
    read any of them: developer_id, interaction_ids, pseudonyms). Raises `Forbidden` when the
    database does not accept the caller for this user, `InvalidInput` for an empty range.
    """
    try:
        row = conn.execute(
            """
            SELECT deletion_id, requested_at, deleted, readers
            FROM gateway_delete_interactions(%(user_id)s, %(since)s, %(until)s)
            """,
            {"user_id": user_id, "since": since, "until": until},
        ).fetchone()
    except psycopg.errors.InsufficientPrivilege as exc:
        raise Forbidden() from exc
    except psycopg.errors.InvalidParameterValue as exc:
        raise InvalidInput(details={"until": ["Must be later than since."]}) from exc
    assert row is not None
    return row


def find_receipt(conn: Conn, *, deletion_id: str) -> Row | None:
    """The receipt, if the caller may see it (row-level security: a user sees their own)."""
    return conn.execute(
        f"SELECT {_RECEIPT_COLUMNS} FROM deletion_receipts WHERE id = %(id)s",  # noqa: S608
        {"id": deletion_id},
    ).fetchone()


def list_receipts(conn: Conn, *, user_id: str) -> list[Row]:
    """The user's receipts, newest first."""
    return conn.execute(
        f"""
        SELECT {_RECEIPT_COLUMNS} FROM deletion_receipts
        WHERE user_id = %(user_id)s ORDER BY requested_at DESC, id
        """,  # noqa: S608
        {"user_id": user_id},
    ).fetchall()
