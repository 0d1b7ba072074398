"""The audit log: append-only events, sealed into a hash chain by the database's sealer."""

from collections.abc import Iterator
from typing import Any

from psycopg.types.json import Jsonb

from gateway.models import Conn, Row

# What the verifier needs of a sealed row, in chain order. details as jsonb's own text: the
# exact form the sealer hashed (normalised: keys sorted, no whitespace choices left).
_SEALED_IN_ORDER = """
SELECT seq, id, occurred_at, actor_kind, actor_id, action, developer_id, skill_id, subject,
       details::text AS details_text, prev_hash, row_hash
FROM audit_events
WHERE seq IS NOT NULL
ORDER BY seq
"""


def insert_event(
    conn: Conn,
    *,
    actor_kind: str,
    actor_id: str,
    action: str,
    developer_id: int | None,
    skill_id: str | None,
    subject: str | None,
    details: dict[str, Any],
) -> None:
    # no RETURNING: a developer may write its own events but not read the log back
    conn.execute(
        """
        INSERT INTO audit_events (actor_kind, actor_id, action, developer_id, skill_id, subject,
                                  details)
        VALUES (%(actor_kind)s, %(actor_id)s, %(action)s, %(developer_id)s, %(skill_id)s,
                %(subject)s, %(details)s)
        """,
        {
            "actor_kind": actor_kind,
            "actor_id": actor_id,
            "action": action,
            "developer_id": developer_id,
            "skill_id": skill_id,
            "subject": subject,
            "details": Jsonb(details),
        },
    )


def seal_batch(conn: Conn, *, limit: int) -> int:
    """Seal up to `limit` committed rows (the database's gateway_audit_seal); how many."""
    row = conn.execute(
        "SELECT gateway_audit_seal(%(limit)s) AS sealed", {"limit": limit}
    ).fetchone()
    assert row is not None
    return int(row["sealed"])


def count_unsealed(conn: Conn) -> int:
    row = conn.execute("SELECT count(*) AS n FROM audit_events WHERE seq IS NULL").fetchone()
    assert row is not None
    return int(row["n"])


def iter_sealed(conn: Conn, *, batch: int = 2000) -> Iterator[Row]:
    """Every sealed row in chain order, streamed (a server-side cursor: needs a transaction)."""
    with conn.cursor(name="audit_chain") as cursor:
        cursor.itersize = batch
        cursor.execute(_SEALED_IN_ORDER)
        yield from cursor


def list_recent(conn: Conn, *, limit: int) -> list[Row]:
    """The newest `limit` events, sealed or not, newest first."""
    return conn.execute(
        """
        SELECT id, seq, occurred_at, actor_kind, actor_id, action, developer_id, skill_id,
               subject, details, row_hash
        FROM audit_events
        ORDER BY id DESC
        LIMIT %(limit)s
        """,
        {"limit": limit},
    ).fetchall()


# The admins' query: every filter optional, newest first, keyset on id.
_QUERY = """
SELECT id, seq, occurred_at, actor_kind, actor_id, action, developer_id, skill_id, subject,
       details
FROM audit_events
WHERE (%(actor_kind)s::text IS NULL OR actor_kind = %(actor_kind)s)
  AND (%(actor_id)s::text IS NULL OR actor_id = %(actor_id)s)
  AND (%(action)s::text IS NULL OR action = %(action)s)
  AND (%(developer_id)s::bigint IS NULL OR developer_id = %(developer_id)s)
  AND (%(skill_id)s::uuid IS NULL OR skill_id = %(skill_id)s::uuid)
  AND (%(since)s::timestamptz IS NULL OR occurred_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR occurred_at < %(until)s)
  AND (%(before)s::bigint IS NULL OR id < %(before)s)
ORDER BY id DESC
LIMIT %(limit)s
"""


def query_events(conn: Conn, *, limit: int, before: int | None = None, **filters: Any) -> list[Row]:
    """Events matching `filters` (actor_kind, actor_id, action, developer_id, skill_id, since,
    until; each None for any), newest first, with an id below `before`."""
    params = {
        name: filters.get(name)
        for name in (
            "actor_kind",
            "actor_id",
            "action",
            "developer_id",
            "skill_id",
            "since",
            "until",
        )
    }
    return conn.execute(_QUERY, {**params, "before": before, "limit": limit}).fetchall()
