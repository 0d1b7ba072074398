"""Tier requests: what a developer asked for, and the admin's decision."""

import psycopg

from gateway.exceptions import Conflict
from gateway.models import Conn, Row


def insert_request(
    conn: Conn,
    *,
    developer_id: int,
    tier: str,
    purpose: str,
    accepted_terms: bool,
    terms_version: str,
) -> Row:
    """File a pending request; raise `Conflict` while the developer has another pending."""
    try:
        row = conn.execute(
            """
            INSERT INTO tier_requests (developer_id, tier, purpose, accepted_terms, terms_version)
            VALUES (%(developer_id)s, %(tier)s, %(purpose)s, %(accepted_terms)s,
                    %(terms_version)s)
            RETURNING id, developer_id, tier, purpose, terms_version, requested_at, status,
                      decided_at, decided_by, decision_reason, grant_id
            """,
            {
                "developer_id": developer_id,
                "tier": tier,
                "purpose": purpose,
                "accepted_terms": accepted_terms,
                "terms_version": terms_version,
            },
        ).fetchone()
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict(
            "You have a pending tier request already; wait for its decision.",
            details={"tier": ["One pending request at a time."]},
        ) from exc
    assert row is not None
    return row


def list_requests(
    conn: Conn,
    *,
    status: str | None = None,
    developer_id: int | None = None,
    after: int | None = None,
    limit: int | None = None,
) -> list[Row]:
    """Requests by id (oldest first), optionally of one status or developer, after id `after`."""
    return conn.execute(
        """
        SELECT id, developer_id, tier, purpose, terms_version, requested_at, status, decided_at,
               decided_by, decision_reason, grant_id
        FROM tier_requests
        WHERE (%(status)s::text IS NULL OR status = %(status)s)
          AND (%(developer_id)s::bigint IS NULL OR developer_id = %(developer_id)s)
          AND (%(after)s::bigint IS NULL OR id > %(after)s)
        ORDER BY id
        LIMIT %(limit)s
        """,
        {"status": status, "developer_id": developer_id, "after": after, "limit": limit},
    ).fetchall()


def find_request_for_update(conn: Conn, request_id: int) -> Row | None:
    """The request, locked until the transaction ends (two admins deciding at once: one waits,
    then sees it decided); None when there is none."""
    return conn.execute(
        """
        SELECT id, developer_id, tier, purpose, terms_version, requested_at, status, decided_at,
               decided_by, decision_reason, grant_id
        FROM tier_requests WHERE id = %(id)s FOR UPDATE
        """,
        {"id": request_id},
    ).fetchone()


def record_decision(
    conn: Conn,
    request_id: int,
    *,
    status: str,
    decided_by: str,
    reason: str | None,
    grant_id: int | None,
) -> Row:
    """Decide a pending request (the database stamps decided_at and refuses a second decision)."""
    row = conn.execute(
        """
        UPDATE tier_requests
        SET status = %(status)s, decided_by = %(decided_by)s, decision_reason = %(reason)s,
            grant_id = %(grant_id)s
        WHERE id = %(id)s
        RETURNING id, developer_id, tier, purpose, terms_version, requested_at, status,
                  decided_at, decided_by, decision_reason, grant_id
        """,
        {
            "id": request_id,
            "status": status,
            "decided_by": decided_by,
            "reason": reason,
            "grant_id": grant_id,
        },
    ).fetchone()
    assert row is not None
    return row
