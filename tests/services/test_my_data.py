"""The user's side of rules 2 and 7: my consents (given, changed, taken back, with their
history and the developer's notice) and every read of my data, mine only."""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.db import bind_principal
from gateway.exceptions import InvalidInput, NotFound
from gateway.models import Keyring, Principal
from gateway.services import access_log, audit, consents
from gateway.services.redaction import user_pseudonym_for

NOW = datetime.now(UTC)
KEYRING = Keyring("k1", {"k1": b"\x01" * 32})


@contextmanager
def as_user(conn, user_id):
    with conn.transaction():
        bind_principal(conn, Principal("user", client_id="privacy-app", user_id=user_id))
        yield conn


def actor(user_id):
    return audit.Actor.user(user_id)


@pytest.fixture
def world(make):
    developer = make.developer(name="Pizza Palace")
    used, consented, unused = (make.skill(developer, name=n) for n in ("A pizza", "B taxi", "C"))
    user = make.user()
    make.interaction(used, user)  # used, never consented
    make.consent(user, consented, granted_at=NOW - timedelta(days=5), categories=["health"])
    return {
        "developer": developer,
        "used": used,
        "consented": consented,
        "unused": unused,
        "user": user,
    }


def test_my_consents_list_every_skill_i_use_and_its_state(conn, world):
    with as_user(conn, world["user"]):
        listed = consents.list_my_consents(conn, user_id=world["user"])

    assert [(s["skill"]["name"], s["consented"], s["categories"]) for s in listed] == [
        ("A pizza", False, []),
        ("B taxi", True, ["health"]),
    ]
    assert listed[1]["developer"] == {"id": world["developer"], "name": "Pizza Palace"}
    assert listed[1]["since"] == NOW - timedelta(days=5)
    assert listed[0]["since"] is None and listed[0]["history"] == []


def test_granting_is_idempotent_and_changing_categories_starts_a_new_period(conn, make, world):
    user, skill = world["user"], world["used"]
    with as_user(conn, user):
        first = consents.give_consent(conn, actor=actor(user), user_id=user, skill_id=skill)
        again = consents.give_consent(conn, actor=actor(user), user_id=user, skill_id=skill)
        wider = consents.give_consent(
            conn, actor=actor(user), user_id=user, skill_id=skill, categories=["finance"]
        )

    assert first == again and first["consented"] and first["categories"] == []
    assert wider["categories"] == ["finance"]
    periods = wider["history"]
    assert len(periods) == 2 and periods[1]["revoked_at"] is not None
    assert periods[1]["revoked_at"] <= periods[0]["granted_at"]  # never overlapping
    grants = make.rows(
        "SELECT actor_kind, actor_id FROM audit_events"
        " WHERE action = 'consent.granted' AND subject = %s",
        (user,),
    )
    assert grants == [{"actor_kind": "user", "actor_id": user}] * 2


def test_an_unknown_skill_or_category_is_refused(conn, world):
    user = world["user"]
    with pytest.raises(NotFound), as_user(conn, user):
        consents.give_consent(
            conn, actor=actor(user), user_id=user, skill_id="00000000-0000-4000-8000-000000000000"
        )
    with pytest.raises(InvalidInput), as_user(conn, user):
        consents.give_consent(
            conn, actor=actor(user), user_id=user, skill_id=world["used"], categories=["pets"]
        )


def test_withdrawing_closes_the_period_and_queues_the_developers_notice(conn, make, world):
    user, skill = world["user"], world["consented"]
    with as_user(conn, user):
        state = consents.withdraw_consent(
            conn, actor=actor(user), user_id=user, skill_id=skill, keyring=KEYRING
        )
        again = consents.withdraw_consent(
            conn, actor=actor(user), user_id=user, skill_id=skill, keyring=KEYRING
        )

    assert not state["consented"] and state == again
    assert state["since"] == state["history"][0]["revoked_at"]
    (notice,) = make.rows("SELECT developer_id, event_type, payload FROM webhook_deliveries")
    assert notice["developer_id"] == world["developer"]
    assert notice["event_type"] == "consent.revoked"
    assert notice["payload"]["data"]["user"] == user_pseudonym_for(
        world["developer"], user, KEYRING
    )
    assert notice["payload"]["data"]["skill_id"] == skill
    revoked = make.rows(
        "SELECT actor_kind, actor_id FROM audit_events"
        " WHERE action = 'consent.revoked' AND subject = %s",
        (user,),
    )
    assert revoked == [{"actor_kind": "user", "actor_id": user}]


