"""What the app role may do in the database, history nobody rewrites, and writes that need proof.

The attacker here is SQL run as the app role on a connection of its own (what one injection
anywhere would be), setting every gateway.* setting it likes, proof included.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from factories import BINDING_KEY
from psycopg.rows import dict_row

from gateway.db import bind_principal, use_binding_key
from gateway.models import ANONYMOUS, SYSTEM, Principal
from gateway.repositories import access_log as access_log_repo
from gateway.repositories import authorization_codes as codes_repo
from gateway.repositories import consents as consents_repo
from gateway.repositories import developers as developers_repo
from gateway.repositories import interactions as interactions_repo
from gateway.repositories import oauth_tokens as tokens_repo
from gateway.repositories import pseudonyms as pseudonyms_repo
from gateway.repositories import skills as skills_repo
from gateway.repositories import users as users_repo
from gateway.services import audit
from gateway.services import oauth_clients as oauth_clients_service

MADE_UP_PROOF = "0123456789abcdef" * 4
NO_PRIVILEGE = "permission denied"
POLICY = "row-level security policy"


@dataclass(frozen=True)
class Tenant:
    developer: int
    skill: str
    user: str
    platform_user_id: str
    interaction: str
    client_id: str


@pytest.fixture
def tenants(committed_make) -> dict[str, Tenant]:
    """Two developers, each with a skill, a consenting user, an interaction and a client."""
    found = {}
    for label in ("a", "b"):
        developer = committed_make.developer(tier="standard")
        skill = committed_make.skill(developer)
        user = committed_make.user()
        committed_make.consent(user, skill, granted_at=datetime.now(UTC) - timedelta(days=3))
        interaction = committed_make.interaction(skill, user)
        client = committed_make.client(developer_id=developer)
        platform_user_id = committed_make.rows(
            "SELECT platform_user_id FROM users WHERE id = %s", (user,)
        )[0]["platform_user_id"]
        found[label] = Tenant(
            developer, skill, user, platform_user_id, interaction, client.client_id
        )
    return found


@pytest.fixture
def intruder(app_url) -> Iterator[psycopg.Connection]:
    """The app role on a connection of its own, without the app's binding key."""
    with psycopg.connect(app_url, autocommit=True, row_factory=dict_row) as conn:
        yield conn


def forge(conn, role, *, developer_id="", user_id="", client_id="", proof=MADE_UP_PROOF):
    """Set every gateway.* setting by hand, for the whole session, with a made-up proof."""
    for name, value in {
        "role": role,
        "developer_id": str(developer_id),
        "user_id": str(user_id),
        "client_id": client_id,
        "caller_proof": proof,
    }.items():
        conn.execute("SELECT set_config(%s, %s, false)", (f"gateway.{name}", value))


@contextmanager
def bound(conn, principal: Principal) -> Iterator[psycopg.Connection]:
    """One transaction bound the way the app binds it: with the real key's proof."""
    use_binding_key(conn, BINDING_KEY)
    with conn.transaction():
        bind_principal(conn, principal)
        yield conn


def refused(conn, error, match, query, params=None) -> None:
    with pytest.raises(error, match=match):
        with conn.transaction():
            conn.execute(query, params)


def developer_of(tenant: Tenant) -> Principal:
    return Principal("developer", client_id=tenant.client_id, developer_id=tenant.developer)


def count(owner_conn, query, params=None) -> int:
    return int(owner_conn.execute(query, params).fetchone()["n"])


# committed data (the intruder has a connection of its own), reset after each test
pytestmark = pytest.mark.committed


# --- the app role, settings forged: refused by privileges


def test_the_app_role_cannot_backdate_a_consent(intruder, tenants, owner_conn):
    a = tenants["a"]
    forge(intruder, "system")
    refused(
        intruder,
        psycopg.errors.InsufficientPrivilege,
        NO_PRIVILEGE,
        "UPDATE consents SET granted_at = granted_at - interval '1 year' WHERE user_id = %s",
        (a.user,),
    )
    assert (
        count(
            owner_conn,
            "SELECT count(*) AS n FROM consents WHERE granted_at < now() - interval '30 days'",
        )
        == 0
    )


def test_the_app_role_cannot_rewrite_a_tier(intruder, tenants):
    forge(intruder, "admin")
    refused(
        intruder,
        psycopg.errors.InsufficientPrivilege,
        NO_PRIVILEGE,
        "UPDATE tier_grants SET tier = 'trusted' WHERE developer_id = %s",
        (tenants["a"].developer,),
    )


@pytest.mark.parametrize(
    "table",
    [
        "consents",
        "tier_grants",
        "access_log",
        "interactions",
        "interaction_texts",
        "ingested_interactions",
        "session_pseudonyms",
        "webhook_deliveries",
        "deletion_receipts",
        "user_pseudonyms",
        "users",
        "developers",
        "skills",
        "oauth_clients",
        "oauth_tokens",
    ],
)
def test_the_app_role_deletes_nothing(intruder, tenants, table):
    forge(intruder, "system")
    refused(intruder, psycopg.errors.InsufficientPrivilege, NO_PRIVILEGE, f"DELETE FROM {table}")


