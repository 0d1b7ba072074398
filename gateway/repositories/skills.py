"""Skills: the voice apps a developer publishes."""

from gateway.models import Conn, Row

# Rule 1, own skills only, as a clause of the developer read path's one statement (joined as
# `skills s` on `i.skill_id`). Row-level security on skills and interactions says it again.
OWN_SKILL = "i.skill_id = %(skill_id)s AND s.developer_id = %(developer_id)s"


def list_skills(conn: Conn, *, developer_id: int) -> list[Row]:
    """Return the developer's skills, oldest first."""
    return conn.execute(
        """
        SELECT id, name, category, created_at FROM skills
        WHERE developer_id = %(developer_id)s
        ORDER BY created_at, id
        """,
        {"developer_id": developer_id},
    ).fetchall()


def find_skill(conn: Conn, *, developer_id: int, skill_id: str) -> Row | None:
    """Return the skill if it exists and belongs to the developer, else None (rule 1)."""
    return conn.execute(
        """
        SELECT id, name, category, created_at FROM skills
        WHERE id = %(skill_id)s AND developer_id = %(developer_id)s
        """,
        {"skill_id": skill_id, "developer_id": developer_id},
    ).fetchone()


def insert_skill(conn: Conn, *, developer_id: int, name: str, category: str = "general") -> str:
    row = conn.execute(
        """
        INSERT INTO skills (developer_id, name, category)
        VALUES (%(developer_id)s, %(name)s, %(category)s)
        RETURNING id
        """,
        {"developer_id": developer_id, "name": name, "category": category},
    ).fetchone()
    assert row is not None
    return str(row["id"])


def existing_skill_ids(conn: Conn, skill_ids: list[str]) -> set[str]:
    """Which of `skill_ids` name a skill (as the platform sees them: every skill)."""
    rows = conn.execute(
        "SELECT id FROM skills WHERE id = ANY(%(ids)s::uuid[])", {"ids": skill_ids}
    ).fetchall()
    return {str(row["id"]) for row in rows}


def list_all_skills(
    conn: Conn,
    *,
    developer_id: int | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> list[Row]:
    """Every skill (as admins see them), by id after `after`, optionally one developer's."""
    return conn.execute(
        """
        SELECT id, developer_id, name, category, created_at FROM skills
        WHERE (%(developer_id)s::bigint IS NULL OR developer_id = %(developer_id)s)
          AND (%(after)s::uuid IS NULL OR id > %(after)s::uuid)
        ORDER BY id
        LIMIT %(limit)s
        """,
        {"developer_id": developer_id, "after": after, "limit": limit},
    ).fetchall()


def find_any_skill(conn: Conn, skill_id: str) -> Row | None:
    """The skill whoever owns it (as admins and the system see skills), or None."""
    return conn.execute(
        """
        SELECT id, developer_id, name, category, created_at FROM skills
        WHERE id = %(skill_id)s
        """,
        {"skill_id": skill_id},
    ).fetchone()
