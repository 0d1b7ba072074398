"""The tiers table: what each whitelist tier allows, read on every request and edited by admins."""

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg import sql

from gateway.exceptions import Conflict, NotFound
from gateway.models import Conn, Row, Tier

# Rule 3, the retention window: nothing older than the tier's retention days (the service
# turns the tier into `not_before`).
WITHIN_RETENTION = "i.occurred_at >= %(not_before)s"


def tier_from_row(row: Row) -> Tier:
    """Build a Tier from a row that carries the tiers table's columns."""
    return Tier(
        name=row["name"],
        transcripts_readable=row["transcripts_readable"],
        fields=tuple(row["fields"]),
        retention_days=row["retention_days"],
        redaction_policy=row["redaction_policy"],
        page_size=row["page_size"],
        rate_limit=row["rate_limit"],
        k_threshold=row["k_threshold"],
        description=row["description"],
    )


# What admins see and set of a tier: every column.
TIER_COLUMNS = (
    "name",
    "transcripts_readable",
    "fields",
    "retention_days",
    "redaction_policy",
    "page_size",
    "rate_limit",
    "k_threshold",
    "stats_weeks",
    "recertify_days",
    "description",
)
_SELECT = """
SELECT name, transcripts_readable, fields, retention_days, redaction_policy, page_size,
       rate_limit, k_threshold, stats_weeks, recertify_days, description
FROM tiers
"""


_SELECT_ONE = _SELECT + " WHERE name = %(name)s"  # noqa: S608 - constants
_SELECT_ONE_FOR_UPDATE = _SELECT_ONE + " FOR UPDATE"
_SELECT_ALL = _SELECT + " ORDER BY name"  # noqa: S608 - constants


def list_tiers(conn: Conn) -> list[Row]:
    """Every tier, by name."""
    return conn.execute(_SELECT_ALL).fetchall()


def find_tier(conn: Conn, name: str, *, for_update: bool = False) -> Row | None:
    """The tier named `name`, or None; `for_update` locks it until the transaction ends."""
    if for_update:
        return conn.execute(_SELECT_ONE_FOR_UPDATE, {"name": name}).fetchone()
    return conn.execute(_SELECT_ONE, {"name": name}).fetchone()


def insert_tier(conn: Conn, values: Mapping[str, Any]) -> Row:
    """Insert a tier (`values`: a subset of TIER_COLUMNS, `name` included); raise `Conflict`
    when the name is taken."""
    columns = [name for name in TIER_COLUMNS if name in values]
    query = sql.SQL("INSERT INTO tiers ({}) VALUES ({}) RETURNING {}").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder(name) for name in columns),
        sql.SQL(", ").join(map(sql.Identifier, TIER_COLUMNS)),
    )
    try:
        row = conn.execute(query, dict(values)).fetchone()
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict(f"A tier named {values['name']!r} already exists.") from exc
    assert row is not None
    return row


def update_tier(conn: Conn, name: str, changes: Mapping[str, Any]) -> Row:
    """Set `changes` (columns of TIER_COLUMNS other than the name) on the tier; its new row."""
    columns = [column for column in TIER_COLUMNS[1:] if column in changes]
    query = sql.SQL("UPDATE tiers SET {} WHERE name = {} RETURNING {}").format(
        sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column))
            for column in columns
        ),
        sql.Placeholder("_name"),
        sql.SQL(", ").join(map(sql.Identifier, TIER_COLUMNS)),
    )
    row = conn.execute(query, {**{c: changes[c] for c in columns}, "_name": name}).fetchone()
    if row is None:
        raise NotFound(f"No tier named {name!r}.")
    return row
