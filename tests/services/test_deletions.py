"""Rule 8, deletion is real: through the one narrow path, nothing of the text left, a receipt,
the audit event, and a notice for each developer that read any of it."""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from gateway.db import bind_principal
from gateway.exceptions import Forbidden, InvalidInput, NotFound
from gateway.models import Principal
from gateway.repositories import webhooks as webhooks_repo
from gateway.services import audit, deletions
from gateway.services import ingest as ingest_service

NOW = datetime.now(UTC)
APP = "privacy-app"


def as_user(user_id: str) -> Principal:
    return Principal("user", client_id=APP, user_id=user_id)


@contextmanager
def bound(conn, principal: Principal):
    """The caller as the app binds it, for the block (the factory rebinds SYSTEM after)."""
    with conn.transaction():
        bind_principal(conn, principal)
        yield conn


def delete(conn, user_id, principal=None, **range_):
    principal = principal or as_user(user_id)
    with bound(conn, principal):
        return deletions.delete_interactions(
            conn, actor=audit.Actor.of(principal), user_id=user_id, now=NOW, **range_
        )


@pytest.fixture
def world(make):
    """Two developers with a skill each, a user of both and another user, some reads."""
    d1, d2 = make.developer(name="Pizza Palace"), make.developer(name="Ride Share")
    s1, s2 = make.skill(d1), make.skill(d2)
    user, other = make.user(), make.user()
    for skill in (s1, s2):
        make.consent(user, skill, granted_at=NOW - timedelta(days=30))
    make.consent(other, s1, granted_at=NOW - timedelta(days=30))
    mine = [
        make.interaction(
            s1,
            user,
            occurred_at=NOW - timedelta(days=d),
            session_id=f"s{d}",
            audio_ref=f"vault://{d}",
        )
        for d in (1, 2, 3)
    ]
    mine.append(make.interaction(s2, user, occurred_at=NOW - timedelta(days=1)))
    theirs = make.interaction(s1, other, occurred_at=NOW - timedelta(days=1), session_id="s1")
    make.pseudonym(d1, "k1_userAtPizza", user)
    make.read_logged(d1, "client-1", s1, mine[0], user)
    make.read_logged(d1, "client-1", s1, mine[1], user)
    make.read_logged(d1, "client-1", s1, theirs, other)
    return {
        "d1": d1,
        "d2": d2,
        "s1": s1,
        "s2": s2,
        "user": user,
        "other": other,
        "mine": mine,
        "theirs": theirs,
    }


def interactions_of(make, user_id):
    return {
        str(r["id"])
        for r in make.rows("SELECT id FROM interactions WHERE user_id = %s", (user_id,))
    }


def test_everything_goes_with_the_interactions_and_nothing_of_anyone_else(conn, make, world):
    receipt = delete(conn, world["user"])

    assert receipt.interactions == 4
    assert (receipt.since, receipt.until) == (None, None)
    assert interactions_of(make, world["user"]) == set()
    assert interactions_of(make, world["other"]) == {world["theirs"]}
    ids = world["mine"]
    assert (
        make.rows(
            "SELECT count(*) AS n FROM interaction_texts WHERE interaction_id = ANY(%s::uuid[])",
            (ids,),
        )[0]["n"]
        == 0
    )
    assert (
        make.rows(
            "SELECT count(*) AS n FROM interaction_texts WHERE interaction_id = %s",
            (world["theirs"],),
        )[0]["n"]
        > 0
    )
    ledger = make.rows(
        "SELECT interaction_id, content_digest, deleted_at"
        " FROM ingested_interactions WHERE interaction_id = ANY(%s::uuid[])",
        (ids,),
    )
    assert len(ledger) == 4
    assert {(r["content_digest"], r["deleted_at"] is not None) for r in ledger} == {("", True)}
    assert make.rows(
        "SELECT content_digest FROM ingested_interactions WHERE interaction_id = %s",
        (world["theirs"],),
    )[0]["content_digest"]


