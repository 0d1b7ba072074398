"""Rule 3, the whitelist: grants that move a developer to a tier, with who, when, why and an
optional expiry; re-certification of the top tier; revocation; the history; and the audit
record of each grant that expired.

A grant is a decision that replaces the one before: the developer's tier is its newest grant
until that grant ends, then `none` (resolved at read time, repositories/developers.py: no job
has to run for an expiry to hold)."""

from datetime import UTC, datetime, timedelta

from gateway.exceptions import Conflict, InvalidInput, NotFound
from gateway.models import Conn, Developer, Row
from gateway.repositories import developers as developers_repo
from gateway.repositories import tier_grants as grants_repo
from gateway.repositories import tiers as tiers_repo
from gateway.services import audit
from gateway.services.tier_catalog import NO_TIER

# `GET /v1/developer` warns this long before the developer's grant ends.
EXPIRY_WARNING = timedelta(days=30)
MAX_REASON = 2000


def _reason(reason: str, *, field: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidInput(details={field: ["Say why: a reason is required."]})
    if len(text) > MAX_REASON:
        raise InvalidInput(details={field: [f"At most {MAX_REASON} characters."]})
    return text


def _require_developer(conn: Conn, developer_id: int) -> None:
    if developers_repo.find_developer(conn, developer_id) is None:
        raise NotFound()


def grant_expiry(tier: Row, *, expires_at: datetime | None, now: datetime) -> datetime | None:
    """The expiry a grant of `tier` gets: the one asked for; for a top tier (re-certified every
    `recertify_days`, at most 365) at most that many days from now, and that many when none
    was asked for.

    Raises `InvalidInput` for an expiry that is not in the future, or later than a top tier's
    re-certification allows.
    """
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise InvalidInput(details={"expires_at": ["Give a time zone offset."]})
        if expires_at <= now:
            raise InvalidInput(details={"expires_at": ["Must be in the future."]})
    days = tier["recertify_days"]
    if days is None:
        return expires_at
    latest = now + timedelta(days=days)
    if expires_at is None:
        return latest
    if expires_at > latest:
        raise InvalidInput(
            details={
                "expires_at": [
                    f"Tier {tier['name']!r} is re-certified every {days} days: a grant of it "
                    f"expires by {latest.isoformat(timespec='seconds')} at the latest."
                ]
            }
        )
    return expires_at


def grant_tier(
    conn: Conn,
    *,
    actor: audit.Actor,
    developer_id: int,
    tier: str,
    reason: str,
    expires_at: datetime | None = None,
    now: datetime | None = None,
    request_id: int | None = None,
) -> int:
    """Move a developer to `tier` from now on, for `reason` (required), until `expires_at`;
    the grant's id (rule 3). It replaces the developer's current grant; when it ends the
    developer is on `none`. A top tier's grant expires within its `recertify_days` (365 for
    `trusted`): without an expiry it gets exactly that many days.

    Raises `NotFound` for an unknown developer, `InvalidInput` for an unknown tier, `none`
    (revoke instead), a missing reason or a refused expiry. Audited as `grant.made` with the
    tier and grant id; the reason stays in tier_grants, not in the log (it is free text).
    """
    now = now or datetime.now(UTC)
    text = _reason(reason)
    _require_developer(conn, developer_id)
    row = tiers_repo.find_tier(conn, tier)
    if row is None:
        raise InvalidInput(details={"tier": [f"No tier named {tier!r}."]})
    if tier == NO_TIER:
        raise InvalidInput(details={"tier": ["To put a developer on 'none', revoke its grant."]})
    ends = grant_expiry(row, expires_at=expires_at, now=now)
    grant_id = developers_repo.insert_tier_grant(
        conn,
        developer_id=developer_id,
        tier=tier,
        reason=text,
        granted_by=str(actor),
        expires_at=ends,
    )
    details: dict[str, object] = {"tier": tier, "expires": ends is not None}
    if request_id is not None:
        details["request"] = request_id
    audit.record(
        conn,
        actor=actor,
        action="grant.made",
        developer_id=developer_id,
        subject=str(grant_id),
        details=details,
    )
    return grant_id


def current_grant(conn: Conn, *, developer_id: int, now: datetime) -> Row | None:
    """The grant that decides the developer's tier at `now`, or None (it is on `none`)."""
    grant = grants_repo.find_newest_grant(conn, developer_id=developer_id)
    if grant is None or grant["tier"] == NO_TIER:
        return None
    if grant["ends_at"] is not None and grant["ends_at"] <= now:
        return None
    return grant


def revoke_grant(
    conn: Conn, *, actor: audit.Actor, developer_id: int, reason: str, now: datetime | None = None
) -> int:
    """End the developer's current grant now: it is on `none` from the next request. The
    revocation is recorded as a grant of `none` (history is never rewritten); its id.

    Raises `NotFound` for an unknown developer, `InvalidInput` without a reason, `Conflict` when
    it holds no current grant. Audited as `grant.revoked`, the revoked grant as subject.
    """
    now = now or datetime.now(UTC)
    text = _reason(reason)
    _require_developer(conn, developer_id)
    grant = current_grant(conn, developer_id=developer_id, now=now)
    if grant is None:
        raise Conflict("This developer holds no grant to revoke: it is on 'none' already.")
    revocation = developers_repo.insert_tier_grant(
        conn, developer_id=developer_id, tier=NO_TIER, reason=text, granted_by=str(actor)
    )
    audit.record(
        conn,
        actor=actor,
        action="grant.revoked",
        developer_id=developer_id,
        subject=str(grant["id"]),
        details={"tier": grant["tier"], "revocation": revocation},
    )
    return revocation


def find_developer_id(conn: Conn, *, name: str) -> int | None:
    """The id of the developer with exactly this name, or None (for operators, who know
    developers by name)."""
    return developers_repo.find_developer_id_by_name(conn, name)


def current_tier_name(conn: Conn, *, developer_id: int, now: datetime) -> str:
    """The name of the developer's tier at `now`; `NotFound` for an unknown developer."""
    developer = developers_repo.find_developer(conn, developer_id, now=now)
    if developer is None:
        raise NotFound()
    return developer.tier.name


def _state(grant: Row, now: datetime) -> str:
    if grant["tier"] == NO_TIER:
        return "revocation"
    ends, superseded = grant["ends_at"], grant["superseded_at"]
    if superseded is not None and (ends is None or superseded < ends):
        return "superseded"
    if ends is not None and ends <= now:
        return "expired"
    return "active"


def grant_history(conn: Conn, *, developer_id: int, now: datetime | None = None) -> list[Row]:
    """Every grant of the developer, newest first: tier, reason, who granted it and when, the
    expiry asked for, when it ends (`ends_at`: a top tier's re-certification caps it) and its
    `state`: `active`, `expired`, `superseded` (replaced by a later grant) or `revocation` (a
    revoke, on `none`). Raises `NotFound` for an unknown developer."""
    now = now or datetime.now(UTC)
    _require_developer(conn, developer_id)
    return [
        {**grant, "state": _state(grant, now)}
        for grant in grants_repo.list_grants(conn, developer_id=developer_id)
    ]


def get_grant(conn: Conn, *, developer_id: int, grant_id: int, now: datetime | None = None) -> Row:
    """One grant of the developer as `grant_history` shows it; `NotFound` otherwise."""
    for grant in grant_history(conn, developer_id=developer_id, now=now):
        if grant["id"] == grant_id:
            return grant
    raise NotFound()


def expiry_warning(developer: Developer, *, now: datetime) -> str | None:
    """What `GET /v1/developer` says in the last 30 days of the developer's grant, else None."""
    ends = developer.tier_expires_at
    if ends is None or ends - now > EXPIRY_WARNING:
        return None
    days = max(0, (ends - now).days)
    return (
        f"Your grant of tier {developer.tier.name!r} expires on "
        f"{ends.astimezone(UTC).isoformat(timespec='seconds')} (in {days} days): after that you "
        "are on tier 'none'. To keep it, file a tier request (POST /v1/developer/tier-requests)."
    )


def record_expired_grants(conn: Conn, *, now: datetime, limit: int = 100) -> int:
    """Write `grant.expired` to the audit log for each grant that ran out (while it was the
    newest) and is not recorded yet; how many. Idempotent, also across concurrent workers.

    Only the log depends on this: the tier itself is resolved at read time, expired or not.
    Run as the system caller (the worker).
    """
    recorded = 0
    for grant in grants_repo.list_unrecorded_expiries(conn, now=now, limit=limit):
        if not grants_repo.insert_expiry(
            conn, grant_id=grant["id"], developer_id=grant["developer_id"]
        ):
            continue
        audit.record(
            conn,
            actor=audit.SYSTEM,
            action="grant.expired",
            developer_id=grant["developer_id"],
            subject=str(grant["id"]),
            details={"tier": grant["tier"]},
        )
        recorded += 1
    return recorded
