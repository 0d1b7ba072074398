"""The platform's ingest API over HTTP: users and interactions in, idempotent, all or nothing."""

from datetime import UTC, datetime, timedelta

import pytest


@pytest.fixture
def platform(make, bearer):
    return bearer(make.client(kind="platform"))


@pytest.fixture
def skill(make):
    return make.skill(make.developer(tier="trusted"), name="Corner Bakery")


def _users(client, platform, *users):
    response = client.post("/v1/ingest/users", json={"users": list(users)}, headers=platform)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _record(skill, user="p-user-1", n=1, **values):
    return {
        "interaction_id": f"p-int-{n}",
        "skill_id": skill,
        "user_id": user,
        "session_id": "p-session-1",
        "occurred_at": (datetime.now(UTC) - timedelta(hours=n)).isoformat(),
        "utterance": "deliver two baguettes to the usual place",
        "response": "Two baguettes, on their way.",
        "intent": "OrderBread",
        "slots": [{"name": "count", "value": 2}],
        "outcome": "success",
        "order_ref": f"B-{n:04d}",
        **values,
    }


def _post(client, platform, *records):
    return client.post(
        "/v1/ingest/interactions", json={"interactions": list(records)}, headers=platform
    )


def test_users_are_upserted_by_platform_id_and_a_child_flag_is_never_cleared_by_omission(
    client, platform, make
):
    assert _users(
        client,
        platform,
        {"platform_user_id": "p-kid", "is_child": True, "email": "kid@example.com"},
        {"platform_user_id": "p-adult", "locale": "en-GB", "display_name": "Ada"},
    ) == {"accepted": 2}
    # sent again without the flag (and with new personal fields): still a child profile
    _users(client, platform, {"platform_user_id": "p-kid", "display_name": "Kiddo"})
    rows = make.rows(
        """SELECT u.platform_user_id, u.is_child, p.email, p.display_name, p.locale
           FROM users u JOIN user_profiles p ON p.user_id = u.id ORDER BY 1"""
    )
    assert rows == [
        {
            "platform_user_id": "p-adult",
            "is_child": False,
            "email": None,
            "display_name": "Ada",
            "locale": "en-GB",
        },
        {
            "platform_user_id": "p-kid",
            "is_child": True,
            "email": "kid@example.com",
            "display_name": "Kiddo",
            "locale": None,
        },
    ]
    # only an explicit value changes it
    _users(client, platform, {"platform_user_id": "p-kid", "is_child": False})
    assert make.rows("SELECT is_child FROM users WHERE platform_user_id = 'p-kid'") == [
        {"is_child": False}
    ]


def test_a_user_given_twice_in_one_batch_is_refused_and_nothing_is_stored(client, platform, make):
    response = client.post(
        "/v1/ingest/users",
        json={"users": [{"platform_user_id": "p-twice"}, {"platform_user_id": "p-twice"}]},
        headers=platform,
    )
    assert response.status_code == 422
    assert response.get_json()["details"] == {
        "users": {"1": {"platform_user_id": ["Also given at index 0."]}}
    }
    assert make.count("users") == 0


def test_a_batch_is_stored_and_a_retry_creates_nothing_and_answers_the_same(
    client, platform, skill, make
):
    _users(client, platform, {"platform_user_id": "p-user-1"})
    batch = [_record(skill, n=1), _record(skill, n=2)]
    first = _post(client, platform, *batch)
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert body["accepted"] == 2
    assert [item["interaction_id"] for item in body["interactions"]] == ["p-int-1", "p-int-2"]
    counts = {
        t: make.count(t) for t in ("interactions", "interaction_texts", "ingested_interactions")
    }
    assert counts == {"interactions": 2, "interaction_texts": 6, "ingested_interactions": 2}

    again = _post(client, platform, *batch)
    assert again.status_code == 200
    assert again.get_json() == body
    assert {t: make.count(t) for t in counts} == counts


def test_one_invalid_record_names_its_index_and_field_and_stores_nothing(
    client, platform, skill, make
):
    _users(client, platform, {"platform_user_id": "p-user-1"})
    bad_outcome = _record(skill, n=2, outcome="exploded")
    response = _post(client, platform, _record(skill, n=1), bad_outcome)
    assert response.status_code == 422
    details = response.get_json()["details"]
    assert details == {
        "interactions": {"1": {"outcome": [details["interactions"]["1"]["outcome"][0]]}}
    }
    assert make.count("interactions") == make.count("ingested_interactions") == 0


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"user_id": "p-nobody"}, "user_id", "No such user; send it first."),
        ({"skill_id": "00000000-0000-4000-8000-000000000000"}, "skill_id", "No such skill."),
        (
            {"occurred_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()},
            "occurred_at",
            "Lies in the future.",
        ),
    ],
)
def test_unknown_users_skills_and_future_times_are_refused_not_dropped(
    client, platform, skill, make, change, field, message
):
    _users(client, platform, {"platform_user_id": "p-user-1"})
    response = _post(client, platform, _record(skill, n=1), _record(skill, n=2, **change))
    assert response.status_code == 422
    assert response.get_json()["details"] == {"interactions": {"1": {field: [message]}}}
    assert make.count("interactions") == 0


