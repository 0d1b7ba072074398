"""Developers' webhook endpoints and the outbox of notices to deliver to them."""

from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from gateway.models import Conn, Row


def find_webhook(conn: Conn, *, developer_id: int) -> Row | None:
    return conn.execute(
        """
        SELECT developer_id, url, secret_ciphertext, previous_secret_ciphertext,
               previous_secret_expires_at, created_at, updated_at
        FROM developer_webhooks WHERE developer_id = %(developer_id)s
        """,
        {"developer_id": developer_id},
    ).fetchone()


def insert_webhook(conn: Conn, *, developer_id: int, url: str, secret_ciphertext: bytes) -> None:
    conn.execute(
        """
        INSERT INTO developer_webhooks (developer_id, url, secret_ciphertext)
        VALUES (%(developer_id)s, %(url)s, %(secret)s)
        """,
        {"developer_id": developer_id, "url": url, "secret": secret_ciphertext},
    )


def update_url(conn: Conn, *, developer_id: int, url: str) -> None:
    conn.execute(
        """
        UPDATE developer_webhooks SET url = %(url)s, updated_at = now()
        WHERE developer_id = %(developer_id)s
        """,
        {"developer_id": developer_id, "url": url},
    )


def update_secret(
    conn: Conn,
    *,
    developer_id: int,
    secret_ciphertext: bytes,
    previous_ciphertext: bytes,
    previous_expires_at: datetime,
) -> None:
    conn.execute(
        """
        UPDATE developer_webhooks
        SET secret_ciphertext = %(secret)s, previous_secret_ciphertext = %(previous)s,
            previous_secret_expires_at = %(expires)s, updated_at = now()
        WHERE developer_id = %(developer_id)s
        """,
        {
            "developer_id": developer_id,
            "secret": secret_ciphertext,
            "previous": previous_ciphertext,
            "expires": previous_expires_at,
        },
    )


def insert_delivery(
    conn: Conn,
    *,
    delivery_id: str,
    developer_id: int,
    event_type: str,
    payload: dict[str, Any],
    user_id: str | None,
    deletion_id: str | None,
) -> None:
    conn.execute(
        """
        INSERT INTO webhook_deliveries (id, developer_id, event_type, payload, user_id,
                                        deletion_id)
        VALUES (%(id)s, %(developer_id)s, %(event_type)s, %(payload)s, %(user_id)s,
                %(deletion_id)s)
        """,
        {
            "id": delivery_id,
            "developer_id": developer_id,
            "event_type": event_type,
            "payload": Jsonb(payload),
            "user_id": user_id,
            "deletion_id": deletion_id,
        },
    )
    # wakes a waiting worker when the transaction commits (nothing is sent if it rolls back)
    conn.execute("NOTIFY gateway_webhook_notices")  # the channel of listen_for_notices


def listen_for_notices(conn: psycopg.Connection[Any]) -> None:
    """Have `conn` told of every notice queued from now on (on its commit)."""
    conn.execute("LISTEN gateway_webhook_notices")


def claim_due(conn: Conn, *, now: datetime, lease_until: datetime, limit: int) -> list[Row]:
    """Take up to `limit` due notices for one attempt each, counting the attempt now.

    The lease (next_attempt_at moved to `lease_until`) makes a notice whose worker died
    mid-attempt due again later, with the same id; SKIP LOCKED lets several workers share the
    queue without waiting on each other.
    """
    return conn.execute(
        """
        UPDATE webhook_deliveries d
        SET attempts = d.attempts + 1, next_attempt_at = %(lease_until)s
        FROM (SELECT id FROM webhook_deliveries
              WHERE status = 'pending' AND next_attempt_at <= %(now)s
              ORDER BY next_attempt_at, id
              LIMIT %(limit)s
              FOR UPDATE SKIP LOCKED) due
        WHERE d.id = due.id
        RETURNING d.id, d.developer_id, d.event_type, d.payload, d.created_at, d.attempts
        """,
        {"now": now, "lease_until": lease_until, "limit": limit},
    ).fetchall()


def mark_delivered(conn: Conn, *, delivery_id: str, status: int, now: datetime) -> None:
    conn.execute(
        """
        UPDATE webhook_deliveries
        SET status = 'delivered', delivered_at = %(now)s, last_status = %(status)s,
            last_error = NULL
        WHERE id = %(id)s AND status = 'pending'
        """,
        {"id": delivery_id, "status": status, "now": now},
    )


def mark_failed(
    conn: Conn,
    *,
    delivery_id: str,
    status: int | None,
    error: str | None,
    retry_at: datetime | None,
) -> None:
    """Record a failed attempt: due again at `retry_at`, or dead-lettered when it is None."""
    conn.execute(
        """
        UPDATE webhook_deliveries
        SET status = CASE WHEN %(retry_at)s::timestamptz IS NULL THEN 'dead' ELSE 'pending' END,
            next_attempt_at = coalesce(%(retry_at)s, next_attempt_at),
            last_status = %(status)s, last_error = left(%(error)s, 500)
        WHERE id = %(id)s AND status = 'pending'
        """,
        {"id": delivery_id, "status": status, "error": error, "retry_at": retry_at},
    )


def count_by_status(conn: Conn, *, developer_id: int | None = None) -> dict[str, int]:
    rows = conn.execute(
        """
        SELECT status, count(*) AS n FROM webhook_deliveries
        WHERE %(developer_id)s::bigint IS NULL OR developer_id = %(developer_id)s
        GROUP BY status
        """,
        {"developer_id": developer_id},
    ).fetchall()
    counts = {"pending": 0, "delivered": 0, "dead": 0}
    counts.update({row["status"]: int(row["n"]) for row in rows})
    return counts


def list_for_deletion(conn: Conn, *, deletion_id: str) -> list[Row]:
    """The notices a deletion queued, with their state (for the user's receipt)."""
    return conn.execute(
        """
        SELECT d.id, d.developer_id, v.name AS developer_name, d.status, d.attempts,
               d.delivered_at, d.created_at
        FROM webhook_deliveries d JOIN developers v ON v.id = d.developer_id
        WHERE d.deletion_id = %(deletion_id)s
        ORDER BY v.name, d.id
        """,
        {"deletion_id": deletion_id},
    ).fetchall()
