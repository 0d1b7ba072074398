"""Retention by partition: whole months of interactions past the platform's retention setting
are dropped with their redacted forms and audio references (DESIGN §7), and the coming
months' partitions are made before anything needs them."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from gateway.models import Conn
from gateway.repositories import partitions as partitions_repo

# Partitions exist this many months ahead of the current one, so that no write waits for one.
MONTHS_AHEAD = 3
# Detaching a partition queues every later reader behind it: give up rather than wait long.
LOCK_WAIT_MS = 5000


@dataclass(frozen=True)
class DroppedMonth:
    """A month past retention, with what it held when it was (or would be) dropped."""

    month: date
    interactions: int
    forms: int
    audio: int


def _shift(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def oldest_kept_month(*, now: datetime, months: int) -> date:
    """The oldest month kept under a retention of `months` months: the current (UTC) month
    and the `months` before it stay; every month before those is past retention."""
    current = now.astimezone(UTC).date().replace(day=1)
    return _shift(current, -months)


def expired_months(conn: Conn, *, now: datetime, months: int) -> list[date]:
    """The months with partitions that lie wholly before the oldest kept month."""
    oldest = oldest_kept_month(now=now, months=months)
    return [month for month in partitions_repo.list_months(conn) if month < oldest]


def drop_month(conn: Conn, month: date, *, dry_run: bool = False) -> DroppedMonth:
    """Drop one month: its audio references, its redacted forms, its interactions, in the
    caller's transaction (as the owner role, bound as the system caller). With `dry_run`,
    only count what it holds. The ingest ledger keeps its platform ids (it holds no text),
    so a re-sent old record is skipped as a duplicate instead of coming back."""
    counts = partitions_repo.count_month(conn, month)
    if not dry_run:
        partitions_repo.limit_lock_wait(conn, milliseconds=LOCK_WAIT_MS)
        partitions_repo.delete_month_audio(conn, month)
        # the forms first: their foreign key references the month of interactions
        partitions_repo.drop_partition(conn, "interaction_texts", month)
        partitions_repo.drop_partition(conn, "interactions", month)
    return DroppedMonth(month, counts["interactions"], counts["forms"], counts["audio"])


def months_ahead(*, now: datetime, ahead: int = MONTHS_AHEAD) -> list[date]:
    """The current month and the `ahead` months after it."""
    current = now.astimezone(UTC).date().replace(day=1)
    return [_shift(current, k) for k in range(ahead + 1)]


def missing_months_ahead(conn: Conn, *, now: datetime, ahead: int = MONTHS_AHEAD) -> list[date]:
    """The months of `months_ahead` that have no partition yet."""
    existing = set(partitions_repo.list_months(conn))
    return [month for month in months_ahead(now=now, ahead=ahead) if month not in existing]


def ensure_months_ahead(conn: Conn, *, now: datetime, ahead: int = MONTHS_AHEAD) -> list[date]:
    """Create the partitions of the current month and the `ahead` next ones that are missing;
    return the months created."""
    missing = missing_months_ahead(conn, now=now, ahead=ahead)
    for month in missing:
        partitions_repo.ensure_month(conn, month)
    return missing
