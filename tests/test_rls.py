"""Row-level security on its own: raw queries without the application's filters, as the app role."""

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from factories import BINDING_KEY
from psycopg.rows import dict_row

from gateway.db import PooledDatabase, bind_principal
from gateway.models import ANONYMOUS, SYSTEM, Principal
from gateway.repositories import my_interactions as my_interactions_repo
from gateway.repositories import pseudonyms as pseudonyms_repo


@pytest.fixture
def two_tenants(make):
    world = {}
    for label in ("a", "b"):
        developer = make.developer(tier="trusted")
        skill = make.skill(developer)
        user = make.user()
        make.consent(user, skill, granted_at=datetime.now(UTC) - timedelta(days=1))
        interaction = make.interaction(skill, user)
        make.pseudonym(developer, f"user-pseudonym-{label}", user)
        make.read_logged(developer, f"dev_{label}", skill, interaction, user)
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
    "user_pseudonyms": "SELECT developer_id FROM user_pseudonyms",
    "access_log": "SELECT developer_id FROM access_log",
}


@pytest.mark.parametrize("table", sorted(UNFILTERED))
def test_a_developer_sees_only_its_own_rows(conn, two_tenants, table):
    a, b = two_tenants["a"], two_tenants["b"]
    _as(conn, Principal("developer", client_id="x", developer_id=a["developer"]))
    owners = {row["developer_id"] for row in conn.execute(UNFILTERED[table]).fetchall()}
    assert owners == {a["developer"]}
    assert b["developer"] not in owners


def test_a_developer_sees_only_its_own_interactions_without_any_join(conn, two_tenants):
    # joined with skills (above), the skills policy alone would already hide B's rows
    a = two_tenants["a"]
    _as(conn, Principal("developer", client_id="x", developer_id=a["developer"]))
    rows = conn.execute("SELECT id, skill_id FROM interactions").fetchall()
    assert {(str(r["id"]), str(r["skill_id"])) for r in rows} == {(a["interaction"], a["skill"])}


def test_another_developers_pseudonym_resolves_to_nobody(conn, two_tenants):
    a, b = two_tenants["a"], two_tenants["b"]
    _as(conn, Principal("developer", client_id="x", developer_id=a["developer"]))
    found = pseudonyms_repo.find_user_id(
        conn, developer_id=a["developer"], pseudonym="user-pseudonym-b"
    )
    assert found is None
    mine = pseudonyms_repo.find_user_id(
        conn, developer_id=a["developer"], pseudonym="user-pseudonym-a"
    )
    assert mine == a["user"]
    # the repository's own filter, with row-level security seeing every developer's pseudonyms
    _as(conn, SYSTEM)
    assert (
        pseudonyms_repo.find_user_id(
            conn, developer_id=a["developer"], pseudonym="user-pseudonym-b"
        )
        is None
    )
    assert (
        pseudonyms_repo.find_user_id(
            conn, developer_id=b["developer"], pseudonym="user-pseudonym-b"
        )
        == b["user"]
    )


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
    db = PooledDatabase(app_url, min_size=1, max_size=1, binding_key=BINDING_KEY)
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


_TENANT_ROWS = """
SELECT (SELECT count(*) FROM developers) + (SELECT count(*) FROM tier_grants)
       + (SELECT count(*) FROM skills) + (SELECT count(*) FROM users)
       + (SELECT count(*) FROM consents) + (SELECT count(*) FROM interactions)
       + (SELECT count(*) FROM user_pseudonyms) + (SELECT count(*) FROM access_log) AS n
"""


def test_the_next_borrower_inherits_nothing_from_a_developers_transaction(committed_make, app_url):
    """Right after a developer's committed transaction, a borrower that binds nothing sees
    nothing: every setting bind_principal made, proof included, ended with that transaction."""
    developer = committed_make.developer(tier="trusted")
    skill = committed_make.skill(developer)
    user = committed_make.user()
    committed_make.consent(user, skill)
    interaction = committed_make.interaction(skill, user)
    principal = Principal("developer", client_id="dev_x", developer_id=developer)
    db = PooledDatabase(app_url, min_size=1, max_size=1, binding_key=BINDING_KEY)
    db.open(wait=True)
    try:
        with db.transaction(principal) as c:
            assert c.execute(_TENANT_ROWS).fetchone()["n"] > 0
            # the developer's read path writes too: pseudonyms and the access log
            pseudonyms_repo.insert_pseudonyms(c, developer_id=developer, pairs=[("p", user)])
            c.execute(
                "INSERT INTO access_log (developer_id, client_id, skill_id, interaction_id,"
                " user_id, endpoint) VALUES (%s, 'dev_x', %s, %s, %s, 'list')",
                (developer, skill, interaction, user),
            )
        with db.pool.connection() as raw:  # the same connection: max_size=1
            raw.row_factory = dict_row
            assert raw.execute(_TENANT_ROWS).fetchone()["n"] == 0
            settings = raw.execute(
                """SELECT current_setting('gateway.role', true) AS role,
                          current_setting('gateway.developer_id', true) AS developer_id,
                          current_setting('gateway.client_id', true) AS client_id,
                          current_setting('gateway.caller_proof', true) AS proof"""
            ).fetchone()
            assert set(settings.values()) <= {"", None}
    finally:
        db.close()


def test_a_user_asking_for_another_users_interactions_gets_none(conn, two_tenants):
    a, b = two_tenants["a"], two_tenants["b"]
    _as(conn, Principal("user", client_id="app", user_id=a["user"]))

    def listed(user_id: str) -> list[str]:
        rows = my_interactions_repo.list_for_user(
            conn, user_id=user_id, skill_id=None, since=None, until=None, after=None, limit=10
        )
        return [str(row["id"]) for row in rows]

    assert listed(a["user"]) == [a["interaction"]]
    # the query's own filter named b: row-level security still shows a's rows only
    assert listed(b["user"]) == []