@pytest.mark.parametrize(
    "table",
    [
        "consents",
        "tier_grants",
        "access_log",
        "interactions",
        "user_pseudonyms",
        "users",
        "developers",
        "skills",
        "oauth_clients",
        "oauth_tokens",
        "tiers",
        "schema_migrations",
    ],
)
def test_the_app_role_truncates_nothing(intruder, table):
    forge(intruder, "system")
    refused(intruder, psycopg.errors.InsufficientPrivilege, NO_PRIVILEGE, f"TRUNCATE {table}")


def test_the_app_role_cannot_set_when_a_read_happened(intruder, tenants):
    a = tenants["a"]
    forge(intruder, "developer", developer_id=a.developer, client_id=a.client_id)
    refused(
        intruder,
        psycopg.errors.InsufficientPrivilege,
        NO_PRIVILEGE,
        """INSERT INTO access_log (read_at, developer_id, client_id, skill_id, interaction_id,
                                   user_id, endpoint)
           VALUES (now() - interval '1 year', %s, %s, %s, %s, %s, 'list')""",
        (a.developer, a.client_id, a.skill, a.interaction, a.user),
    )


# --- the app role, settings forged: refused because the proof does not verify


def test_a_forged_admin_cannot_grant_a_tier(intruder, tenants, owner_conn):
    a = tenants["a"]
    for role in ("admin", "system"):
        forge(intruder, role)
        refused(
            intruder,
            psycopg.errors.InsufficientPrivilege,
            POLICY,
            "INSERT INTO tier_grants (developer_id, tier, reason, granted_by)"
            " VALUES (%s, 'trusted', 'me', 'me')",
            (a.developer,),
        )
    trusted = "SELECT count(*) AS n FROM tier_grants WHERE tier = 'trusted'"
    assert count(owner_conn, trusted) == 0


def test_a_real_proof_for_one_caller_proves_no_other(intruder, tenants):
    """A developer's valid proof, replayed with the settings of an admin, proves nothing."""
    a = tenants["a"]
    with bound(intruder, developer_of(a)):
        proof = intruder.execute("SELECT current_setting('gateway.caller_proof') AS p").fetchone()
    forge(intruder, "admin", developer_id=a.developer, client_id=a.client_id, proof=proof["p"])
    refused(
        intruder,
        psycopg.errors.InsufficientPrivilege,
        POLICY,
        "INSERT INTO tier_grants (developer_id, tier, reason, granted_by)"
        " VALUES (%s, 'trusted', 'me', 'me')",
        (a.developer,),
    )


def test_a_forged_admin_cannot_lift_a_suspension(intruder, tenants, committed_make, owner_conn):
    a = tenants["a"]
    committed_make.suspend(a.developer)
    forge(intruder, "admin")
    refused(
        intruder,
        psycopg.errors.InsufficientPrivilege,
        POLICY,
        "UPDATE developers SET suspended_at = NULL WHERE id = %s",
        (a.developer,),
    )
    suspended = "SELECT count(*) AS n FROM developers WHERE suspended_at IS NOT NULL"
    assert count(owner_conn, suspended) == 1


def test_a_forged_caller_cannot_grant_consent(intruder, tenants):
    a, b = tenants["a"], tenants["b"]
    insert = "INSERT INTO consents (user_id, skill_id) VALUES (%s, %s)"
    for role, user in (("system", ""), ("platform", ""), ("user", b.user)):
        forge(intruder, role, user_id=user)
        refused(intruder, psycopg.errors.InsufficientPrivilege, POLICY, insert, (b.user, a.skill))


def test_a_forged_platform_cannot_unmark_a_child_or_invent_a_user(
    intruder, tenants, committed_make, owner_conn
):
    child = committed_make.user(is_child=True)
    platform_user_id = owner_conn.execute(
        "SELECT platform_user_id FROM users WHERE id = %s", (child,)
    ).fetchone()["platform_user_id"]
    forge(intruder, "platform")
    refused(
        intruder,
        psycopg.errors.InsufficientPrivilege,
        POLICY,
        """INSERT INTO users (platform_user_id, is_child) VALUES (%s, false)
           ON CONFLICT (platform_user_id) DO UPDATE SET is_child = EXCLUDED.is_child""",
        (platform_user_id,),
    )
    refused(
        intruder,
        psycopg.errors.InsufficientPrivilege,
        POLICY,
        "UPDATE users SET is_child = false WHERE id = %s",
        (child,),
    )
    # nor invent a user (an adult profile) to hang consents and interactions on
    refused(
        intruder,
        psycopg.errors.InsufficientPrivilege,
        POLICY,
        "INSERT INTO users (platform_user_id) VALUES ('forged-adult')",
    )
    assert count(owner_conn, "SELECT count(*) AS n FROM users WHERE is_child") == 1


