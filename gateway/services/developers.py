"""What a developer may know about itself: its tier, its limits and its skills."""

from dataclasses import dataclass

from gateway.exceptions import Forbidden, NotFound
from gateway.models import Conn, Developer, Row
from gateway.repositories import developers as developers_repo
from gateway.repositories import skills as skills_repo


@dataclass(frozen=True)
class DeveloperProfile:
    developer: Developer
    skills: list[Row]


def get_active_developer(conn: Conn, *, developer_id: int) -> Developer:
    """Return the calling developer with its current tier.

    Raises `Forbidden` when an admin has suspended it, `NotFound` if it no longer exists.
    """
    developer = developers_repo.find_developer(conn, developer_id)
    if developer is None:
        raise NotFound()
    if developer.suspended_at is not None:
        raise Forbidden("This developer account is suspended; contact the platform's admins.")
    return developer


def describe_developer(conn: Conn, *, developer_id: int) -> DeveloperProfile:
    """Return the developer, its tier and its skills (rule 3: what the tier allows)."""
    developer = get_active_developer(conn, developer_id=developer_id)
    return DeveloperProfile(developer, skills_repo.list_skills(conn, developer_id=developer_id))


def list_skills(conn: Conn, *, developer_id: int) -> list[Row]:
    """Return the developer's own skills (rule 1)."""
    return skills_repo.list_skills(conn, developer_id=developer_id)


def get_skill(conn: Conn, *, developer_id: int, skill_id: str) -> Row:
    """Return one of the developer's skills; `NotFound` for another's skill or none (rule 1)."""
    skill = skills_repo.find_skill(conn, developer_id=developer_id, skill_id=skill_id)
    if skill is None:
        raise NotFound()
    return skill
