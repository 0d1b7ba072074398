"""Whole conversations and search for developers: only readable turns, only redacted text."""

from datetime import UTC, datetime, timedelta

import pytest

from gateway.redaction import policies


@pytest.fixture
def trusted(make, bearer):
    developer = make.developer(tier="trusted")
    skill = make.skill(developer, name="Pizza Palace")
    user = make.user()
    headers = bearer(make.client(developer_id=developer))
    return {"developer": developer, "skill": skill, "user": user, "headers": headers}


def _list(client, reader, **query):
    response = client.get(
        f"/v1/skills/{reader['skill']}/interactions", query_string=query, headers=reader["headers"]
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()["interactions"]


def test_a_conversation_shows_its_readable_turns_in_order_across_a_consent_change(
    client, make, trusted
):
    now = datetime.now(UTC)
    make.consent(trusted["user"], trusted["skill"], granted_at=now - timedelta(hours=10))
    turns = [
        make.interaction(
            trusted["skill"],
            trusted["user"],
            session_id="platform-session-9",
            occurred_at=now - timedelta(hours=9 - i),
            utterance=f"turn {i}",
            order_ref="ORD-77",
            outcome="failure" if i == 2 else "success",
        )
        for i in range(4)
    ]
    other = make.interaction(
        trusted["skill"], trusted["user"], session_id="platform-session-10", occurred_at=now
    )
    # revoked after turn 1, granted again before turn 3: turn 2 was never readable
    make.revoke(trusted["user"], trusted["skill"], revoked_at=now - timedelta(hours=7, minutes=30))
    make.consent(trusted["user"], trusted["skill"], granted_at=now - timedelta(hours=6, minutes=30))
    listed = _list(client, trusted)
    session = next(item["session"] for item in listed if item["id"] == turns[3])
    assert "platform-session-9" not in str(listed)

    response = client.get(
        f"/v1/skills/{trusted['skill']}/sessions/{session}", headers=trusted["headers"]
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["session"] == session
    assert [t["id"] for t in body["turns"]] == [turns[3]]  # only the consented turn
    assert body["turns"][0]["order_ref"] == "ORD-77"
    assert body["turns"][0]["outcome"] == "success"
    # the list's session filter says the same, and leaves the other session out
    assert [i["id"] for i in _list(client, trusted, session=session)] == [turns[3]]
    assert other in [i["id"] for i in _list(client, trusted)]
    # each turn returned was logged as read
    logged = make.rows("SELECT interaction_id::text AS id, endpoint FROM access_log")
    assert {"id": turns[3], "endpoint": "session"} in logged


def test_every_turn_of_a_fully_consented_conversation_comes_back_oldest_first(
    client, make, trusted
):
    now = datetime.now(UTC)
    make.consent(trusted["user"], trusted["skill"], granted_at=now - timedelta(days=1))
    turns = [
        make.interaction(
            trusted["skill"],
            trusted["user"],
            session_id="s-full",
            occurred_at=now - timedelta(minutes=10 - i),
        )
        for i in range(3)
    ]
    session = _list(client, trusted)[0]["session"]
    body = client.get(
        f"/v1/skills/{trusted['skill']}/sessions/{session}", headers=trusted["headers"]
    ).get_json()
    assert [t["id"] for t in body["turns"]] == turns


def test_a_session_pseudonym_is_per_developer_and_unknown_ones_answer_404(
    client, make, trusted, bearer
):
    now = datetime.now(UTC)
    make.consent(trusted["user"], trusted["skill"], granted_at=now - timedelta(days=1))
    make.interaction(
        trusted["skill"], trusted["user"], session_id="shared-session", occurred_at=now
    )
    session = _list(client, trusted)[0]["session"]
    # another developer, shown its own skill's turns of the same platform session id
    other = make.developer(tier="trusted")
    other_skill = make.skill(other)
    make.consent(trusted["user"], other_skill, granted_at=now - timedelta(days=1))
    make.interaction(other_skill, trusted["user"], session_id="shared-session", occurred_at=now)
    other_headers = bearer(make.client(developer_id=other))
    other_session = client.get(
        f"/v1/skills/{other_skill}/interactions", headers=other_headers
    ).get_json()["interactions"][0]["session"]
    assert other_session != session
    # neither resolves for the other developer, nor does a made-up one
    for skill, headers, pseudonym in (
        (other_skill, other_headers, session),
        (trusted["skill"], trusted["headers"], other_session),
        (trusted["skill"], trusted["headers"], "k1_madeup"),
    ):
        response = client.get(f"/v1/skills/{skill}/sessions/{pseudonym}", headers=headers)
        assert response.status_code == 404
        assert response.get_json()["error"] == "not_found"


def test_search_finds_words_of_the_redacted_text_and_never_what_redaction_hid(
    client, make, trusted
):
    now = datetime.now(UTC)
    make.consent(trusted["user"], trusted["skill"], granted_at=now - timedelta(days=1))
    wrong = make.interaction(
        trusted["skill"],
        trusted["user"],
        occurred_at=now - timedelta(minutes=5),
        utterance="the address was wrong, send it to 42 elm street and call 555 867 5309",
        response="Sorry, I changed the delivery address for Maria",
        slots={"card": "4111 1111 1111 1111"},
    )
    make.interaction(
        trusted["skill"], trusted["user"], occurred_at=now, utterance="a large pepperoni please"
    )
    assert [i["id"] for i in _list(client, trusted, q="address wrong")] == [wrong]
    assert [i["id"] for i in _list(client, trusted, q='"delivery address"')] == [wrong]
    assert len(_list(client, trusted, q="pepperoni")) == 1
    # the name, the phone number, the street and the card are in the raw text only
    # (the trusted policy shows a card's last four: "1111" is what this developer sees)
    for hidden in ("maria", "5309", "555 867 5309", "elm", "4111"):
        assert _list(client, trusted, q=hidden) == [], hidden


def test_search_and_keyset_pagination_work_together(client, make, trusted):
    now = datetime.now(UTC)
    make.consent(trusted["user"], trusted["skill"], granted_at=now - timedelta(days=1))
    matching = [
        make.interaction(
            trusted["skill"],
            trusted["user"],
            occurred_at=now - timedelta(minutes=i),
            utterance="my pizza arrived cold" if i % 2 else "thanks",
        )
        for i in range(1, 12)
    ]
    expected = [m for i, m in enumerate(matching, start=1) if i % 2]
    seen, cursor = [], None
    while True:
        query = {"q": "cold", "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = client.get(
            f"/v1/skills/{trusted['skill']}/interactions",
            query_string=query,
            headers=trusted["headers"],
        ).get_json()
        seen += [i["id"] for i in response["interactions"]]
        cursor = response["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    # a cursor from the search is bound to it
    first = client.get(
        f"/v1/skills/{trusted['skill']}/interactions",
        query_string={"q": "cold", "limit": 2},
        headers=trusted["headers"],
    ).get_json()["next_cursor"]
    misuse = client.get(
        f"/v1/skills/{trusted['skill']}/interactions",
        query_string={"q": "thanks", "limit": 2, "cursor": first},
        headers=trusted["headers"],
    )
    assert misuse.status_code == 422


def test_search_never_matches_a_stale_form(client, make, trusted, monkeypatch):

    now = datetime.now(UTC)
    make.consent(trusted["user"], trusted["skill"], granted_at=now - timedelta(days=1))
    interaction = make.interaction(
        trusted["skill"], trusted["user"], occurred_at=now, utterance="ask maria about the order"
    )
    # an older version's form that left the name in: search must not reach it
    make.rows(
        "UPDATE interaction_texts SET utterance = 'ask maria about the order' "
        "WHERE interaction_id = %s RETURNING 1",
        (interaction,),
    )
    monkeypatch.setattr(policies, "REDACTOR_VERSION", "9-stale")
    assert _list(client, trusted, q="maria") == []


def test_search_never_looks_into_a_field_the_tier_hides(client, make, bearer):
    # standard shows what users said, not what the assistant answered nor the slots
    developer = make.developer(tier="standard")
    skill = make.skill(developer)
    user = make.user()
    now = datetime.now(UTC)
    make.consent(user, skill, granted_at=now - timedelta(days=1))
    make.interaction(
        skill,
        user,
        occurred_at=now,
        utterance="where is my order",
        response="the courier is stuck in traffic",
        slots={"reason": "flooded"},
    )
    reader = {"skill": skill, "headers": bearer(make.client(developer_id=developer))}
    assert len(_list(client, reader, q="order")) == 1
    assert _list(client, reader, q="courier") == []
    assert _list(client, reader, q="flooded") == []