def test_a_forged_caller_cannot_add_interactions_skills_or_pseudonyms(intruder, tenants):
    a, b = tenants["a"], tenants["b"]
    forge(intruder, "platform")
    refused(
        intruder,
        psycopg.errors.InsufficientPrivilege,
        POLICY,
        "INSERT INTO interactions (skill_id, user_id, occurred_at) VALUES (%s, %s, now())",
        (a.skill, a.user),
    )
    forge(intruder, "admin")
    refused(
        intruder,
        psycopg.errors.InsufficientPrivilege,
        POLICY,
        "INSERT INTO skills (developer_id, name) VALUES (%s, 'forged')",
        (a.developer,),
    )
    forge(intruder, "developer", developer_id=b.developer, client_id=b.client_id)
    refused(
        intruder,
        psycopg.errors.InsufficientPrivilege,
        POLICY,
        "INSERT INTO user_pseudonyms (developer_id, pseudonym, user_id) VALUES (%s, 'p', %s)",
        (b.developer, a.user),
    )


_LOG_READ = """
INSERT INTO access_log (developer_id, client_id, skill_id, interaction_id, user_id, endpoint)
VALUES (%s, %s, %s, %s, %s, 'interaction')
"""


def test_no_access_log_row_for_another_developer(intruder, tenants, owner_conn):
    a, b = tenants["a"], tenants["b"]
    row_of_b = (b.developer, b.client_id, b.skill, b.interaction, b.user)
    # A, bound for real, writing B's row
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match=POLICY):
        with bound(intruder, developer_of(a)):
            intruder.execute(_LOG_READ, row_of_b)
    # settings claiming to be B, or the system, without B's proof
    forge(intruder, "developer", developer_id=b.developer, client_id=b.client_id)
    refused(intruder, psycopg.errors.InsufficientPrivilege, POLICY, _LOG_READ, row_of_b)
    forge(intruder, "system")
    refused(intruder, psycopg.errors.InsufficientPrivilege, POLICY, _LOG_READ, row_of_b)
    assert count(owner_conn, "SELECT count(*) AS n FROM access_log") == 0


def test_no_access_log_row_for_the_developer_with_another_client(intruder, tenants, owner_conn):
    a = tenants["a"]
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match=POLICY):
        with bound(intruder, developer_of(a)):
            intruder.execute(
                _LOG_READ, (a.developer, "dev_someone_else", a.skill, a.interaction, a.user)
            )
    assert count(owner_conn, "SELECT count(*) AS n FROM access_log") == 0


def test_no_access_log_row_for_a_skill_not_the_developers_own(intruder, tenants, owner_conn):
    # the access log has no foreign key to skills: this policy is what refuses a bogus skill
    a, b = tenants["a"], tenants["b"]
    for skill in (b.skill, str(uuid.uuid4())):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match=POLICY):
            with bound(intruder, developer_of(a)):
                intruder.execute(
                    _LOG_READ, (a.developer, a.client_id, skill, a.interaction, a.user)
                )
    with bound(intruder, developer_of(a)):
        intruder.execute(_LOG_READ, (a.developer, a.client_id, a.skill, a.interaction, a.user))
    assert count(owner_conn, "SELECT count(*) AS n FROM access_log") == 1


def test_a_forged_admin_cannot_issue_a_client(intruder):
    forge(intruder, "admin")
    refused(
        intruder,
        psycopg.errors.InsufficientPrivilege,
        "verified admin or system",
        "INSERT INTO oauth_clients (client_id, secret_hash, kind, scopes)"
        " VALUES ('adm_forged', 'x', 'admin', '{admin}')",
    )


def test_a_revoked_credential_stays_revoked(intruder, tenants, owner_conn, committed_make):
    a = tenants["a"]
    committed_make.rows(
        "UPDATE oauth_clients SET revoked_at = now() WHERE client_id = %s RETURNING client_id",
        (a.client_id,),
    )
    forge(intruder, "system")
    refused(
        intruder,
        psycopg.errors.RestrictViolation,
        "only an unrevoked credential",
        "UPDATE oauth_clients SET revoked_at = NULL WHERE client_id = %s",
        (a.client_id,),
    )
    owner_conn.execute(
        "INSERT INTO oauth_tokens (token_digest, client_id, scopes, issued_at, expires_at,"
        " revoked_at) VALUES ('d', %s, '{x}', now(), now() + interval '1 hour', now())",
        (a.client_id,),
    )
    refused(
        intruder,
        psycopg.errors.RestrictViolation,
        "only an unrevoked credential",
        "UPDATE oauth_tokens SET revoked_at = NULL WHERE token_digest = 'd'",
    )


