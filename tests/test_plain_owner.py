"""The functions that run as the owner (the audit sealer, the stats count) on a database whose
owner is not a superuser, as in production: FORCE subjects the owner to row-level security, so
they work only through the owner policies migration 0005 gives them."""

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from factories import BINDING_KEY, Factory
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from gateway import migrate
from gateway.db import bind_principal, use_binding_key
from gateway.models import SYSTEM, Principal
from gateway.repositories import stats as stats_repo
from gateway.services import audit
from gateway.services.stats import closed_weeks

OWNER = "gateway_test_plain_owner"


@pytest.fixture(scope="module")
def plain_owner_url(owner_url: str) -> Iterator[str]:
    name = f"gateway_plain_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(owner_url, autocommit=True) as admin:
        try:
            admin.execute(
                sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE").format(
                    sql.Identifier(OWNER)
                )
            )
        except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
            pass  # another test worker made it first
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(OWNER)
            )
        )
    url = make_conninfo(owner_url, dbname=name, user=OWNER)
    migrate.upgrade(url, binding_key=BINDING_KEY)
    yield url
    with psycopg.connect(owner_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def app_conn(plain_owner_url: str) -> Iterator[psycopg.Connection]:
    app_url = make_conninfo(plain_owner_url, user=migrate.APP_ROLE)
    with psycopg.connect(app_url, autocommit=True, row_factory=dict_row) as connection:
        use_binding_key(connection, BINDING_KEY)
        with connection.transaction(force_rollback=True):
            yield connection


def test_the_owner_here_is_not_a_superuser(app_conn):
    row = app_conn.execute(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", (OWNER,)
    ).fetchone()
    assert row == {"rolsuper": False, "rolbypassrls": False}


def test_the_sealer_seals_and_the_chain_verifies(app_conn):
    bind_principal(app_conn, SYSTEM)
    for n in range(3):
        audit.record(
            app_conn, actor=audit.Actor.operator("alice"), action="tier.changed", subject=f"t{n}"
        )

    # the sealer does not depend on who calls it: a caller that may not read the log at all
    bind_principal(app_conn, Principal("anonymous"))
    assert audit.seal(app_conn) == 3
    bind_principal(app_conn, SYSTEM)
    verdict = audit.verify_audit_chain(app_conn)
    assert verdict.ok and verdict.rows == 3 and verdict.unsealed == 0


def test_the_owner_itself_is_refused_rewriting_and_sees_nothing_without_a_caller(
    plain_owner_url,
):
    with psycopg.connect(plain_owner_url, row_factory=dict_row) as owner:
        use_binding_key(owner, BINDING_KEY)
        with owner.transaction(force_rollback=True):
            bind_principal(owner, SYSTEM)
            audit.record(owner, actor=audit.SYSTEM, action="tier.changed")
            audit.seal(owner)
            bind_principal(owner, Principal("anonymous"))
            assert owner.execute("SELECT * FROM audit_events").fetchall() == []
            for statement in ("DELETE FROM audit_events", "TRUNCATE audit_events"):
                with pytest.raises(psycopg.errors.RestrictViolation), owner.transaction():
                    owner.execute(statement)


def test_the_stats_count_sees_every_adult_and_no_child(app_conn):
    make = Factory(app_conn)
    developer = make.developer(tier="none")
    skill = make.skill(developer)
    at = datetime.combine(closed_weeks(datetime.now(UTC), 1)[0], datetime.min.time(), UTC)
    consenting, silent, child = make.user(), make.user(), make.user(is_child=True)
    make.consent(consenting, skill, granted_at=at - timedelta(days=30))
    for user in (consenting, silent, child):
        make.interaction(skill, user, occurred_at=at + timedelta(hours=1), intent="OrderPizza")
    bind_principal(app_conn, Principal("developer", client_id="dev_x", developer_id=developer))

    rows = stats_repo.count_by_week(
        app_conn, skill_id=skill, since=at, until=at + timedelta(days=7)
    )

    total = next(r for r in rows if r["dimension"] == "week")
    assert (total["interactions"], total["users"]) == (2, 2)


@pytest.mark.parametrize("caller", ["user", "platform"])
def test_the_deletion_path_deletes_everything_of_the_user_under_forced_security(app_conn, caller):
    from gateway.services import deletions

    make = Factory(app_conn)
    developer = make.developer(tier="standard")
    skill = make.skill(developer)
    user, other = make.user(), make.user()
    at = datetime.now(UTC) - timedelta(hours=1)
    mine = make.interaction(skill, user, occurred_at=at, session_id="s-mine")
    theirs = make.interaction(skill, other, occurred_at=at)
    make.pseudonym(developer, "k1_someone", user)
    make.read_logged(developer, "dev_x", skill, mine, user)
    make.rows(
        "INSERT INTO session_pseudonyms (developer_id, pseudonym, skill_id, session_id)"
        " VALUES (%s, 'k1_session', %s, 's-mine') RETURNING 1",
        (developer, skill),
    )
    principal = (
        Principal("user", client_id="privacy-app", user_id=user)
        if caller == "user"
        else Principal("platform", client_id="platform-1")
    )
    bind_principal(app_conn, principal)

    receipt = deletions.delete_interactions(
        app_conn, actor=audit.Actor.of(principal), user_id=user, now=datetime.now(UTC)
    )

    assert (receipt.interactions, receipt.developers) == (1, 1)
    left = make.rows("SELECT id FROM interactions")
    assert [str(r["id"]) for r in left] == [theirs]
    assert make.count("interaction_texts") > 0
    assert (
        make.rows("SELECT count(*) AS n FROM interaction_texts WHERE interaction_id = %s", (mine,))[
            0
        ]["n"]
        == 0
    )
    assert make.count("session_pseudonyms") == 0
    (ledger,) = make.rows(
        "SELECT content_digest, deleted_at FROM ingested_interactions WHERE interaction_id = %s",
        (mine,),
    )
    assert ledger["content_digest"] == "" and ledger["deleted_at"] is not None
    assert make.count("deletion_receipts") == 1
    (notice,) = make.rows("SELECT payload FROM webhook_deliveries")
    assert notice["payload"]["data"]["interaction_ids"] == [mine]
