"""The tiers table: what each whitelist tier allows."""

from gateway.exceptions import NotFound
from gateway.models import Conn, Row, Tier

_COLUMNS = """name, transcripts_readable, fields, retention_days, redaction_policy, page_size,
              rate_limit, k_threshold, description"""


def tier_from_row(row: Row) -> Tier:
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


def list_tiers(conn: Conn) -> list[Tier]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM tiers ORDER BY name").fetchall()  # noqa: S608
    return [tier_from_row(row) for row in rows]


def get_tier(conn: Conn, name: str) -> Tier:
    """Return the tier called `name`; raise `NotFound` when there is none."""
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM tiers WHERE name = %(name)s",  # noqa: S608
        {"name": name},
    ).fetchone()
    if row is None:
        raise NotFound(f"No tier named {name!r}.")
    return tier_from_row(row)
