"""Developers: what one may know about itself (its account, current tier and skills), and the
audited writes admins and operators make to them (registration, suspension, tier grants)."""

from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.exceptions import Conflict, Forbidden, NotFound
from gateway.models import Conn, Developer, Row
from gateway.repositories import developers as developers_repo
from gateway.repositories import oauth_tokens as tokens_repo
from gateway.services import audit, whitelist
from gateway.services import skills as skills_service


@dataclass(frozen=True)
class DeveloperProfile:
    developer: Developer
    skills: list[Row]


def get_active_developer(
    conn: Conn, *, developer_id: int, now: datetime | None = None
) -> Developer:
    """Return the calling developer with its tier as of `now` (rule 3: the newest grant until
    it ends, then `none`; default: the database's clock).

    Raises `Forbidden` when an admin has suspended it, `NotFound` if it no longer exists.
    """
    developer = developers_repo.find_developer(conn, developer_id, now=now)
    if developer is None:
        raise NotFound()
    if developer.suspended_at is not None:
        raise Forbidden("This developer account is suspended; contact the platform's admins.")
    return developer


def describe_developer(
    conn: Conn, *, developer_id: int, now: datetime | None = None
) -> DeveloperProfile:
    """Return the developer, its tier as of `now` and its own skills (rules 1 and 3)."""
    developer = get_active_developer(conn, developer_id=developer_id, now=now)
    return DeveloperProfile(developer, skills_service.list_skills(conn, developer_id=developer_id))


def register_developer(
    conn: Conn, *, actor: audit.Actor, name: str, contact_email: str = ""
) -> int:
    """Register a developer (on tier `none` until granted another); its id.

    Audited as `developer.registered` by id: the name and contact stay out of the log (rule 7).
    Raises `Conflict` when the name is taken.
    """
    developer_id = developers_repo.insert_developer(conn, name=name, contact_email=contact_email)
    audit.record(conn, actor=actor, action="developer.registered", developer_id=developer_id)
    return developer_id


def set_suspended(conn: Conn, *, actor: audit.Actor, developer_id: int, suspended: bool) -> None:
    """Suspend a developer, or reinstate it; audited as `developer.suspended` or
    `developer.reinstated` (rule 7). Raises `NotFound` for an unknown developer."""
    developers_repo.get_developer(conn, developer_id)
    developers_repo.update_suspension(conn, developer_id, suspended=suspended)
    audit.record(
        conn,
        actor=actor,
        action="developer.suspended" if suspended else "developer.reinstated",
        developer_id=developer_id,
    )


def grant_tier(
    conn: Conn,
    *,
    actor: audit.Actor,
    developer_id: int,
    tier: str,
    reason: str,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> int:
    """Move a developer to `tier`: see `gateway.services.whitelist.grant_tier`, where it lives."""
    return whitelist.grant_tier(
        conn,
        actor=actor,
        developer_id=developer_id,
        tier=tier,
        reason=reason,
        expires_at=expires_at,
        now=now,
    )


# --- the lifecycle admins and operators manage


def list_developers(
    conn: Conn, *, after: int | None = None, limit: int = 50, suspended: bool | None = None
) -> list[Row]:
    """Developers by id after `after` (at most `limit`), each with its current tier's name and
    that grant's expiry (rule 3), optionally only the suspended (or only the active) ones."""
    return developers_repo.list_developers(conn, after=after, limit=limit, suspended=suspended)


def get_developer_account(conn: Conn, *, developer_id: int) -> Row:
    """One developer as admins see it (account, tier, grant expiry, suspension).

    Raises `NotFound` for an unknown id.
    """
    rows = developers_repo.list_developers(conn, developer_id=developer_id, limit=1)
    if not rows:
        raise NotFound()
    return rows[0]


def may_get_tokens(conn: Conn, *, developer_id: int) -> bool:
    """Whether the developer's clients may be issued tokens: not while it is suspended.

    Fails closed: a developer the caller cannot see gets none either. Holds a share lock on the
    developer until the caller's transaction ends, so a token issued now cannot slip past a
    suspension committing at the same moment (the suspension waits, then revokes it).
    """
    visible, suspended_at = developers_repo.find_suspension_for_share(conn, developer_id)
    return visible and suspended_at is None


def _revoke_tokens(
    conn: Conn, *, actor: audit.Actor, developer_id: int, now: datetime | None, cause: str
) -> int:
    token_ids = tokens_repo.revoke_live_tokens(
        conn, developer_id=developer_id, now=now or datetime.now(UTC)
    )
    for token_id in token_ids:
        audit.record(
            conn,
            actor=actor,
            action="token.revoked",
            developer_id=developer_id,
            subject=str(token_id),
            details={"cause": cause},
        )
    return len(token_ids)


def suspend_developer(
    conn: Conn, *, actor: audit.Actor, developer_id: int, now: datetime | None = None
) -> Row:
    """Suspend a developer: every live token of its clients is revoked in the same transaction
    (so the very next request with one fails, on every instance) and the token endpoint issues
    none until an admin reinstates it. Returns the account as it now is, with `tokens_revoked`.

    Audited as `developer.suspended`, plus one `token.revoked` per token (rule 7). Raises
    `NotFound` for an unknown developer and `Conflict` when it is suspended already.
    """
    account = get_developer_account(conn, developer_id=developer_id)
    if account["suspended_at"] is not None:
        raise Conflict("This developer is suspended already.")
    developers_repo.update_suspension(conn, developer_id, suspended=True)
    audit.record(conn, actor=actor, action="developer.suspended", developer_id=developer_id)
    revoked = _revoke_tokens(
        conn, actor=actor, developer_id=developer_id, now=now, cause="developer.suspended"
    )
    return {**get_developer_account(conn, developer_id=developer_id), "tokens_revoked": revoked}


def reinstate_developer(conn: Conn, *, actor: audit.Actor, developer_id: int) -> Row:
    """Lift a developer's suspension (explicitly: nothing lifts it by itself). Tokens revoked
    by the suspension stay revoked; its clients may get new ones. Returns the account.

    Audited as `developer.reinstated` (rule 7). Raises `NotFound` for an unknown developer and
    `Conflict` when it is not suspended.
    """
    account = get_developer_account(conn, developer_id=developer_id)
    if account["suspended_at"] is None:
        raise Conflict("This developer is not suspended.")
    developers_repo.update_suspension(conn, developer_id, suspended=False)
    audit.record(conn, actor=actor, action="developer.reinstated", developer_id=developer_id)
    return get_developer_account(conn, developer_id=developer_id)
