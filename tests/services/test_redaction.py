"""Rule 5, redaction and pseudonyms, as a developer receives them."""

from datetime import UTC, datetime, timedelta

from gateway.models import Keyring
from gateway.repositories.developers import find_developer
from gateway.services import redaction

KEYRING = Keyring(current="k1", keys={"k1": bytes.fromhex("ab" * 32)})


def _items(client, who):
    response = client.get(f"/v1/skills/{who['skill']}/interactions", headers=who["headers"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()["interactions"]


def test_session_pseudonyms_differ_across_developers_and_hold_within_one(client, make, reader):
    sessions = []
    for _ in range(2):
        who = reader("trusted")
        for _ in range(2):
            make.interaction(who["skill"], who["user"], session_id="platform-session-7")
        shown = {item["session"] for item in _items(client, who)}
        assert len(shown) == 1  # one session, one pseudonym for this developer
        sessions.append(shown.pop())

    assert sessions[0] != sessions[1]
    assert all("platform-session-7" not in s for s in sessions)


def test_a_session_pseudonym_is_never_the_user_pseudonym_of_the_same_text(make, conn):
    developer = find_developer(conn, make.developer(tier="trusted"))
    assert developer is not None
    text = "a3f1c2d4-0000-4000-8000-000000000001"

    session = redaction.session_pseudonym(developer, text, KEYRING)
    user = redaction.user_pseudonym(developer, text, KEYRING)

    assert session != user


def test_one_placeholder_numbering_across_the_texts_of_one_interaction(client, make, reader):
    trusted = reader("trusted")
    make.interaction(
        trusted["skill"],
        trusted["user"],
        utterance="mail ann.lee@example.com please",
        response="I mailed bob.ray@example.org and ann.lee@example.com",
        slots={"cc": "bob.ray@example.org", "to": "ann.lee@example.com"},
    )

    (item,) = _items(client, trusted)

    assert item["utterance"] == "mail [EMAIL_1] please"
    assert item["response"] == "I mailed [EMAIL_2] and [EMAIL_1]"
    assert item["slots"] == [
        {"name": "cc", "value": "[EMAIL_2]"},
        {"name": "to", "value": "[EMAIL_1]"},
    ]


def test_each_interaction_starts_its_own_numbering(client, make, reader):
    trusted = reader("trusted")
    now = datetime.now(UTC)
    for minutes, email in ((2, "ann.lee@example.com"), (1, "bob.ray@example.org")):
        make.interaction(
            trusted["skill"],
            trusted["user"],
            occurred_at=now - timedelta(minutes=minutes),
            utterance=f"mail {email} please",
        )

    items = _items(client, trusted)

    assert [item["utterance"] for item in items] == ["mail [EMAIL_1] please"] * 2


def test_the_plain_fields_arrive_under_their_names(client, make, reader):
    standard = reader("standard")
    occurred = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)
    interaction = make.interaction(
        standard["skill"],
        standard["user"],
        occurred_at=occurred,
        utterance="where is my order",
        intent="TrackOrder",
        outcome="partial",
        order_ref="Q7Z",
    )

    for path in (
        f"/v1/skills/{standard['skill']}/interactions/{interaction}",
        f"/v1/skills/{standard['skill']}/interactions",
    ):
        body = client.get(path, headers=standard["headers"]).get_json()
        item = body["interactions"][0] if "interactions" in body else body
        assert set(item) == {
            "id",
            "occurred_at",
            "user",
            "utterance",
            "intent",
            "outcome",
            "order_ref",
        }
        assert item["id"] == interaction
        assert item["intent"] == "TrackOrder"
        assert item["outcome"] == "partial"
        assert item["order_ref"] == "Q7Z"
        assert item["utterance"] == "where is my order"
        assert datetime.fromisoformat(item["occurred_at"]) == occurred


def test_a_hidden_order_reference_is_redacted_in_the_text_like_any_number(client, make, reader):
    make.tier("noref", fields=("utterance", "response", "slots"))
    noref = reader("noref")
    make.interaction(
        noref["skill"],
        noref["user"],
        utterance="is prescription 48213377 ready",
        response="Yes, 48213377 is ready.",
        slots={"rx": "48213377"},
        order_ref="48213377",
    )

    (item,) = _items(client, noref)

    assert "order_ref" not in item
    assert "48213377" not in str(item)
    assert item["utterance"] == "is prescription [ACCOUNT_1] ready"


def test_slot_values_that_are_not_strings_are_redacted_too(client, make, reader):
    trusted = reader("trusted")
    make.interaction(
        trusted["skill"],
        trusted["user"],
        utterance="call me back",
        slots={
            "callback": 5558675309,
            "contacts": ["ann.lee@example.com"],
            "party": 4,
            "person": {"email": "bob.ray@example.org"},
            "vip": True,
        },
    )

    (item,) = _items(client, trusted)
    values = {slot["name"]: slot["value"] for slot in item["slots"]}

    assert values["callback"] == "[PHONE_1]"
    assert values["party"] == "4"
    assert values["vip"] == "True"
    for secret in ("5558675309", "ann.lee", "bob.ray", "example."):
        assert secret not in str(item)
    assert "[EMAIL_1]" in values["contacts"] and "[EMAIL_2]" in values["person"]
