"""The users' API through the real endpoints with a real user token: my consents, every read
of my data, deleting it and following the deletion; and nobody else's."""

from datetime import UTC, datetime, timedelta

import pytest
import tokens

if not hasattr(tokens, "user_bearer_headers"):  # pragma: no cover - needs the users' sign-in
    pytest.skip("user tokens come with the users' sign-in", allow_module_level=True)

PASSWORD = "correct-horse-battery-staple-9"
NOW = datetime.now(UTC)


@pytest.fixture
def me(make, client, bearer):
    developer = make.developer(name="Pizza Palace")
    skill = make.skill(developer, name="Pizza")
    user, login = make.user_with_password(PASSWORD)
    make.consent(user, skill, granted_at=NOW - timedelta(days=3))
    today = make.interaction(skill, user, occurred_at=NOW - timedelta(minutes=10))
    earlier = make.interaction(skill, user, occurred_at=NOW - timedelta(days=2))
    reader = bearer(make.client(developer_id=developer))
    return {
        "developer": developer,
        "skill": skill,
        "user": user,
        "today": today,
        "earlier": earlier,
        "reader": reader,
        "headers": tokens.user_bearer_headers(client, login, PASSWORD),
    }


def read(client, me, interaction):
    return client.get(f"/v1/skills/{me['skill']}/interactions/{interaction}", headers=me["reader"])


def test_revoking_stops_the_developers_very_next_read(client, make, me):
    assert read(client, me, me["today"]).status_code == 200
    listed = client.get("/v1/me/consents", headers=me["headers"]).get_json()["consents"]
    assert [(c["skill"]["name"], c["consented"]) for c in listed] == [("Pizza", True)]

    revoked = client.delete(f"/v1/me/consents/{me['skill']}", headers=me["headers"])

    assert revoked.status_code == 200 and revoked.get_json()["consented"] is False
    assert read(client, me, me["today"]).status_code == 404
    (event,) = make.rows(
        "SELECT actor_kind, actor_id FROM audit_events"
        " WHERE action = 'consent.revoked' AND subject = %s AND occurred_at = now()",
        (me["user"],),
    )
    assert (event["actor_kind"], event["actor_id"]) == ("user", me["user"])
    assert make.rows("SELECT event_type FROM webhook_deliveries") == [
        {"event_type": "consent.revoked"}
    ]
    granted = client.put(
        f"/v1/me/consents/{me['skill']}", json={"categories": ["health"]}, headers=me["headers"]
    )
    assert granted.status_code == 200
    assert granted.get_json()["categories"] == ["health"]


def test_my_access_log_shows_each_read_newest_first_in_signed_pages(client, me):
    for interaction in (me["earlier"], me["today"], me["earlier"]):
        assert read(client, me, interaction).status_code == 200

    first = client.get("/v1/me/access-log", query_string={"limit": 2}, headers=me["headers"])
    page = first.get_json()
    rest = client.get(
        "/v1/me/access-log",
        query_string={"limit": 2, "cursor": page["next_cursor"]},
        headers=me["headers"],
    ).get_json()

    reads = page["reads"] + rest["reads"]
    assert [r["interaction"]["id"] for r in reads] == [me["earlier"], me["today"], me["earlier"]]
    assert reads[0]["developer"]["name"] == "Pizza Palace" and reads[0]["client_id"]
    assert rest["next_cursor"] is None
    forged = client.get(
        "/v1/me/access-log",
        query_string={"cursor": page["next_cursor"] + "x"},
        headers=me["headers"],
    )
    assert forged.status_code == 422


def test_delete_today_then_follow_the_notices(client, make, me):
    assert read(client, me, me["today"]).status_code == 200
    since = (NOW - timedelta(hours=1)).isoformat()

    deleted = client.delete(
        "/v1/me/interactions", query_string={"since": since}, headers=me["headers"]
    )

    assert deleted.status_code == 200, deleted.get_json()
    receipt = deleted.get_json()
    assert (receipt["interactions"], receipt["requested_by"]) == (1, "you")
    assert read(client, me, me["today"]).status_code == 404
    assert read(client, me, me["earlier"]).status_code == 200
    status = client.get(f"/v1/me/deletions/{receipt['id']}", headers=me["headers"]).get_json()
    assert [(d["developer"]["name"], d["status"]) for d in status["developers"]] == [
        ("Pizza Palace", "pending")
    ]
    listed = client.get("/v1/me/deletions", headers=me["headers"]).get_json()["deletions"]
    assert [r["id"] for r in listed] == [receipt["id"]]
    log = client.get("/v1/me/access-log", headers=me["headers"]).get_json()["reads"]
    assert [r["interaction"]["deleted"] for r in log] == [False, True]


def test_another_users_receipt_answers_like_a_missing_one(client, make, me):
    receipt = client.delete("/v1/me/interactions", headers=me["headers"]).get_json()
    _, login = make.user_with_password(PASSWORD)
    stranger = tokens.user_bearer_headers(client, login, PASSWORD)

    theirs = client.get(f"/v1/me/deletions/{receipt['id']}", headers=stranger)
    missing = client.get("/v1/me/deletions/00000000-0000-4000-8000-000000000000", headers=stranger)

    assert theirs.status_code == missing.status_code == 404
    assert theirs.get_json() == missing.get_json()


def test_users_and_developers_stay_on_their_own_routes(client, me):
    assert client.get("/v1/me/consents", headers=me["reader"]).status_code == 403
    relay = client.delete(
        f"/v1/platform/users/anyone/consents/{me['skill']}", headers=me["headers"]
    )
    assert relay.status_code == 403