def test_a_forged_admin_cannot_rotate_or_revoke_a_client(intruder, tenants, owner_conn):
    a = tenants["a"]
    forge(intruder, "admin")
    # a secret hash of the intruder's choosing would be a way into the client
    refused(
        intruder,
        psycopg.errors.InsufficientPrivilege,
        "verified admin or system",
        "UPDATE oauth_clients SET secret_hash = 'sha256$x$y', secret_version = secret_version + 1,"
        " previous_secret_hash = NULL, previous_secret_expires_at = NULL, rotated_at = now()"
        " WHERE client_id = %s",
        (a.client_id,),
    )
    refused(
        intruder,
        psycopg.errors.InsufficientPrivilege,
        "verified admin or system",
        "UPDATE oauth_clients SET revoked_at = now() WHERE client_id = %s",
        (a.client_id,),
    )
    row = owner_conn.execute(
        "SELECT secret_version, revoked_at FROM oauth_clients WHERE client_id = %s",
        (a.client_id,),
    ).fetchone()
    assert row == {"secret_version": 1, "revoked_at": None}


@pytest.mark.parametrize(
    "assignment, match",
    [
        # skipping a version, keeping a hash it never had, backdating, a version without a secret
        # (other columns have no UPDATE grant at all)
        (
            "secret_hash = 'sha256$a$b', secret_version = secret_version + 2, rotated_at = now()",
            "next secret version",
        ),
        (
            "secret_hash = 'sha256$a$b', secret_version = secret_version + 1,"
            " previous_secret_hash = 'sha256$planted$x',"
            " previous_secret_expires_at = now() + interval '1 day', rotated_at = now()",
            "next secret version",
        ),
        (
            "secret_hash = 'sha256$a$b', secret_version = secret_version + 1,"
            " rotated_at = now() - interval '1 day'",
            "next secret version",
        ),
        ("secret_version = secret_version + 1, rotated_at = now()", "next secret version"),
    ],
)
def test_a_verified_admin_only_rotates_as_a_rotation_goes(intruder, tenants, assignment, match):
    with pytest.raises(psycopg.errors.RestrictViolation, match=match):
        with bound(intruder, Principal("admin", client_id="adm_x")):
            intruder.execute(
                f"UPDATE oauth_clients SET {assignment} WHERE client_id = %s",  # noqa: S608
                (tenants["a"].client_id,),
            )


# --- correctly bound callers: refused only what would rewrite history


def test_a_bound_caller_cannot_backdate_a_consent_either(intruder, tenants, owner_conn):
    a, b = tenants["a"], tenants["b"]
    platform = Principal("platform", client_id="pla_x")
    with pytest.raises(psycopg.errors.RestrictViolation, match="granted as of now"):
        with bound(intruder, platform):
            consents_repo.insert_consent(
                intruder,
                user_id=b.user,
                skill_id=a.skill,
                granted_at=datetime(2020, 1, 1, tzinfo=UTC),
            )
    with pytest.raises(psycopg.errors.RestrictViolation, match="revoked as of now"):
        with bound(intruder, platform):
            consents_repo.update_revoked(
                intruder,
                user_id=a.user,
                skill_id=a.skill,
                revoked_at=datetime.now(UTC) - timedelta(days=2),
            )
    assert count(owner_conn, "SELECT count(*) AS n FROM consents WHERE revoked_at IS NULL") == 2