def test_my_access_log_is_newest_first_paged_and_shows_deletions(conn, make, world):
    user = world["user"]
    skill = world["consented"]
    first = make.interaction(skill, user, occurred_at=NOW - timedelta(days=1), intent="Ride")
    second = make.interaction(skill, user, occurred_at=NOW - timedelta(hours=1), intent="Pay")
    for interaction in (first, second, first):
        make.read_logged(world["developer"], "client-1", skill, interaction, user)

    with as_user(conn, user):
        page = access_log.list_my_reads(conn, user_id=user, limit=2)
        rest = access_log.list_my_reads(conn, user_id=user, after=page.next_after, limit=2)

    items = page.items + rest.items
    assert rest.next_after is None and page.next_after is not None
    assert [i["interaction"]["id"] for i in items] == [first, second, first]
    assert items[0]["interaction"]["intent"] == "Ride"
    assert items[0]["developer"]["name"] == "Pizza Palace"
    assert items[0]["client_id"] == "client-1"
    assert "utterance" not in str(items)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_nobody_sees_or_changes_another_users_consents_log_or_deletions(conn, make, data):
    """Randomised: any user, asking about any other, by any id, learns and changes nothing."""
    from gateway.services import deletions

    developer = make.developer()
    skill = make.skill(developer)
    users = [make.user() for _ in range(3)]
    for user in users:
        make.consent(user, skill, granted_at=NOW - timedelta(days=1))
        interaction = make.interaction(skill, user)
        make.read_logged(developer, "client-1", skill, interaction, user)
    me = data.draw(st.sampled_from(users))
    victim = data.draw(st.sampled_from([u for u in users if u != me]))
    with as_user(conn, victim):
        receipt = deletions.delete_interactions(
            conn,
            actor=actor(victim),
            user_id=victim,
            since=NOW - timedelta(seconds=1),
            now=NOW,
        )
    before = make.rows("SELECT id, revoked_at FROM consents ORDER BY id")

    action = data.draw(st.sampled_from(["consents", "log", "receipt", "revoke", "grant", "delete"]))
    with as_user(conn, me):
        if action == "consents":
            assert consents.list_my_consents(conn, user_id=victim) == []
        elif action == "log":
            assert access_log.list_my_reads(conn, user_id=victim).items == []
        elif action == "receipt":
            with pytest.raises(NotFound):
                deletions.deletion_status(conn, user_id=victim, deletion_id=receipt.id)
            assert deletions.list_deletions(conn, user_id=victim) == []
        elif action in ("revoke", "grant"):
            with pytest.raises(Exception):  # noqa: B017 - refused by the database, either way
                with conn.transaction():
                    if action == "revoke":
                        consents.withdraw_consent(
                            conn, actor=actor(me), user_id=victim, skill_id=skill, keyring=KEYRING
                        )
                    else:
                        consents.give_consent(
                            conn,
                            actor=actor(me),
                            user_id=victim,
                            skill_id=skill,
                            categories=["health"],
                        )
        else:
            from gateway.exceptions import Forbidden

            with pytest.raises(Forbidden), conn.transaction():
                deletions.delete_interactions(conn, actor=actor(me), user_id=victim, now=NOW)
    assert make.rows("SELECT id, revoked_at FROM consents ORDER BY id") == before
    assert make.rows("SELECT count(*) AS n FROM interactions WHERE user_id = %s", (victim,))[0][
        "n"
    ] == 1 - (receipt.interactions)
