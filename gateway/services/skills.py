"""Rule 1, own skills only: a developer reaches its own skills and nothing of anyone else's."""

from gateway.exceptions import NotFound
from gateway.models import Conn, Row
from gateway.repositories import developers as developers_repo
from gateway.repositories import skills as skills_repo
from gateway.services import audit


def list_skills(conn: Conn, *, developer_id: int) -> list[Row]:
    """Return the developer's own skills, oldest first (rule 1)."""
    return skills_repo.list_skills(conn, developer_id=developer_id)


def get_skill(conn: Conn, *, developer_id: int, skill_id: str) -> Row:
    """Return one of the developer's skills.

    Raises `NotFound` for another developer's skill exactly as for one that does not exist, so
    a caller learns nothing about skills it does not own (rule 1).
    """
    skill = skills_repo.find_skill(conn, developer_id=developer_id, skill_id=skill_id)
    if skill is None:
        raise NotFound()
    return skill


def register_skill(
    conn: Conn, *, actor: audit.Actor, developer_id: int, name: str, category: str = "general"
) -> Row:
    """Register a skill for a developer (admins and operators); the new skill.

    Audited as `skill.registered` with the developer and skill ids (rule 7): its name stays out
    of the log. Raises `NotFound` for an unknown developer.
    """
    developers_repo.get_developer(conn, developer_id)
    skill_id = skills_repo.insert_skill(
        conn, developer_id=developer_id, name=name, category=category
    )
    audit.record(
        conn, actor=actor, action="skill.registered", developer_id=developer_id, skill_id=skill_id
    )
    skill = skills_repo.find_any_skill(conn, skill_id)
    assert skill is not None  # inserted just now, in this transaction
    return skill


def list_all_skills(
    conn: Conn, *, developer_id: int | None = None, after: str | None = None, limit: int = 50
) -> list[Row]:
    """Every developer's skills as admins see them, by id after `after`, optionally one
    developer's only."""
    return skills_repo.list_all_skills(conn, developer_id=developer_id, after=after, limit=limit)