def test_a_bound_caller_does_what_the_code_does(intruder, tenants, owner_conn):
    a = tenants["a"]
    admin = Principal("admin", client_id="adm_x")
    platform = Principal("platform", client_id="pla_x")
    with bound(intruder, SYSTEM):
        developer = developers_repo.insert_developer(intruder, name="Bound Inc.")
        developers_repo.insert_tier_grant(
            intruder, developer_id=developer, tier="standard", reason="r", granted_by="system"
        )
        skill = skills_repo.insert_skill(intruder, developer_id=developer, name="Bound skill")
        old_user = users_repo.upsert_user(intruder, platform_user_id="bound-user-1")
        # importing history: only the system caller records a consent in the past
        consents_repo.insert_consent(
            intruder, user_id=old_user, skill_id=skill, granted_at=datetime(2020, 1, 1, tzinfo=UTC)
        )
        consents_repo.update_revoked(
            intruder, user_id=old_user, skill_id=skill, revoked_at=datetime(2021, 1, 1, tzinfo=UTC)
        )
    with bound(intruder, admin):
        developers_repo.insert_tier_grant(
            intruder, developer_id=developer, tier="trusted", reason="audited", granted_by="adm_x"
        )
        developers_repo.update_suspension(intruder, developer, suspended=True)
        developers_repo.update_suspension(intruder, developer, suspended=False)
        issued = oauth_clients_service.register_client(
            intruder, actor=audit.SYSTEM, kind="developer", developer_id=developer
        )
    with bound(intruder, platform):
        user = users_repo.upsert_user(intruder, platform_user_id="bound-user-2")
        users_repo.upsert_user(intruder, platform_user_id="bound-user-2", is_child=True)
        consents_repo.insert_consent(intruder, user_id=user, skill_id=skill)
        moment = datetime.now(UTC)
        interaction = str(uuid.uuid4())
        interactions_repo.ensure_months(intruder, [moment])
        interactions_repo.insert_ledger(intruder, [("bound-1", interaction, moment, "digest")])
        interactions_repo.insert_interactions(
            intruder,
            [
                {
                    "id": interaction,
                    "skill_id": skill,
                    "user_id": user,
                    "occurred_at": moment,
                    "device_serial": "GVA-1",
                    "slots": {},
                }
            ],
        )
        interactions_repo.store_audio_reference(
            intruder, interaction_id=interaction, occurred_at=moment, ref="s3://x"
        )
        assert consents_repo.update_revoked(intruder, user_id=user, skill_id=skill)
        assert not consents_repo.update_revoked(intruder, user_id=user, skill_id=skill)
    with bound(intruder, developer_of(a)):
        pseudonyms_repo.insert_pseudonyms(
            intruder, developer_id=a.developer, pairs=[("p1", a.user)]
        )
        access_log_repo.insert_reads(
            intruder,
            developer_id=a.developer,
            client_id=a.client_id,
            skill_id=a.skill,
            endpoint="list",
            reads=[(a.interaction, a.user)],
        )
    # the token endpoint, bound as the client whose secret checked out
    with bound(
        intruder, Principal("developer", client_id=issued.client_id, developer_id=developer)
    ):
        now = datetime.now(UTC)
        tokens_repo.insert_token(
            intruder,
            digest="digest-1",
            client_id=issued.client_id,
            scopes=["transcripts:read"],
            issued_at=now,
            expires_at=now + timedelta(hours=1),
        )
        assert tokens_repo.update_revoked(intruder, "digest-1", client_id=issued.client_id)
        # a second revocation finds nothing left to revoke (and changes nothing)
        assert tokens_repo.update_revoked(intruder, "digest-1", client_id=issued.client_id) is None

    counts = owner_conn.execute(
        """
        SELECT (SELECT count(*) FROM tier_grants WHERE developer_id = %(d)s) AS grants,
               (SELECT count(*) FROM consents c JOIN skills s ON s.id = c.skill_id
                WHERE s.developer_id = %(d)s AND revoked_at IS NOT NULL) AS revoked,
               (SELECT count(*) FROM interactions WHERE id = %(i)s) AS interactions,
               (SELECT count(*) FROM access_log) AS reads,
               (SELECT count(*) FROM user_pseudonyms) AS pseudonyms,
               (SELECT count(*) FROM oauth_tokens WHERE revoked_at IS NOT NULL) AS revoked_tokens
        """,
        {"d": developer, "i": interaction},
    ).fetchone()
    assert counts == {
        "grants": 2,
        "revoked": 2,
        "interactions": 1,
        "reads": 1,
        "pseudonyms": 1,
        "revoked_tokens": 1,
    }


# --- the owner: history is append-only for every role


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE tier_grants SET tier = 'trusted'",
        "DELETE FROM tier_grants WHERE false",
        # CASCADE: tier requests and recorded expiries point at grants
        "TRUNCATE tier_grants CASCADE",
        "UPDATE access_log SET endpoint = endpoint",
        "DELETE FROM access_log WHERE false",
        "TRUNCATE access_log",
        "DELETE FROM consents WHERE false",
        "TRUNCATE consents",
        "DELETE FROM users",  # cascades into consents
        "DELETE FROM tiers WHERE false",
        "TRUNCATE tiers CASCADE",
        "UPDATE tiers SET name = 'gold' WHERE name = 'trusted'",
        "DELETE FROM tier_requests WHERE false",
        "TRUNCATE tier_requests",
        "UPDATE tier_grant_expiries SET recorded_at = now()",
        "DELETE FROM tier_grant_expiries WHERE false",
        "TRUNCATE tier_grant_expiries",
    ],
)
def test_the_owner_cannot_rewrite_history(owner_conn, tenants, statement):
    a = tenants["a"]
    owner_conn.execute(_LOG_READ, (a.developer, a.client_id, a.skill, a.interaction, a.user))
    with pytest.raises(psycopg.errors.RestrictViolation, match="is history"):
        owner_conn.execute(statement)
    assert count(owner_conn, "SELECT count(*) AS n FROM tier_grants") == 2
    assert count(owner_conn, "SELECT count(*) AS n FROM access_log") == 1
    assert count(owner_conn, "SELECT count(*) AS n FROM consents") == 2


