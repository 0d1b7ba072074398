"""Developers: what one may know about itself (its account, current tier and skills), and the
audited writes admins and operators make to them (registration, suspension, tier grants)."""

from dataclasses import dataclass
from datetime import datetime

from gateway.exceptions import Forbidden, NotFound
from gateway.models import Conn, Developer, Row
from gateway.repositories import developers as developers_repo
from gateway.services import audit
from gateway.services import skills as skills_service


@dataclass(frozen=True)
class DeveloperProfile:
    developer: Developer
    skills: list[Row]


def get_active_developer(conn: Conn, *, developer_id: int) -> Developer:
    """Return the calling developer with its current tier (rule 3: the newest unexpired grant).

    Raises `Forbidden` when an admin has suspended it, `NotFound` if it no longer exists.
    """
    developer = developers_repo.find_developer(conn, developer_id)
    if developer is None:
        raise NotFound()
    if developer.suspended_at is not None:
        raise Forbidden("This developer account is suspended; contact the platform's admins.")
    return developer


def describe_developer(conn: Conn, *, developer_id: int) -> DeveloperProfile:
    """Return the developer, its tier and its own skills (rules 1 and 3)."""
    developer = get_active_developer(conn, developer_id=developer_id)
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
) -> int:
    """Move a developer to `tier` from now on, for `reason`, until `expires_at` (rule 3); the
    grant's id. Audited as `grant.made` with the tier and grant id; the reason stays in
    tier_grants, not in the log (it is free text). Raises `NotFound` for an unknown tier."""
    grant_id = developers_repo.insert_tier_grant(
        conn,
        developer_id=developer_id,
        tier=tier,
        reason=reason,
        granted_by=str(actor),
        expires_at=expires_at,
    )
    audit.record(
        conn,
        actor=actor,
        action="grant.made",
        developer_id=developer_id,
        subject=str(grant_id),
        details={"tier": tier, "expires": expires_at is not None},
    )
    return grant_id
