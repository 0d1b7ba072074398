"""Tier grants as history: each developer's decisions in order, when each ended and how, and
the expiries the worker has recorded."""

from datetime import datetime

from gateway.models import Conn, Row
from gateway.repositories.developers import GRANT_ENDS_AT

# Every grant with when it ends (GRANT_ENDS_AT) and when the next decision replaced it.
_ORDERED = f"""
SELECT tg.id, tg.developer_id, tg.tier, tg.reason, tg.granted_by, tg.granted_at,
       tg.expires_at, {GRANT_ENDS_AT} AS ends_at,
       lead(tg.granted_at) OVER (PARTITION BY tg.developer_id
                                 ORDER BY tg.granted_at, tg.id) AS superseded_at,
       row_number() OVER (PARTITION BY tg.developer_id
                          ORDER BY tg.granted_at DESC, tg.id DESC) AS recency
FROM tier_grants tg
JOIN tiers gt ON gt.name = tg.tier
"""  # noqa: S608 - composed of constants only


def list_grants(conn: Conn, *, developer_id: int) -> list[Row]:
    """The developer's grants, newest first, each with `ends_at`, `superseded_at` and
    whether it is the newest (`recency` 1)."""
    return conn.execute(
        f"""
        SELECT * FROM ({_ORDERED} WHERE tg.developer_id = %(developer_id)s) o
        ORDER BY o.granted_at DESC, o.id DESC
        """,  # noqa: S608 - composed of constants only
        {"developer_id": developer_id},
    ).fetchall()


def find_newest_grant(conn: Conn, *, developer_id: int) -> Row | None:
    """The developer's newest grant (the one that decides its tier until it ends), or None."""
    return conn.execute(
        f"""
        SELECT * FROM ({_ORDERED} WHERE tg.developer_id = %(developer_id)s) o
        WHERE o.recency = 1
        """,  # noqa: S608 - composed of constants only
        {"developer_id": developer_id},
    ).fetchone()


def list_unrecorded_expiries(conn: Conn, *, now: datetime, limit: int) -> list[Row]:
    """Grants (of a tier other than `none`) that ran out while they were the newest, i.e.
    before any later grant replaced them, and whose expiry is not recorded yet."""
    return conn.execute(
        f"""
        SELECT o.id, o.developer_id, o.tier, o.ends_at FROM ({_ORDERED}) o
        WHERE o.tier <> 'none' AND o.ends_at <= %(now)s
          AND (o.superseded_at IS NULL OR o.superseded_at > o.ends_at)
          AND NOT EXISTS (SELECT 1 FROM tier_grant_expiries e WHERE e.grant_id = o.id)
        ORDER BY o.id
        LIMIT %(limit)s
        """,  # noqa: S608 - composed of constants only
        {"now": now, "limit": limit},
    ).fetchall()


def insert_expiry(conn: Conn, *, grant_id: int, developer_id: int) -> bool:
    """Remember that the grant's expiry was recorded; False when it already was (by this or
    another worker: the primary key decides, without a lock)."""
    row = conn.execute(
        """
        INSERT INTO tier_grant_expiries (grant_id, developer_id)
        VALUES (%(grant_id)s, %(developer_id)s)
        ON CONFLICT (grant_id) DO NOTHING
        RETURNING grant_id
        """,
        {"grant_id": grant_id, "developer_id": developer_id},
    ).fetchone()
    return row is not None