@pytest.mark.parametrize(
    ("statement", "match"),
    [
        ("UPDATE consents SET granted_at = granted_at - interval '1 year'", "only revoked_at"),
        ("UPDATE consents SET categories = '{health}'", "only revoked_at"),
        ("UPDATE consents SET revoked_at = now() - interval '1 day'", "revoked as of now"),
    ],
)
def test_the_owner_only_closes_a_consent_as_of_now(owner_conn, tenants, statement, match):
    with pytest.raises(psycopg.errors.RestrictViolation, match=match):
        owner_conn.execute(statement)
    owner_conn.execute("UPDATE consents SET revoked_at = now()")
    with pytest.raises(psycopg.errors.RestrictViolation, match="already revoked"):
        owner_conn.execute("UPDATE consents SET revoked_at = now()")


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO consents (user_id, skill_id, granted_at) VALUES (%(user)s, %(other_skill)s,"
        " now() - interval '1 day')",
        "INSERT INTO tier_grants (developer_id, tier, reason, granted_by, granted_at)"
        " VALUES (%(developer)s, 'trusted', 'r', 'owner', now() - interval '1 day')",
        "INSERT INTO access_log (read_at, developer_id, client_id, skill_id, interaction_id,"
        " user_id, endpoint) VALUES (now() - interval '1 day', %(developer)s, %(client)s,"
        " %(skill)s, %(interaction)s, %(user)s, 'list')",
    ],
)
def test_the_owner_cannot_record_the_past(owner_conn, tenants, statement):
    a, b = tenants["a"], tenants["b"]
    params = {
        "user": a.user,
        "developer": a.developer,
        "client": a.client_id,
        "skill": a.skill,
        "other_skill": b.skill,
        "interaction": a.interaction,
    }
    with pytest.raises(psycopg.errors.RestrictViolation, match="as of now"):
        owner_conn.execute(statement, params)


# --- the catalog: exactly these privileges, so a new broad grant fails here

TABLES = {
    "access_log": {"SELECT"},
    "consents": {"SELECT"},
    "developers": {"SELECT"},
    "oauth_clients": {"SELECT"},
    "oauth_tokens": {"SELECT"},
    # rate-limit counters (0003): no tenant data, rows come and go with the windows
    "rate_limits": {"SELECT", "INSERT", "UPDATE", "DELETE"},
    "schema_migrations": {"SELECT"},
    "skills": {"SELECT"},
    "tier_grants": {"SELECT"},
    "tiers": {"SELECT"},
    "user_pseudonyms": {"SELECT"},
    "users": {"SELECT"},
    "interaction_texts": {"SELECT"},
    "ingested_interactions": {"SELECT"},
    "user_profiles": {"SELECT"},
    "session_pseudonyms": {"SELECT"},
    "developer_webhooks": {"SELECT"},
    "webhook_deliveries": {"SELECT"},
    "audit_events": {"SELECT"},
    "skill_stats_weeks": {"SELECT"},
    # written by gateway_delete_interactions only
    "deletion_receipts": {"SELECT"},
    "tier_requests": {"SELECT"},
    "tier_grant_expiries": {"SELECT"},
    # 0009: sign-in
    "user_credentials": {"SELECT"},
    "activation_links": {"SELECT"},
    "authorization_codes": {"SELECT"},
    "admin_accounts": {"SELECT"},
    "web_sessions": {"SELECT"},
}
COLUMNS = {
    ("access_log", "INSERT"): "developer_id client_id skill_id interaction_id user_id endpoint",
    ("consents", "INSERT"): "user_id skill_id categories granted_at",
    ("consents", "UPDATE"): "revoked_at",
    ("developers", "INSERT"): "name contact_email",
    ("developers", "UPDATE"): "suspended_at",
    ("interactions", "INSERT"): "id skill_id user_id session_id occurred_at"
    " utterance response intent slots outcome order_ref sensitive_category device_serial",
    ("interactions", "SELECT"): "id skill_id user_id session_id"
    " occurred_at utterance response intent slots outcome order_ref sensitive_category created_at",
    ("interaction_texts", "INSERT"): "interaction_id occurred_at skill_id policy version utterance"
    " response slots utterance_ref_hidden response_ref_hidden slots_ref_hidden",
    ("interaction_texts", "UPDATE"): "version utterance response slots utterance_ref_hidden"
    " response_ref_hidden slots_ref_hidden",
    ("ingested_interactions", "INSERT"): "platform_interaction_id interaction_id occurred_at"
    " content_digest",
    ("user_profiles", "INSERT"): "user_id locale email display_name",
    ("user_profiles", "UPDATE"): "locale email display_name updated_at",
    ("session_pseudonyms", "INSERT"): "developer_id pseudonym skill_id session_id",
    ("developer_webhooks", "INSERT"): "developer_id url secret_ciphertext",
    ("developer_webhooks", "UPDATE"): "url secret_ciphertext previous_secret_ciphertext"
    " previous_secret_expires_at updated_at",
    ("webhook_deliveries", "INSERT"): "id developer_id event_type payload user_id deletion_id",
    ("audit_events", "INSERT"): "actor_kind actor_id action developer_id skill_id subject details",
    ("skill_stats_weeks", "INSERT"): "skill_id week k published",
    ("webhook_deliveries", "UPDATE"): "status attempts next_attempt_at last_status last_error"
    " delivered_at",
    ("oauth_clients", "INSERT"): "client_id secret_hash kind developer_id scopes name"
    " redirect_uris",
    # 0008: revocation, and the rotation of a secret (a verified admin or the system only)
    ("oauth_clients", "UPDATE"): "revoked_at secret_hash secret_version previous_secret_hash"
    " previous_secret_expires_at rotated_at",
    ("oauth_tokens", "INSERT"): "token_digest client_id scopes issued_at expires_at"
    " secret_version user_id authorization_code_id",
    ("oauth_tokens", "UPDATE"): "revoked_at",
    ("skills", "INSERT"): "developer_id name category",
    ("tier_grants", "INSERT"): "developer_id tier reason granted_by expires_at",
    ("tiers", "INSERT"): "name transcripts_readable fields retention_days redaction_policy"
    " page_size rate_limit k_threshold description stats_weeks recertify_days",
    ("tiers", "UPDATE"): "transcripts_readable fields retention_days redaction_policy"
    " page_size rate_limit k_threshold description stats_weeks recertify_days",
    ("tier_requests", "INSERT"): "developer_id tier purpose accepted_terms terms_version",
    ("tier_requests", "UPDATE"): "status decided_by decision_reason grant_id",
    ("tier_grant_expiries", "INSERT"): "grant_id developer_id",
    ("user_pseudonyms", "INSERT"): "developer_id pseudonym user_id",
    ("users", "INSERT"): "platform_user_id is_child",
    ("users", "UPDATE"): "is_child",
    # 0009: sign-in
    ("user_credentials", "INSERT"): "user_id password_hash",
    ("user_credentials", "UPDATE"): "password_hash updated_at",
    ("activation_links", "INSERT"): "token_digest user_id expires_at",
    ("activation_links", "UPDATE"): "used_at",
    ("authorization_codes", "INSERT"): "code_digest client_id user_id redirect_uri"
    " code_challenge code_challenge_method scopes expires_at",
    ("authorization_codes", "UPDATE"): "used_at",
    ("admin_accounts", "INSERT"): "name password_hash totp_ciphertext",
    ("admin_accounts", "UPDATE"): "password_hash last_totp_step disabled_at",
    ("web_sessions", "INSERT"): "id_digest kind user_id admin_id pending expires_at",
    ("web_sessions", "UPDATE"): "ended_at pending",
}
# The app role's own grants and PUBLIC's, which it has too; the system catalogs aside.
_GRANTEES = "a.grantee IN ('gateway_app'::regrole, 0)"
_USER_SCHEMAS = "n.nspname NOT IN ('pg_catalog', 'information_schema')"


