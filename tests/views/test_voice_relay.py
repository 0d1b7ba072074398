"""The voice relay: the platform changes a user's consents and deletes their interactions on
their behalf, and only the platform; each action is audited with the platform as the actor."""

from datetime import UTC, datetime, timedelta

import pytest

NOW = datetime.now(UTC)


@pytest.fixture
def relay(make, bearer):
    developer = make.developer(name="Pizza Palace")
    skill = make.skill(developer, name="Pizza")
    user = make.user()
    platform_user = make.rows("SELECT platform_user_id FROM users WHERE id = %s", (user,))[0][
        "platform_user_id"
    ]
    make.consent(user, skill, granted_at=NOW - timedelta(days=3))
    today = make.interaction(skill, user, occurred_at=NOW - timedelta(minutes=5))
    earlier = make.interaction(skill, user, occurred_at=NOW - timedelta(days=2))
    platform = make.client(kind="platform")
    return {
        "developer": developer,
        "skill": skill,
        "user": user,
        "platform_user": platform_user,
        "today": today,
        "earlier": earlier,
        "platform": platform,
        "headers": bearer(platform),
        "developer_headers": bearer(make.client(developer_id=developer)),
        "base": f"/v1/platform/users/{platform_user}",
    }


def audited(make, action, relay):
    # this test's own: committed tests elsewhere leave their events in the log
    return make.rows(
        "SELECT actor_kind, actor_id, skill_id, subject FROM audit_events"
        " WHERE action = %s AND actor_id = %s AND occurred_at = now()",
        (action, relay["platform"].client_id),
    )


def test_stop_sharing_with_a_skill(client, make, relay):
    path = f"{relay['base']}/consents/{relay['skill']}"

    response = client.delete(path, headers=relay["headers"])

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["consented"] is False and body["skill"]["name"] == "Pizza"
    assert body["developer"]["name"] == "Pizza Palace"
    (event,) = audited(make, "consent.revoked", relay)
    assert (event["actor_kind"], event["actor_id"]) == ("client", relay["platform"].client_id)
    assert event["subject"] == relay["user"]
    (notice,) = make.rows("SELECT developer_id, event_type FROM webhook_deliveries")
    assert notice == {"developer_id": relay["developer"], "event_type": "consent.revoked"}
    read = client.get(
        f"/v1/skills/{relay['skill']}/interactions/{relay['today']}",
        headers=relay["developer_headers"],
    )
    assert read.status_code == 404


def test_share_again_covering_health(client, make, relay):
    path = f"{relay['base']}/consents/{relay['skill']}"
    client.delete(path, headers=relay["headers"])

    response = client.put(path, json={"categories": ["health"]}, headers=relay["headers"])

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["consented"], body["categories"]) == (True, ["health"])
    assert len(body["history"]) == 2
    (event,) = audited(make, "consent.granted", relay)
    assert (event["actor_kind"], event["actor_id"]) == ("client", relay["platform"].client_id)


def test_delete_what_i_said_today(client, make, relay):
    since = (NOW - timedelta(hours=1)).isoformat()

    response = client.delete(
        f"{relay['base']}/interactions", query_string={"since": since}, headers=relay["headers"]
    )

    assert response.status_code == 200, response.get_json()
    receipt = response.get_json()
    assert receipt["interactions"] == 1 and receipt["requested_by"] == "platform"
    assert receipt["until"] is None
    left = make.rows("SELECT id FROM interactions WHERE user_id = %s", (relay["user"],))
    assert [str(r["id"]) for r in left] == [relay["earlier"]]
    (event,) = audited(make, "deletion.completed", relay)
    assert (event["actor_kind"], event["actor_id"]) == ("client", relay["platform"].client_id)
    assert event["subject"] == receipt["id"]


def test_an_unknown_user_or_skill_is_not_found_and_changes_nothing(client, make, relay):
    unknown_skill = "00000000-0000-4000-8000-000000000000"
    for method, path in [
        ("delete", f"/v1/platform/users/nobody/consents/{relay['skill']}"),
        ("delete", f"{relay['base']}/consents/{unknown_skill}"),
        ("delete", "/v1/platform/users/nobody/interactions"),
    ]:
        response = getattr(client, method)(path, headers=relay["headers"])
        assert response.status_code == 404, path
    assert audited(make, "consent.revoked", relay) == []
    assert audited(make, "deletion.completed", relay) == []


def test_a_bad_range_is_a_clear_error_that_changes_nothing(client, make, relay):
    response = client.delete(
        f"{relay['base']}/interactions",
        query_string={"since": NOW.isoformat(), "until": (NOW - timedelta(days=1)).isoformat()},
        headers=relay["headers"],
    )
    assert response.status_code == 422
    assert response.get_json()["details"] == {"until": ["Must be later than since."]}
    assert make.count("deletion_receipts") == 0


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("put", "consents/{skill}"), ("delete", "consents/{skill}"), ("delete", "interactions")],
)
def test_only_the_platform_may_relay(client, make, relay, bearer, method, suffix):
    path = f"{relay['base']}/{suffix.format(skill=relay['skill'])}"
    admin = bearer(make.client(kind="admin"))
    for headers in (relay["developer_headers"], admin, {}):
        kwargs = {"json": {}} if method == "put" else {}
        response = getattr(client, method)(path, headers=headers, **kwargs)
        assert response.status_code in (401, 403), (headers, response.status_code)
    assert make.count("deletion_receipts") == 0
    assert make.count("webhook_deliveries") == 0
    assert make.rows("SELECT count(*) AS n FROM consents WHERE revoked_at IS NOT NULL")[0]["n"] == 0