def test_a_platform_id_reused_with_other_content_is_refused(client, platform, skill, make):
    _users(client, platform, {"platform_user_id": "p-user-1"})
    assert _post(client, platform, _record(skill, n=1)).status_code == 200
    changed = _record(skill, n=1, utterance="deliver three baguettes instead")
    response = _post(client, platform, _record(skill, n=5), changed)
    assert response.status_code == 422
    assert "interaction_id" in response.get_json()["details"]["interactions"]["1"]
    assert make.count("interactions") == 1
    twice = _post(client, platform, _record(skill, n=7), _record(skill, n=7))
    assert twice.get_json()["details"] == {
        "interactions": {"1": {"interaction_id": ["Also given at index 0."]}}
    }


def test_the_audio_reference_goes_to_the_vault_and_the_serial_stays_behind(
    client, platform, skill, make, conn
):
    _users(client, platform, {"platform_user_id": "p-user-1"})
    record = _record(skill, n=1, audio_ref="s3://vault/rec-77.opus", device_serial="SN-DEVICE-0042")
    (item,) = _post(client, platform, record).get_json()["interactions"]
    conn.execute("RESET ROLE")  # only the owner can look into the vault
    vault = conn.execute(
        "SELECT interaction_id::text AS id, audio_ref FROM vault.audio_recordings"
    ).fetchall()
    conn.execute("SET LOCAL ROLE gateway_app")
    assert vault == [{"id": item["id"], "audio_ref": "s3://vault/rec-77.opus"}]
    # the app role: no privilege on the vault, nor on the serial column
    for query in (
        "SELECT audio_ref FROM vault.audio_recordings",
        "SELECT device_serial FROM interactions",
    ):
        with pytest.raises(Exception, match="permission denied"), conn.transaction():
            conn.execute(query)


def test_the_ingest_scope_belongs_to_the_platform_only(client, make, bearer, skill):
    developer = make.developer(tier="trusted")
    headers = bearer(make.client(developer_id=developer))
    response = client.post(
        "/v1/ingest/users", json={"users": [{"platform_user_id": "x"}]}, headers=headers
    )
    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.post("/v1/ingest/users", json={"users": []}).status_code == 401
    assert make.count("users") == 0


@pytest.mark.parametrize("is_child", [0.0, 1, "true", "yes", None])
def test_is_child_must_be_a_json_boolean(client, platform, make, is_child):
    """A flag sent as a number or a string is refused, not guessed at (rule 6 reads it)."""
    response = client.post(
        "/v1/ingest/users",
        json={"users": [{"platform_user_id": "p-kid", "is_child": is_child}]},
        headers=platform,
    )
    assert response.status_code == 422
    assert "is_child" in response.get_json()["details"]["users"]["0"]
    assert make.count("users") == 0


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"interactions": []},
        {"interactions": [{}]},
        {"interactions": "x"},
        {"interactions": [], "extra": 1},
    ],
)
def test_malformed_batches_are_a_422_that_stores_nothing(client, platform, make, body):
    if body is None:
        response = client.post("/v1/ingest/interactions", data="not json", headers=platform)
    else:
        response = client.post("/v1/ingest/interactions", json=body, headers=platform)
    assert response.status_code == 422
    assert set(response.get_json()) == {"error", "error_description", "details"}
    assert make.count("interactions") == 0


def test_nul_bytes_and_odd_slot_values_are_refused_by_name(client, platform, skill, make):
    _users(client, platform, {"platform_user_id": "p-user-1"})
    response = _post(
        client,
        platform,
        _record(skill, n=1, utterance="a\x00b"),
        _record(skill, n=2, slots=[{"name": "x", "value": {"nested": 1}}]),
    )
    assert response.status_code == 422
    details = response.get_json()["details"]["interactions"]
    assert set(details) == {"0", "1"}
    assert "utterance" in details["0"] and "slots" in details["1"]


def test_batches_above_500_are_refused(client, platform, skill):
    records = [_record(skill, n=i) for i in range(501)]
    response = _post(client, platform, *records)
    assert response.status_code == 422
    assert "interactions" in response.get_json()["details"]


def test_child_profiles_and_sensitive_categories_arriving_by_ingest_follow_rule_6(
    client, platform, make, bearer
):
    developer = make.developer(tier="trusted")
    skill = make.skill(developer)
    headers = bearer(make.client(developer_id=developer))
    _users(
        client,
        platform,
        {"platform_user_id": "p-kid", "is_child": True},
        {"platform_user_id": "p-covered"},
        {"platform_user_id": "p-plain"},
    )
    ids = {
        row["platform_user_id"]: str(row["id"])
        for row in make.rows("SELECT platform_user_id, id FROM users")
    }
    long_ago = datetime.now(UTC) - timedelta(days=20)
    make.consent(ids["p-kid"], skill, granted_at=long_ago)
    make.consent(ids["p-covered"], skill, granted_at=long_ago, categories=["health"])
    make.consent(ids["p-plain"], skill, granted_at=long_ago)
    records = [
        _record(skill, user="p-kid", n=1),
        _record(skill, user="p-covered", n=2, sensitive_category="health"),
        _record(skill, user="p-plain", n=3, sensitive_category="health"),
        _record(skill, user="p-plain", n=4),
    ]
    created = {
        i["interaction_id"]: i["id"]
        for i in _post(client, platform, *records).get_json()["interactions"]
    }
    listed = client.get(f"/v1/skills/{skill}/interactions", headers=headers).get_json()
    assert sorted(i["id"] for i in listed["interactions"]) == sorted(
        [created["p-int-2"], created["p-int-4"]]
    )