@pytest.mark.parametrize("scope", ["tables", "columns", "functions", "schemas"])
def test_the_app_role_has_exactly_the_privileges_the_code_uses(owner_conn, scope):
    if scope == "tables":
        rows = owner_conn.execute(
            f"""
            SELECT n.nspname || '.' || c.relname AS name, a.privilege_type AS privilege
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
                 aclexplode(c.relacl) a
            WHERE {_GRANTEES} AND {_USER_SCHEMAS}
            """
        ).fetchall()
        found: dict[object, object] = {}
        for row in rows:
            found.setdefault(row["name"], set()).add(row["privilege"])
        assert found == {f"public.{t}": privileges for t, privileges in TABLES.items()}
    elif scope == "columns":
        rows = owner_conn.execute(
            f"""
            SELECT n.nspname || '.' || c.relname AS name, a.privilege_type AS privilege,
                   att.attname AS col
            FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid
                 JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(att.attacl) a
            WHERE {_GRANTEES} AND {_USER_SCHEMAS}
            """
        ).fetchall()
        found = {}
        for row in rows:
            found.setdefault((row["name"], row["privilege"]), set()).add(row["col"])
        assert found == {
            (f"public.{t}", p): set(columns.split()) for (t, p), columns in COLUMNS.items()
        }
    elif scope == "functions":
        # the only functions that run with more privilege than their caller: the proof check,
        # and the platform's two writes it cannot make itself (each checks the proof)
        rows = owner_conn.execute(
            f"""
            SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE p.prosecdef AND {_USER_SCHEMAS}
              AND has_function_privilege('gateway_app', p.oid, 'EXECUTE')
              AND has_schema_privilege('gateway_app', n.oid, 'USAGE')
            """
        ).fetchall()
        assert sorted(r["proname"] for r in rows) == [
            "gateway_audit_seal",
            "gateway_binding_ok",
            "gateway_delete_interactions",
            "gateway_ensure_interaction_month",
            "gateway_skill_stats",
            "gateway_store_audio_reference",
        ]
    else:
        rows = owner_conn.execute(
            """
            SELECT n.nspname, has_schema_privilege('gateway_app', n.oid, 'USAGE') AS usage,
                   has_schema_privilege('gateway_app', n.oid, 'CREATE') AS create
            FROM pg_namespace n
            WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
            """
        ).fetchall()
        assert {r["nspname"]: (r["usage"], r["create"]) for r in rows} == {
            "public": (True, False),
            "vault": (False, False),
            "gateway_private": (False, False),
        }
        sequences = owner_conn.execute(
            "SELECT count(*) AS n FROM pg_class c WHERE c.relkind = 'S'"
            " AND (has_sequence_privilege('gateway_app', c.oid, 'USAGE')"
            "      OR has_sequence_privilege('gateway_app', c.oid, 'UPDATE'))"
        ).fetchone()
        assert sequences["n"] == 0


