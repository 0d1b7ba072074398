"""Developers: what one may know about itself (its account, current tier and skills), and the
audited writes admins and operators make to them (registration, suspension, tier grants)."""

from dataclasses import dataclass
from datetime import datetime

from gateway.exceptions import Forbidden, NotFound
from gateway.models import Conn, Developer, Row
from gateway.repositories import developers as developers_repo
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