def test_audio_references_go_too(conn, make, world, owner_conn=None):
    conn.execute("RESET ROLE")  # the vault is the owner's alone (rule 4)
    before = conn.execute("SELECT count(*) AS n FROM vault.audio_recordings").fetchone()["n"]
    conn.execute("SET LOCAL ROLE gateway_app")
    delete(conn, world["user"])
    conn.execute("RESET ROLE")
    after = conn.execute("SELECT count(*) AS n FROM vault.audio_recordings").fetchone()["n"]
    conn.execute("SET LOCAL ROLE gateway_app")
    assert (before, after) == (3, 0)


def test_a_range_deletes_only_what_happened_in_it(conn, make, world):
    since, until = NOW - timedelta(days=2, hours=1), NOW - timedelta(hours=12)

    receipt = delete(conn, world["user"], since=since, until=until)

    assert receipt.interactions == 3  # days 2 and 1 of skill 1, day 1 of skill 2
    assert interactions_of(make, world["user"]) == {world["mine"][2]}


def test_the_receipt_and_the_audit_event_name_the_user_as_actor(conn, make, world):
    receipt = delete(conn, world["user"])

    events = make.rows(
        "SELECT actor_kind, actor_id, action, subject, details FROM audit_events"
        " WHERE action = 'deletion.completed' AND subject = %s",
        (receipt.id,),
    )
    assert events == [
        {
            "actor_kind": "user",
            "actor_id": world["user"],
            "action": "deletion.completed",
            "subject": receipt.id,
            "details": {"user_id": world["user"], "interactions": 4, "developers": 1},
        }
    ]
    with bound(conn, as_user(world["user"])):
        listed = deletions.list_deletions(conn, user_id=world["user"])
    assert [(r["id"], r["interactions"], r["requested_by"]) for r in listed] == [
        (receipt.id, 4, "you")
    ]


def test_each_developer_that_read_any_of_it_gets_a_notice_of_what_it_read(conn, make, world):
    receipt = delete(conn, world["user"])

    notices = make.rows(
        "SELECT developer_id, event_type, payload, user_id, deletion_id FROM webhook_deliveries"
    )
    assert len(notices) == 1  # d2 read nothing of it: nothing to purge, nothing to tell
    (notice,) = notices
    assert notice["developer_id"] == world["d1"]
    assert notice["event_type"] == "interactions.deleted"
    assert str(notice["deletion_id"]) == receipt.id
    assert notice["payload"]["data"] == {
        "user": "k1_userAtPizza",
        "interaction_ids": sorted(world["mine"][:2]),
        "deletion_id": receipt.id,
    }


def test_a_user_deletes_only_their_own(conn, make, world):
    with pytest.raises(Forbidden):
        delete(conn, world["other"], principal=as_user(world["user"]))
    assert interactions_of(make, world["other"]) == {world["theirs"]}
    assert make.count("deletion_receipts") == 0


@pytest.mark.parametrize("kind", ["developer", "admin", "anonymous"])
def test_nobody_else_deletes(conn, make, world, kind):
    principal = Principal(
        kind, client_id="c-1", developer_id=world["d1"] if kind == "developer" else None
    )
    with pytest.raises(Forbidden), bound(conn, principal):
        deletions.delete_interactions(conn, actor=audit.SYSTEM, user_id=world["user"], now=NOW)
    assert len(interactions_of(make, world["user"])) == 4


def test_the_platform_deletes_for_a_named_user_as_itself(conn, make, world):
    platform = Principal("platform", client_id="platform-1")

    receipt = delete(
        conn, world["user"], principal=platform, since=NOW - timedelta(days=1, hours=1)
    )

    assert receipt.interactions == 2
    (event,) = make.rows(
        "SELECT actor_kind, actor_id FROM audit_events"
        " WHERE action = 'deletion.completed' AND subject = %s",
        (receipt.id,),
    )
    assert (event["actor_kind"], event["actor_id"]) == ("client", "platform-1")


