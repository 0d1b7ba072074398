"""What a developer may know about itself: its account, its current tier and its skills."""

from dataclasses import dataclass

from gateway.exceptions import Forbidden, NotFound
from gateway.models import Conn, Developer, Row
from gateway.repositories import developers as developers_repo
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
