"""GET /v1/me/interactions through the real endpoints with a real user token: my own words,
newest first, in signed pages bound to me and my filters; nobody else's, never audio."""

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
import tokens

PASSWORD = "correct-horse-battery-staple-9"
NOW = datetime.now(UTC)


@pytest.fixture
def me(make, client, bearer):
    developer = make.developer(name="Pizza Palace")
    pizza = make.skill(developer, name="Pizza")
    rides = make.skill(make.developer(name="Ride Co"), name="Rides")
    user, login = make.user_with_password(PASSWORD)
    make.consent(user, pizza, granted_at=NOW - timedelta(days=5))
    said = {
        "today": make.interaction(
            pizza,
            user,
            occurred_at=NOW - timedelta(minutes=10),
            utterance="send the receipt to jane.doe@example.com",
            audio_ref="s3://vault/today.wav",
        ),
        "ride": make.interaction(rides, user, occurred_at=NOW - timedelta(hours=5)),
        "earlier": make.interaction(pizza, user, occurred_at=NOW - timedelta(days=2)),
    }
    return {
        "user": user,
        "pizza": pizza,
        "rides": rides,
        "said": said,
        "reader": bearer(make.client(developer_id=developer)),
        "headers": tokens.user_bearer_headers(client, login, PASSWORD),
    }


def mine(client, me, **query):
    return client.get("/v1/me/interactions", query_string=query, headers=me["headers"])


def test_my_own_words_newest_first_with_the_reads_they_had(client, me):
    read = client.get(
        f"/v1/skills/{me['pizza']}/interactions/{me['said']['today']}", headers=me["reader"]
    )
    assert read.status_code == 200
    # the developer got it redacted
    assert "jane.doe@example.com" not in read.get_data(as_text=True)

    response = mine(client, me)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_json()
    said = me["said"]
    assert [i["id"] for i in page["interactions"]] == [said["today"], said["ride"], said["earlier"]]
    first = page["interactions"][0]
    # the user's own words, not redacted; the developer's read counted
    assert first["utterance"] == "send the receipt to jane.doe@example.com"
    assert first["skill"] == {"id": me["pizza"], "name": "Pizza"}
    assert [i["developer_reads"] for i in page["interactions"]] == [1, 0, 0]
    assert page["next_cursor"] is None
    assert "vault" not in response.get_data(as_text=True)
    assert not any("audio" in key for item in page["interactions"] for key in item)


def test_range_and_skill_filters(client, me):
    since = (NOW - timedelta(days=1)).isoformat()
    until = (NOW - timedelta(hours=1)).isoformat()

    in_range = mine(client, me, since=since, until=until).get_json()["interactions"]
    of_rides = mine(client, me, skill_id=me["rides"]).get_json()["interactions"]

    assert [i["id"] for i in in_range] == [me["said"]["ride"]]
    assert [i["id"] for i in of_rides] == [me["said"]["ride"]]
    backwards = mine(client, me, since=until, until=since)
    assert backwards.status_code == 422
    assert backwards.get_json()["details"] == {"until": ["Must be later than since."]}


def test_pages_follow_with_a_cursor_bound_to_me_and_my_filters(client, make, me):
    first = mine(client, me, limit=2).get_json()
    rest = mine(client, me, limit=2, cursor=first["next_cursor"]).get_json()

    ids = [i["id"] for i in first["interactions"] + rest["interactions"]]
    assert ids == [me["said"]["today"], me["said"]["ride"], me["said"]["earlier"]]
    assert rest["next_cursor"] is None
    # the same cursor with other filters, edited, or in another user's hands: start again
    _, login = make.user_with_password(PASSWORD)
    stranger = tokens.user_bearer_headers(client, login, PASSWORD)
    for refused in (
        mine(client, me, limit=2, cursor=first["next_cursor"], skill_id=me["pizza"]),
        mine(client, me, limit=2, cursor=first["next_cursor"] + "x"),
        client.get(
            "/v1/me/interactions",
            query_string={"limit": 2, "cursor": first["next_cursor"]},
            headers=stranger,
        ),
    ):
        assert refused.status_code == 422
        assert refused.get_json()["details"] == {
            "cursor": ["Not a cursor from this query; start again."]
        }


def test_deleted_interactions_are_gone_from_the_list(client, me):
    deleted = client.delete(
        "/v1/me/interactions",
        query_string={"since": (NOW - timedelta(hours=1)).isoformat()},
        headers=me["headers"],
    )
    assert deleted.status_code == 200

    ids = [i["id"] for i in mine(client, me).get_json()["interactions"]]

    assert ids == [me["said"]["ride"], me["said"]["earlier"]]


@pytest.mark.parametrize("seed", range(3))
def test_a_user_sees_only_their_own(client, make, seed):
    rng = random.Random(seed)
    skill = make.skill(make.developer())
    people = []
    for n in range(3):
        user, login = make.user_with_password(PASSWORD)
        ids = {
            make.interaction(
                skill,
                user,
                occurred_at=NOW - timedelta(minutes=rng.randrange(1, 10_000)),
                utterance=f"person {n} says {rng.random()}",
            )
            for _ in range(rng.randrange(1, 5))
        }
        people.append((ids, tokens.user_bearer_headers(client, login, PASSWORD)))

    for ids, headers in people:
        body = client.get("/v1/me/interactions", headers=headers).get_json()
        assert {i["id"] for i in body["interactions"]} == ids
        others = set().union(*(other for other, _ in people if other is not ids))
        assert not others & set(json.dumps(body).split('"'))


@pytest.mark.parametrize(
    "query",
    [{"limit": 0}, {"limit": 201}, {"since": "yesterday"}, {"skill_id": "pizza"}, {"cursor": ""}],
)
def test_bad_queries_are_a_clear_422(client, me, query):
    response = mine(client, me, **query)

    assert response.status_code == 422
    assert set(response.get_json()["details"]) == set(query)


def test_only_a_user_token_lists_interactions(client, me, make, bearer):
    assert client.get("/v1/me/interactions").status_code == 401
    assert client.get("/v1/me/interactions", headers=me["reader"]).status_code == 403
    platform = bearer(make.client(kind="platform"))
    assert client.get("/v1/me/interactions", headers=platform).status_code == 403
