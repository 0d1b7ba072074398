"""Rule 5 in the background: redacted forms that are missing or were made by an older version
are made again, batch by batch, so that reads seldom have to (they never serve a stale one)."""

from datetime import datetime

from gateway.models import Conn
from gateway.repositories import interaction_texts as texts_repo
from gateway.services import redaction

Key = tuple[datetime, str]


def refresh_stale_forms(conn: Conn, *, after: Key | None, limit: int) -> tuple[int, Key | None]:
    """Redact again, under every policy, up to `limit` interactions after keyset `after` that
    lack a current form for some policy; return how many, and the keyset to go on from (None
    when there were none left)."""
    versions = redaction.current_versions()
    rows = texts_repo.list_stale(conn, versions=versions, after=after, limit=limit)
    if not rows:
        return 0, None
    keys = [(str(row["id"]), row["occurred_at"]) for row in rows]
    redaction.refresh_forms(conn, keys, list(versions))
    last = rows[-1]
    return len(rows), (last["occurred_at"], str(last["id"]))
