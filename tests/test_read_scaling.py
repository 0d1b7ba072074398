"""The developer's page costs what its 50 rows cost, however large the skill's audience."""

import re
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import sql

from gateway import db
from gateway.models import Principal
from gateway.repositories import interactions as interactions_repo

# Enough consenting users that, were there no index to find a user's consents by (migration
# 0014), PostgreSQL would read and hash every consent of the skill for each page (it did so
# from a thousand users on), and the plan tells the two ways apart.
AUDIENCE = 60_000


def _add_audience(conn: psycopg.Connection, skill: str, size: int) -> None:
    """`size` more users consenting to `skill`, written by the server itself as the owner (the
    factories' one-by-one writes would take minutes), then the planner's statistics."""
    role = conn.execute("SELECT current_user AS role").fetchone()
    conn.execute("RESET ROLE")
    try:
        conn.execute(
            "INSERT INTO users (platform_user_id) "
            "SELECT 'audience-' || g FROM generate_series(1, %s) AS g",
            (size,),
        )
        conn.execute(
            "INSERT INTO consents (user_id, skill_id) "
            "SELECT id, %s FROM users WHERE platform_user_id LIKE 'audience-%%'",
            (skill,),
        )
        conn.execute("ANALYZE users")
        conn.execute("ANALYZE consents")
    finally:
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role["role"])))


def _page_plan(conn: psycopg.Connection, *, developer: int, skill: str, client: str) -> str:
    """EXPLAIN ANALYZE of the page statement as the read path runs it: as the app role with
    the developer bound, from its generic plan."""
    db.bind_principal(conn, Principal("developer", client_id=client, developer_id=developer))
    conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    query = interactions_repo._list_query((False,) * (len(interactions_repo._FILTERS) + 2))
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    statement = re.sub(r"%\((\w+)\)s", number, query.decode())
    values = {
        "developer_id": developer,
        "skill_id": skill,
        "not_before": datetime.now(UTC) - timedelta(days=30),
        "policy": "standard",
        "limit": 51,
    }
    conn.execute(f"PREPARE scaling_page AS {statement}")
    try:
        explain = "EXPLAIN (ANALYZE) EXECUTE scaling_page({})".format(
            ", ".join(["%s"] * len(names))
        )
        rows = psycopg.ClientCursor(conn).execute(explain, [values[n] for n in names]).fetchall()
    finally:
        conn.execute("DEALLOCATE scaling_page")
    return "\n".join(row["QUERY PLAN"] for row in rows)


@pytest.mark.slow
def test_the_page_looks_up_its_users_consents_not_the_whole_audience(conn, make):
    developer = make.developer(tier="standard")
    skill = make.skill(developer)
    client = make.client(developer_id=developer)
    reader = make.user()
    make.consent(reader, skill, granted_at=datetime.now(UTC) - timedelta(days=10))
    for _ in range(3):
        make.interaction(skill, reader)
    _add_audience(conn, skill, AUDIENCE)

    plan = _page_plan(conn, developer=developer, skill=skill, client=client.client_id)

    # the page: the reader's three (PostgreSQL 18 prints actual rows as "3.00")
    assert re.search(r"actual time=\S+ rows=3(\.00)? loops=1", plan.splitlines()[0]), plan
    assert "Seq Scan on consents" not in plan, plan
    assert re.search(r"Index Scan using consents_user_idx on consents", plan), plan
