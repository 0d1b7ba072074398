"""Developers and their tier grants."""

from datetime import datetime

import psycopg

from gateway.exceptions import Conflict, NotFound
from gateway.models import Conn, Developer, Row
from gateway.repositories.tiers import tier_from_row

# When a grant ends: its own expiry and, for a tier whose grants must be re-certified, no later
# than `recertify_days` after it was made (rule 3: the top tier is never granted for good).
# `tg` is the grant, `gt` its tier.
GRANT_ENDS_AT = """
CASE WHEN gt.recertify_days IS NULL THEN tg.expires_at
     ELSE least(coalesce(tg.expires_at, 'infinity'::timestamptz),
                tg.granted_at + make_interval(days => gt.recertify_days)) END
"""

# The current tier is the newest grant, until it ends; after that, and without any grant, it is
# 'none'. An older grant never comes back when a newer one ends: each grant is a decision that
# replaces the one before. Resolved at read time against the caller's clock, so an expiry
# needs no job. Nothing here is cached: a tier's change holds from the very next request.
_FIND_DEVELOPER = f"""
SELECT d.id, d.name AS developer_name, d.suspended_at,
       CASE WHEN g.ends_at > c.now THEN g.ends_at END AS tier_expires_at,
       t.name, t.transcripts_readable, t.fields, t.retention_days, t.redaction_policy,
       t.page_size, t.rate_limit, t.k_threshold, t.description
FROM developers d
CROSS JOIN (SELECT coalesce(%(now)s::timestamptz, now()) AS now) c
LEFT JOIN LATERAL (
    SELECT tg.tier, {GRANT_ENDS_AT} AS ends_at
    FROM tier_grants tg
    JOIN tiers gt ON gt.name = tg.tier
    WHERE tg.developer_id = d.id
    ORDER BY tg.granted_at DESC, tg.id DESC
    LIMIT 1
) g ON true
JOIN tiers t ON t.name = coalesce(
    CASE WHEN g.ends_at IS NULL OR g.ends_at > c.now THEN g.tier END, 'none')
WHERE d.id = %(developer_id)s
"""  # noqa: S608 - composed of constants only


def find_developer(
    conn: Conn, developer_id: int, *, now: datetime | None = None
) -> Developer | None:
    """Return the developer with its tier as of `now` (default: the database's clock), or None
    when it does not exist (or is hidden)."""
    row = conn.execute(
        _FIND_DEVELOPER,
        {"developer_id": developer_id, "now": now},
    ).fetchone()
    if row is None:
        return None
    return Developer(
        id=row["id"],
        name=row["developer_name"],
        suspended_at=row["suspended_at"],
        tier=tier_from_row(row),
        tier_expires_at=row["tier_expires_at"],
    )


def get_developer(conn: Conn, developer_id: int) -> Developer:
    developer = find_developer(conn, developer_id)
    if developer is None:
        raise NotFound()
    return developer


def find_developer_id_by_name(conn: Conn, name: str) -> int | None:
    row = conn.execute("SELECT id FROM developers WHERE name = %(name)s", {"name": name}).fetchone()
    return None if row is None else int(row["id"])


def insert_developer(conn: Conn, *, name: str, contact_email: str = "") -> int:
    """Insert a developer and return its id; raise `Conflict` when the name is taken."""
    try:
        row = conn.execute(
            """
            INSERT INTO developers (name, contact_email)
            VALUES (%(name)s, %(contact_email)s)
            RETURNING id
            """,
            {"name": name, "contact_email": contact_email},
        ).fetchone()
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict(f"A developer named {name!r} already exists.") from exc
    assert row is not None
    return int(row["id"])


def insert_tier_grant(
    conn: Conn,
    *,
    developer_id: int,
    tier: str,
    reason: str,
    granted_by: str,
    expires_at: datetime | None = None,
) -> int:
    """Record a tier decision for a developer; raise `NotFound` for an unknown tier."""
    try:
        row = conn.execute(
            """
            INSERT INTO tier_grants (developer_id, tier, reason, granted_by, expires_at)
            VALUES (%(developer_id)s, %(tier)s, %(reason)s, %(granted_by)s, %(expires_at)s)
            RETURNING id
            """,
            {
                "developer_id": developer_id,
                "tier": tier,
                "reason": reason,
                "granted_by": granted_by,
                "expires_at": expires_at,
            },
        ).fetchone()
    except psycopg.errors.ForeignKeyViolation as exc:
        raise NotFound(f"No tier named {tier!r}.") from exc
    assert row is not None
    return int(row["id"])


def update_suspension(conn: Conn, developer_id: int, *, suspended: bool) -> None:
    conn.execute(
        """
        UPDATE developers
        SET suspended_at = CASE WHEN %(suspended)s THEN coalesce(suspended_at, now()) END
        WHERE id = %(developer_id)s
        """,
        {"developer_id": developer_id, "suspended": suspended},
    )


# What admins see of developers: the account, its current tier (the same newest-unexpired-grant
# rule as _FIND_DEVELOPER) and when that grant expires.
_LISTED = """
SELECT d.id, d.name, d.contact_email, d.created_at, d.suspended_at,
       coalesce(g.tier, 'none') AS tier, g.expires_at AS tier_expires_at
FROM developers d
LEFT JOIN LATERAL (
    SELECT tg.tier, tg.expires_at
    FROM tier_grants tg
    WHERE tg.developer_id = d.id AND (tg.expires_at IS NULL OR tg.expires_at > now())
    ORDER BY tg.granted_at DESC, tg.id DESC
    LIMIT 1
) g ON true
WHERE (%(developer_id)s::bigint IS NULL OR d.id = %(developer_id)s)
  AND (%(after)s::bigint IS NULL OR d.id > %(after)s)
  AND (%(suspended)s::boolean IS NULL OR (d.suspended_at IS NOT NULL) = %(suspended)s)
ORDER BY d.id
LIMIT %(limit)s
"""


def list_developers(
    conn: Conn,
    *,
    after: int | None = None,
    limit: int | None = None,
    suspended: bool | None = None,
    developer_id: int | None = None,
) -> list[Row]:
    """Developers by id after `after`, each with its tier's name and the grant's expiry."""
    return conn.execute(
        _LISTED,
        {"developer_id": developer_id, "after": after, "limit": limit, "suspended": suspended},
    ).fetchall()


def find_suspension_for_share(conn: Conn, developer_id: int) -> tuple[bool, datetime | None]:
    """(whether the developer is visible, when it was suspended), holding a share lock on its
    row until the transaction ends: a suspension committing meanwhile waits for it, and then
    sees (and revokes) whatever this transaction issued."""
    row = conn.execute(
        "SELECT suspended_at FROM developers WHERE id = %(developer_id)s FOR SHARE",
        {"developer_id": developer_id},
    ).fetchone()
    return (False, None) if row is None else (True, row["suspended_at"])
