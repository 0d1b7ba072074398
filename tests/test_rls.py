"""Row-level security on its own: raw queries without the application's filters, as the app role."""

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from gateway.db import PooledDatabase, bind_principal
from gateway.models import ANONYMOUS, Principal


@pytest.fixture
def two_tenants(make):
    world = {}
    for label in ("a", "b"):
        developer = make.developer(tier="trusted")
        skill = make.skill(developer)
        user = make.user()
        make.consent(user, skill, granted_at=datetime.now(UTC) - timedelta(days=1))
        interaction = make.interaction(skill, user)
        world[label] = {
            "developer": developer,
            "skill": skill,
            "user": user,
            "interaction": interaction,
        }
    return world


def _as(conn, principal):
    bind_principal(conn, principal)


# No WHERE on the tenant: these queries are what a forgotten filter would run.
UNFILTERED = {
    "skills": "SELECT developer_id FROM skills",
    "interactions": "SELECT s.developer_id FROM interactions i JOIN skills s ON s.id = i.skill_id",
    "consents": "SELECT s.developer_id FROM consents c JOIN skills s ON s.id = c.skill_id",
    "developers": "SELECT id AS developer_id FROM developers",
    "tier_grants": "SELECT developer_id FROM tier_grants",
}


@pytest.mark.parametrize("table", sorted(UNFILTERED))
def test_a_developer_sees_only_its_own_rows(conn, two_tenants, table):
    a, b = two_tenants["a"], two_tenants["b"]
    _as(conn, Principal("developer", client_id="x", developer_id=a["developer"]))
    owners = {row["developer_id"] for row in conn.execute(UNFILTERED[table]).fetchall()}
    assert owners == {a["developer"]}
    assert b["developer"] not in owners


def test_users_visible_to_a_developer_are_only_its_consenting_users(conn, two_tenants):
    a = two_tenants["a"]
    _as(conn, Principal("developer", client_id="x", developer_id=a["developer"]))
    users = {str(r["id"]) for r in conn.execute("SELECT id FROM users").fetchall()}
    assert users == {a["user"]}


def test_no_caller_bound_means_no_rows_and_no_error(conn, two_tenants):
    _as(conn, ANONYMOUS)
    for query in UNFILTERED.values():
        assert conn.execute(query).fetchall() == []
    assert conn.execute("SELECT id FROM users").fetchall() == []


def test_a_developer_cannot_write_the_access_log_as_another(conn, two_tenants):
    a, b = two_tenants["a"], two_tenants["b"]
    _as(conn, Principal("developer", client_id="x", developer_id=a["developer"]))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with conn.transaction():
            conn.execute(
                """INSERT INTO access_log (developer_id, client_id, skill_id, interaction_id,
                   user_id, endpoint) VALUES (%s, 'x', %s, %s, %s, 'list')""",
                (b["developer"], b["skill"], b["interaction"], b["user"]),
            )


def test_a_developer_cannot_grant_itself_a_tier(conn, two_tenants):
    a = two_tenants["a"]
    _as(conn, Principal("developer", client_id="x", developer_id=a["developer"]))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with conn.transaction():
            conn.execute(
                "INSERT INTO tier_grants (developer_id, tier, reason, granted_by) "
                "VALUES (%s, 'trusted', 'me', 'me')",
                (a["developer"],),
            )


def test_bindings_do_not_leak_through_the_pool(committed_make, app_url):
    """A pooled connection that served developer A serves the next borrower nothing of A's."""
    developer = committed_make.developer(tier="trusted")
    committed_make.skill(developer)
    db = PooledDatabase(app_url, min_size=1, max_size=1)
    db.open(wait=True)
    try:
        for _ in range(50):
            with db.transaction(Principal("developer", client_id="x", developer_id=developer)) as c:
                assert len(c.execute("SELECT id FROM skills").fetchall()) == 1
            with db.transaction(ANONYMOUS) as c:
                assert c.execute("SELECT id FROM skills").fetchall() == []
                setting = c.execute("SELECT current_setting('gateway.developer_id', true) AS v")
                assert setting.fetchone()["v"] == ""
        # and a raw borrower that binds nothing at all also sees nothing
        with db.pool.connection() as raw:
            raw.row_factory = dict_row
            assert raw.execute("SELECT id FROM skills").fetchall() == []
    finally:
        db.close()
