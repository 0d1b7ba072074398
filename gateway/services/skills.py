"""Rule 1, own skills only: a developer reaches its own skills and nothing of anyone else's."""

from gateway.exceptions import NotFound
from gateway.models import Conn, Row
from gateway.repositories import skills as skills_repo


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