def test_an_empty_range_is_refused_and_changes_nothing(conn, make, world):
    with pytest.raises(InvalidInput):
        delete(conn, world["user"], since=NOW, until=NOW - timedelta(days=1))
    with pytest.raises(psycopg.errors.InvalidParameterValue), bound(conn, as_user(world["user"])):
        conn.execute(
            "SELECT * FROM gateway_delete_interactions(%s, %s, %s)", (world["user"], NOW, NOW)
        )
    assert len(interactions_of(make, world["user"])) == 4


def test_session_pseudonyms_go_once_their_session_is_empty(conn, make, world):
    make.rows(
        "INSERT INTO session_pseudonyms (developer_id, pseudonym, skill_id, session_id)"
        " VALUES (%s, 'k1_s1', %s, 's1'), (%s, 'k1_s2', %s, 's2') RETURNING 1",
        (world["d1"], world["s1"], world["d1"], world["s1"]),
    )

    delete(conn, world["user"])

    # s1 still has the other user's turn; s2 had only the deleted user's
    left = make.rows("SELECT session_id FROM session_pseudonyms")
    assert [r["session_id"] for r in left] == ["s1"]


def test_a_retried_batch_does_not_bring_deleted_text_back(conn, make, world):
    (ledger,) = make.rows(
        "SELECT platform_interaction_id FROM ingested_interactions WHERE interaction_id = %s",
        (world["mine"][0],),
    )
    platform_user = make.rows("SELECT platform_user_id FROM users WHERE id = %s", (world["user"],))[
        0
    ]["platform_user_id"]
    delete(conn, world["user"])
    record = {
        "interaction_id": ledger["platform_interaction_id"],
        "skill_id": world["s1"],
        "user_id": platform_user,
        "occurred_at": NOW - timedelta(days=1),
        "utterance": "order a large pepperoni pizza",
        "response": "ok",
        "intent": "OrderPizza",
        "slots": [],
        "outcome": "success",
        "order_ref": "",
        "session_id": "",
        "sensitive_category": None,
        "device_serial": "",
        "audio_ref": None,
    }

    with bound(conn, Principal("platform", client_id="platform-1")):
        (result,) = ingest_service.ingest_interactions(conn, [record], now=NOW)

    assert (result.id, result.created) == (world["mine"][0], False)
    assert interactions_of(make, world["user"]) == set()


def test_propagation_shows_each_reader_and_whether_it_acknowledged(conn, make, world):
    receipt = delete(conn, world["user"])

    with bound(conn, as_user(world["user"])):
        status = deletions.deletion_status(conn, user_id=world["user"], deletion_id=receipt.id)
    assert status["interactions"] == 4
    assert [
        (d["developer"]["name"], d["status"], d["delivered"]) for d in status["developers"]
    ] == [("Pizza Palace", "pending", False)]

    (notice,) = make.rows("SELECT id FROM webhook_deliveries")
    make._run(webhooks_repo.mark_delivered, delivery_id=notice["id"], status=204, now=NOW)
    with bound(conn, as_user(world["user"])):
        status = deletions.deletion_status(conn, user_id=world["user"], deletion_id=receipt.id)
    (developer,) = status["developers"]
    assert (developer["status"], developer["delivered"]) == ("acknowledged", True)
    assert developer["acknowledged_at"] is not None


def test_another_users_receipt_is_not_found(conn, make, world):
    receipt = delete(conn, world["user"])

    with pytest.raises(NotFound), bound(conn, as_user(world["other"])):
        deletions.deletion_status(conn, user_id=world["other"], deletion_id=receipt.id)
    # asking for it by the owner's id changes nothing: row-level security hides the row
    with pytest.raises(NotFound), bound(conn, as_user(world["other"])):
        deletions.deletion_status(conn, user_id=world["user"], deletion_id=receipt.id)


def test_a_big_deletion_splits_its_notice(conn, make, world, monkeypatch):
    monkeypatch.setattr(deletions, "IDS_PER_NOTICE", 1)

    delete(conn, world["user"])

    payloads = make.rows("SELECT payload FROM webhook_deliveries ORDER BY payload")
    assert sorted(p["payload"]["data"]["interaction_ids"][0] for p in payloads) == sorted(
        world["mine"][:2]
    )
