"""The monthly partitions of interactions and of their redacted forms: listed, counted, dropped.

Partitions are made only by gateway_ensure_interaction_month() (0004), which names them
interactions_YYYY_MM and interaction_texts_YYYY_MM after the UTC month they hold.
"""

import re
from datetime import UTC, date, datetime

from psycopg import sql

from gateway.models import Conn

# what may be detached and dropped here, and nothing else
_PARENTS = ("interactions", "interaction_texts")
_MONTH_SUFFIX = re.compile(r"^(\d{4})_(\d{2})$")


def _partition_name(parent: str, month: date) -> str:
    if parent not in _PARENTS:
        raise ValueError(f"not a partitioned table of interactions: {parent!r}")
    return f"{parent}_{month:%Y_%m}"


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The first instant of `month` (UTC) and of the month after it."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return start, datetime(following.year, following.month, 1, tzinfo=UTC)


def list_months(conn: Conn) -> list[date]:
    """The months that have a partition of interactions, oldest first."""
    rows = conn.execute(
        """
        SELECT c.relname AS name
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'public.interactions'::regclass
        """
    ).fetchall()
    months = []
    for row in rows:
        match = _MONTH_SUFFIX.match(row["name"].removeprefix("interactions_"))
        if match:
            months.append(date(int(match.group(1)), int(match.group(2)), 1))
    return sorted(months)


def ensure_month(conn: Conn, month: date) -> None:
    """Create the month's partitions of interactions and interaction_texts if missing."""
    conn.execute("SELECT gateway_ensure_interaction_month(%(at)s)", {"at": month_bounds(month)[0]})


def count_month(conn: Conn, month: date) -> dict[str, int]:
    """Interactions, redacted forms and audio references of `month` (as the system caller)."""
    start, end = month_bounds(month)
    row = conn.execute(
        """
        SELECT
            (SELECT count(*) FROM interactions
             WHERE occurred_at >= %(start)s AND occurred_at < %(end)s) AS interactions,
            (SELECT count(*) FROM interaction_texts
             WHERE occurred_at >= %(start)s AND occurred_at < %(end)s) AS forms,
            (SELECT count(*) FROM vault.audio_recordings
             WHERE occurred_at >= %(start)s AND occurred_at < %(end)s) AS audio
        """,
        {"start": start, "end": end},
    ).fetchone()
    assert row is not None
    return {name: int(value) for name, value in row.items()}


def delete_month_audio(conn: Conn, month: date) -> int:
    """Delete the vault's audio references of `month`; how many there were."""
    start, end = month_bounds(month)
    cursor = conn.execute(
        """
        DELETE FROM vault.audio_recordings
        WHERE occurred_at >= %(start)s AND occurred_at < %(end)s
        """,
        {"start": start, "end": end},
    )
    return cursor.rowcount


def limit_lock_wait(conn: Conn, *, milliseconds: int) -> None:
    """Give up on a lock after this long, in this transaction: detaching a partition waits
    for every reader of the table, and every reader after it would wait behind it."""
    conn.execute("SELECT set_config('lock_timeout', %(ms)s, true)", {"ms": f"{milliseconds}ms"})


def drop_partition(conn: Conn, parent: str, month: date) -> bool:
    """Detach the month's partition of `parent`, then drop it; False when there was none.

    Detached first: a partition that a foreign key references cannot simply be dropped, and
    detaching checks that nothing references its rows any more.
    """
    name = _partition_name(parent, month)
    exists = conn.execute("SELECT to_regclass(%(name)s) AS oid", {"name": f"public.{name}"})
    row = exists.fetchone()
    if row is None or row["oid"] is None:
        return False
    conn.execute(
        sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(
            sql.Identifier(parent), sql.Identifier(name)
        )
    )
    conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))
    return True