# --- the deletion path: the one way interactions leave, for the proven caller only


DELETE_CALL = "SELECT * FROM gateway_delete_interactions(%s, NULL, NULL)"


@pytest.mark.parametrize("role", ["user", "platform", "system"])
def test_a_forged_caller_cannot_delete_anyones_interactions(intruder, tenants, owner_conn, role):
    a = tenants["a"]
    forge(intruder, role, user_id=a.user if role == "user" else "", client_id="c")
    refused(
        intruder, psycopg.errors.InsufficientPrivilege, "deletes a user", DELETE_CALL, (a.user,)
    )
    assert count(owner_conn, "SELECT count(*) AS n FROM interactions") == 2


def test_a_proven_user_deletes_only_their_own(intruder, tenants, owner_conn):
    a, b = tenants["a"], tenants["b"]
    use_binding_key(intruder, BINDING_KEY)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with bound(intruder, Principal("user", client_id="app", user_id=a.user)):
            intruder.execute(DELETE_CALL, (b.user,))
    with bound(intruder, Principal("user", client_id="app", user_id=a.user)):
        (row,) = intruder.execute(DELETE_CALL, (a.user,)).fetchall()
    assert row["deleted"] == 1
    left = owner_conn.execute("SELECT user_id FROM interactions").fetchall()
    assert [str(r["user_id"]) for r in left] == [b.user]


def test_a_proven_developer_or_admin_deletes_nothing(intruder, tenants, owner_conn):
    a = tenants["a"]
    for principal in (developer_of(a), Principal("admin", client_id="admin-1")):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with bound(intruder, principal):
                intruder.execute(DELETE_CALL, (a.user,))
    assert count(owner_conn, "SELECT count(*) AS n FROM interactions") == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE deletion_receipts SET interactions = 0",
        "DELETE FROM deletion_receipts",
        "TRUNCATE deletion_receipts",
    ],
)
def test_nobody_rewrites_a_deletion_receipt(owner_conn, statement):
    with pytest.raises(psycopg.errors.RestrictViolation, match="history"):
        owner_conn.execute(statement)


def test_a_token_is_stored_only_for_the_verified_client_and_a_user_only_with_their_code(
    intruder, tenants, owner_conn
):
    a, b = tenants["a"], tenants["b"]
    now = datetime.now(UTC)

    def mint(principal: Principal, client_id: str, **extra: object) -> None:
        with bound(intruder, principal):
            tokens_repo.insert_token(
                intruder,
                digest=f"digest-{uuid.uuid4().hex}",
                client_id=client_id,
                scopes=["transcripts:read"],
                issued_at=now,
                expires_at=now + timedelta(hours=1),
                **extra,
            )

    before = count(owner_conn, "SELECT count(*) AS n FROM oauth_tokens")
    for principal in (ANONYMOUS, developer_of(b), Principal("platform", client_id="pla_x")):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="verified client"):
            mint(principal, a.client_id)
    # a's own client may have a token for itself, but not one for a user without their code
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="live code"):
        mint(developer_of(a), a.client_id, user_id=a.user)
    forge(intruder, "developer", developer_id=a.developer, client_id=a.client_id)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="verified client"):
        with intruder.transaction():
            tokens_repo.insert_token(
                intruder,
                digest="forged",
                client_id=a.client_id,
                scopes=["transcripts:read"],
                issued_at=now,
                expires_at=now + timedelta(hours=1),
            )
    # a code of user b's, exchanged by the client it was issued to: a token for b, never for a
    with bound(intruder, Principal("user", user_id=b.user)):
        code = codes_repo.insert_code(
            intruder,
            digest="c" * 64,
            client_id=a.client_id,
            user_id=b.user,
            redirect_uri="https://app.example/callback",
            code_challenge="x" * 43,
            code_challenge_method="S256",
            scopes=["privacy"],
            expires_at=now + timedelta(minutes=1),
        )
    exchanging = Principal("app", client_id=a.client_id)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="live code"):
        mint(exchanging, a.client_id, user_id=a.user, authorization_code_id=code)
    assert count(owner_conn, "SELECT count(*) AS n FROM oauth_tokens") == before
    mint(developer_of(a), a.client_id)
    mint(exchanging, a.client_id, user_id=b.user, authorization_code_id=code)
    assert count(owner_conn, "SELECT count(*) AS n FROM oauth_tokens") == before + 2
