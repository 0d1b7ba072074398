"""The developer read path over HTTP: tiers, consent windows, protected groups, redaction, logs."""

from datetime import UTC, datetime, timedelta

import pytest

from gateway import create_app
from gateway.db import SharedConnection
from gateway.security import sign_cursor
from gateway.views.developers import _fingerprint


@pytest.fixture
def reader(make, bearer):
    """Build a developer on `tier` with one skill, one user who consented days ago, a token."""

    def build(tier: str, *, name: str | None = None, skill_name: str | None = None):
        developer = make.developer(tier=tier, name=name)
        skill = make.skill(developer, name=skill_name)
        user = make.user()
        make.consent(user, skill, granted_at=datetime.now(UTC) - timedelta(days=10))
        headers = bearer(make.client(developer_id=developer))
        return {"developer": developer, "skill": skill, "user": user, "headers": headers}

    return build


@pytest.fixture
def pizza(reader):
    return reader("standard", name="Pizza Palace Inc.", skill_name="Pizza Palace")


def _ids(response):
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["interactions"]]


def test_who_am_i_shows_tier_limits_and_skills(client, pizza):
    body = client.get("/v1/developer", headers=pizza["headers"]).get_json()
    assert body["name"] == "Pizza Palace Inc."
    assert body["tier"]["name"] == "standard"
    assert body["tier"]["retention_days"] == 30
    assert body["tier"]["page_size"] == 50
    assert body["tier"]["rate_limit"] == "60 per minute"
    assert "response" not in body["tier"]["fields"]
    assert [s["name"] for s in body["skills"]] == ["Pizza Palace"]


def test_skills_lists_only_own(client, make, pizza):
    other = make.developer(tier="trusted")
    make.skill(other, name="Other Skill")
    body = client.get("/v1/skills", headers=pizza["headers"]).get_json()
    assert [s["id"] for s in body["skills"]] == [pizza["skill"]]
    assert client.get(f"/v1/skills/{pizza['skill']}", headers=pizza["headers"]).status_code == 200


def test_another_developers_skill_answers_like_a_missing_one(client, make, pizza):
    other = make.developer(tier="trusted")
    foreign_skill = make.skill(other)
    user = make.user()
    make.consent(user, foreign_skill, granted_at=datetime.now(UTC) - timedelta(days=1))
    foreign = make.interaction(foreign_skill, user)
    missing = "00000000-0000-4000-8000-000000000000"
    for path in (
        f"/v1/skills/{foreign_skill}",
        f"/v1/skills/{foreign_skill}/interactions",
        f"/v1/skills/{foreign_skill}/interactions/{foreign}",
        f"/v1/skills/{pizza['skill']}/interactions/{foreign}",
    ):
        forbidden = client.get(path, headers=pizza["headers"])
        absent = client.get(
            path.replace(foreign_skill, missing).replace(foreign, missing), headers=pizza["headers"]
        )
        assert forbidden.status_code == absent.status_code == 404
        assert forbidden.data == absent.data


def test_interaction_shows_tier_fields_redacted_and_pseudonymous(client, make, pizza, conn):
    interaction = make.interaction(
        pizza["skill"],
        pizza["user"],
        occurred_at=datetime.now(UTC) - timedelta(hours=1),
        utterance="my email is jane.doe@example.com and my card is 4111 1111 1111 1111",
        response="Thanks, I emailed jane.doe@example.com",
        slots={"phone": "555-867-5309"},
        order_ref="8F3K2",
        device_serial="SERIAL-XYZ-123",
    )
    item = client.get(
        f"/v1/skills/{pizza['skill']}/interactions/{interaction}", headers=pizza["headers"]
    ).get_json()
    assert "jane.doe" not in item["utterance"]
    assert "4111" not in item["utterance"]
    assert item["order_ref"] == "8F3K2"
    # standard tier: no assistant response, no slots, no session
    assert {"response", "slots", "session"}.isdisjoint(item)
    assert item["user"] != pizza["user"] and item["user"].startswith("k1_")
    body = str(item)
    for secret in ("SERIAL-XYZ", pizza["user"], "audio", "platform-user"):
        assert secret not in body


def test_trusted_tier_sees_more_fields_with_one_numbering(client, make, reader):
    trusted = reader("trusted")
    make.interaction(
        trusted["skill"],
        trusted["user"],
        utterance="text jane.doe@example.com please",
        response="I texted jane.doe@example.com",
        slots={"contact": "jane.doe@example.com"},
        session_id="session-1",
    )
    path = f"/v1/skills/{trusted['skill']}/interactions"
    (item,) = client.get(path, headers=trusted["headers"]).get_json()["interactions"]
    assert "[EMAIL_1]" in item["utterance"] and "[EMAIL_1]" in item["response"]
    assert item["slots"] == [{"name": "contact", "value": "[EMAIL_1]"}]
    assert item["session"] and "session-1" not in item["session"]


def test_pseudonyms_are_stable_per_developer_and_differ_across_developers(client, make, bearer):
    user = make.user()
    seen = []
    for _ in range(2):
        developer = make.developer(tier="standard")
        skill = make.skill(developer)
        make.consent(user, skill, granted_at=datetime.now(UTC) - timedelta(days=1))
        make.interaction(skill, user)
        make.interaction(skill, user)
        headers = bearer(make.client(developer_id=developer))
        items = client.get(f"/v1/skills/{skill}/interactions", headers=headers).get_json()
        pseudonyms = {item["user"] for item in items["interactions"]}
        assert len(pseudonyms) == 1
        seen.append(pseudonyms.pop())
    assert seen[0] != seen[1]


def test_none_tier_gets_no_transcripts_but_sees_itself(client, make, reader):
    registered = reader("none")
    skill, headers = registered["skill"], registered["headers"]
    interaction = make.interaction(skill, registered["user"])
    assert client.get("/v1/developer", headers=headers).get_json()["tier"]["name"] == "none"
    for path in (
        f"/v1/skills/{skill}/interactions",
        f"/v1/skills/{skill}/interactions/{interaction}",
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 403
        assert response.get_json()["details"] == {"tier": "none"}


def test_developer_without_any_grant_is_on_none(client, make, bearer):
    developer = make.developer(tier=None)
    headers = bearer(make.client(developer_id=developer))
    assert client.get("/v1/developer", headers=headers).get_json()["tier"]["name"] == "none"


def test_an_expired_grant_leaves_the_developer_on_none_not_on_an_older_grant(
    client, make, bearer, conn
):
    # each grant replaces the one before: when the newest ends, the older one does not revive
    developer = make.developer(tier="standard")
    make.tier_grant(developer, "trusted", expires_at=datetime.now(UTC) - timedelta(seconds=1))
    headers = bearer(make.client(developer_id=developer))
    assert client.get("/v1/developer", headers=headers).get_json()["tier"]["name"] == "none"


def test_retention_window_hides_older_interactions(client, make, pizza):
    now = datetime.now(UTC)
    old = make.interaction(pizza["skill"], pizza["user"], occurred_at=now - timedelta(days=9))
    recent = make.interaction(pizza["skill"], pizza["user"], occurred_at=now - timedelta(days=1))
    assert _ids(
        client.get(f"/v1/skills/{pizza['skill']}/interactions", headers=pizza["headers"])
    ) == [
        recent,
        old,
    ]
    # a consent granted 40 days ago, interactions 31 and 29 days ago: only the 29-day one is in
    user = make.user()
    make.consent(user, pizza["skill"], granted_at=now - timedelta(days=40))
    outside = make.interaction(pizza["skill"], user, occurred_at=now - timedelta(days=31))
    inside = make.interaction(pizza["skill"], user, occurred_at=now - timedelta(days=29))
    ids = _ids(client.get(f"/v1/skills/{pizza['skill']}/interactions", headers=pizza["headers"]))
    assert inside in ids and outside not in ids
    detail = client.get(
        f"/v1/skills/{pizza['skill']}/interactions/{outside}", headers=pizza["headers"]
    )
    assert detail.status_code == 404


def test_consent_windows_grant_revoke_grant(client, make, pizza):
    now = datetime.now(UTC)
    skill, user = make.skill(pizza["developer"]), make.user()
    before = make.interaction(skill, user, occurred_at=now - timedelta(days=9))
    make.consent(user, skill, granted_at=now - timedelta(days=8))
    first_window = make.interaction(skill, user, occurred_at=now - timedelta(days=7))
    make.revoke(user, skill, revoked_at=now - timedelta(days=6))
    gap = make.interaction(skill, user, occurred_at=now - timedelta(days=5))
    make.consent(user, skill, granted_at=now - timedelta(days=4))
    second_window = make.interaction(skill, user, occurred_at=now - timedelta(days=3))
    ids = _ids(client.get(f"/v1/skills/{skill}/interactions", headers=pizza["headers"]))
    # revoked since: the first window stays closed even though consent was granted again
    assert ids == [second_window]
    for hidden in (before, first_window, gap):
        response = client.get(f"/v1/skills/{skill}/interactions/{hidden}", headers=pizza["headers"])
        assert response.status_code == 404


def test_no_consent_means_nothing(client, make, pizza):
    user = make.user()
    make.interaction(pizza["skill"], user)
    assert (
        _ids(client.get(f"/v1/skills/{pizza['skill']}/interactions", headers=pizza["headers"]))
        == []
    )


def test_revocation_takes_effect_on_the_next_request(client, make, pizza):
    interaction = make.interaction(pizza["skill"], pizza["user"])
    path = f"/v1/skills/{pizza['skill']}/interactions/{interaction}"
    assert client.get(path, headers=pizza["headers"]).status_code == 200
    make.revoke(pizza["user"], pizza["skill"])
    assert client.get(path, headers=pizza["headers"]).status_code == 404


def test_child_profiles_are_never_readable(client, make, pizza):
    child = make.user(is_child=True)
    make.consent(child, pizza["skill"], granted_at=datetime.now(UTC) - timedelta(days=1))
    interaction = make.interaction(pizza["skill"], child)
    assert (
        _ids(client.get(f"/v1/skills/{pizza['skill']}/interactions", headers=pizza["headers"]))
        == []
    )
    path = f"/v1/skills/{pizza['skill']}/interactions/{interaction}"
    assert client.get(path, headers=pizza["headers"]).status_code == 404


def test_sensitive_interactions_need_a_consent_that_covers_them(client, make, pizza):
    now = datetime.now(UTC)
    covered_user, plain_user = make.user(), make.user()
    make.consent(
        covered_user, pizza["skill"], categories=["health"], granted_at=now - timedelta(days=1)
    )
    make.consent(plain_user, pizza["skill"], granted_at=now - timedelta(days=1))
    covered = make.interaction(pizza["skill"], covered_user, sensitive_category="health")
    uncovered = make.interaction(pizza["skill"], plain_user, sensitive_category="health")
    wrong_cover = make.interaction(pizza["skill"], covered_user, sensitive_category="finance")
    ids = _ids(client.get(f"/v1/skills/{pizza['skill']}/interactions", headers=pizza["headers"]))
    assert covered in ids
    assert uncovered not in ids and wrong_cover not in ids


def test_every_read_is_logged_in_the_same_transaction(client, make, pizza):
    first = make.interaction(pizza["skill"], pizza["user"])
    second = make.interaction(pizza["skill"], pizza["user"])
    client.get(f"/v1/skills/{pizza['skill']}/interactions", headers=pizza["headers"])
    client.get(f"/v1/skills/{pizza['skill']}/interactions/{first}", headers=pizza["headers"])
    rows = make.rows(
        "SELECT interaction_id, user_id, endpoint, developer_id FROM access_log ORDER BY id"
    )
    logged = [(str(r["interaction_id"]), r["endpoint"]) for r in rows]
    assert sorted(logged[:2]) == sorted([(first, "list"), (second, "list")])
    assert logged[2:] == [(first, "detail")]
    assert {r["developer_id"] for r in rows} == {pizza["developer"]}
    assert {str(r["user_id"]) for r in rows} == {pizza["user"]}


def test_the_read_path_runs_from_plans_made_once(client, make, pizza, conn):
    """Once psycopg has prepared the read path's statements (their fifth execution on a
    connection), PostgreSQL runs them from generic plans: none is planned again per page."""
    make.interaction(pizza["skill"], pizza["user"])
    for _ in range(7):
        page = client.get(f"/v1/skills/{pizza['skill']}/interactions", headers=pizza["headers"])
        assert page.status_code == 200
    prepared = conn.execute(
        "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
    ).fetchall()
    read_path = {
        "token": "FROM oauth_tokens",
        "developer and tier": "d.suspended_at",
        "skill": "created_at FROM skills",
        "page": "interaction_texts t",
        "access log": "INSERT INTO access_log",
        "pseudonyms": "INSERT INTO user_pseudonyms",
    }
    for step, text in read_path.items():
        plans = [
            (row["generic_plans"], row["custom_plans"])
            for row in prepared
            if text in row["statement"]
        ]
        assert plans, f"the {step} statement was not prepared"
        assert all(generic >= 2 and custom == 0 for generic, custom in plans), (step, plans)


def test_filters(client, make, pizza):
    now = datetime.now(UTC)
    other_user = make.user()
    make.consent(other_user, pizza["skill"], granted_at=now - timedelta(days=10))
    a = make.interaction(
        pizza["skill"],
        pizza["user"],
        occurred_at=now - timedelta(days=3),
        intent="OrderPizza",
        outcome="success",
        order_ref="A1",
    )
    b = make.interaction(
        pizza["skill"],
        pizza["user"],
        occurred_at=now - timedelta(days=2),
        intent="TrackOrder",
        outcome="failure",
        order_ref="B2",
    )
    c = make.interaction(
        pizza["skill"],
        other_user,
        occurred_at=now - timedelta(days=1),
        intent="OrderPizza",
        outcome="failure",
        order_ref="C3",
    )
    base = f"/v1/skills/{pizza['skill']}/interactions"
    h = pizza["headers"]
    assert _ids(client.get(base + "?intent=OrderPizza", headers=h)) == [c, a]
    assert _ids(client.get(base + "?outcome=failure", headers=h)) == [c, b]
    assert _ids(client.get(base + "?order_ref=B2", headers=h)) == [b]
    since = (now - timedelta(days=2, hours=1)).isoformat()
    until = (now - timedelta(hours=30)).isoformat()
    assert _ids(client.get(base, query_string={"since": since, "until": until}, headers=h)) == [b]
    pseudonym = client.get(f"{base}/{c}", headers=h).get_json()["user"]
    assert _ids(client.get(base, query_string={"user": pseudonym}, headers=h)) == [c]
    assert _ids(client.get(base, query_string={"user": "k1_unknownpseudonym"}, headers=h)) == []


def test_page_size_is_capped_by_the_tier_and_pages_do_not_overlap(client, make, pizza):
    now = datetime.now(UTC)
    made = [
        make.interaction(pizza["skill"], pizza["user"], occurred_at=now - timedelta(minutes=i))
        for i in range(60)
    ]
    base = f"/v1/skills/{pizza['skill']}/interactions"
    first = client.get(base + "?limit=500", headers=pizza["headers"]).get_json()
    assert len(first["interactions"]) == 50  # standard tier's page size
    second = client.get(
        base, query_string={"limit": 500, "cursor": first["next_cursor"]}, headers=pizza["headers"]
    ).get_json()
    assert second["next_cursor"] is None
    seen = [i["id"] for i in first["interactions"] + second["interactions"]]
    assert seen == made  # newest first, each once


def test_pagination_neither_skips_nor_repeats_under_inserts(client, make, pizza):
    now = datetime.now(UTC)
    original = [
        make.interaction(pizza["skill"], pizza["user"], occurred_at=now - timedelta(minutes=10 + i))
        for i in range(25)
    ]
    base = f"/v1/skills/{pizza['skill']}/interactions"
    seen, cursor, step = [], None, 0
    while True:
        query = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = client.get(base, query_string=query, headers=pizza["headers"]).get_json()
        seen += [item["id"] for item in page["interactions"]]
        # between pages, newer interactions land; the keyset cursor must not shift because of them
        make.interaction(pizza["skill"], pizza["user"], occurred_at=now - timedelta(seconds=step))
        step += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen))
    assert [i for i in seen if i in original] == original


@pytest.mark.parametrize(
    "query",
    [
        {"since": "yesterday"},
        {"until": "2026-01-01T00:00:00"},  # RFC 3339 needs an offset
        {"limit": "0"},
        {"limit": "100000"},
        {"limit": "ten"},
        {"colour": "blue"},
        {"cursor": "forged.cursor"},
        {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
    ],
)
def test_bad_queries_get_a_422_envelope_and_log_nothing(client, make, pizza, query):
    make.interaction(pizza["skill"], pizza["user"])
    response = client.get(
        f"/v1/skills/{pizza['skill']}/interactions", query_string=query, headers=pizza["headers"]
    )
    assert response.status_code == 422
    body = response.get_json()
    assert set(body) == {"error", "error_description", "details"}
    assert body["error"] == "invalid_request"
    assert make.count("access_log") == 0


def test_a_cursor_only_works_for_its_own_query(client, make, pizza):
    for i in range(3):
        make.interaction(
            pizza["skill"], pizza["user"], occurred_at=datetime.now(UTC) - timedelta(minutes=i)
        )
    base = f"/v1/skills/{pizza['skill']}/interactions"
    cursor = client.get(base + "?limit=1", headers=pizza["headers"]).get_json()["next_cursor"]
    assert cursor
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    reused = client.get(
        base, query_string={"cursor": cursor, "intent": "Other"}, headers=pizza["headers"]
    )
    forged = client.get(base, query_string={"cursor": tampered}, headers=pizza["headers"])
    assert reused.status_code == forged.status_code == 422


def test_suspended_developer_is_refused(client, make, pizza):
    make.suspend(pizza["developer"])
    assert client.get("/v1/skills", headers=pizza["headers"]).status_code == 403


def test_the_order_reference_reads_the_same_in_the_text(client, make, reader):
    trusted = reader("trusted")
    make.interaction(
        trusted["skill"],
        trusted["user"],
        utterance="is prescription 48213377 ready",
        response="Yes, 48213377 is ready. We will text 555-867-5309.",
        slots={"rx": "48213377"},
        order_ref="48213377",
    )
    path = f"/v1/skills/{trusted['skill']}/interactions"
    (item,) = client.get(path, headers=trusted["headers"]).get_json()["interactions"]
    assert item["order_ref"] == "48213377"
    assert "48213377" in item["utterance"] and "48213377" in item["response"]
    assert item["slots"] == [{"name": "rx", "value": "48213377"}]
    assert "5309" not in item["response"]


def test_a_tier_naming_an_unknown_policy_fails_closed_to_strict(client, make, reader, conn):
    conn.execute("RESET ROLE")  # tiers are the owner's table; admins edit them
    conn.execute(
        "INSERT INTO tiers (name, transcripts_readable, fields, retention_days, redaction_policy,"
        " page_size, rate_limit) VALUES ('typo', true, '{utterance}', 30, 'standrad', 50,"
        " '60 per minute')"
    )
    conn.execute("SET LOCAL ROLE gateway_app")
    typo = reader("typo")
    make.interaction(
        typo["skill"], typo["user"], utterance="my zip code is 62704, call 555-867-5309"
    )
    response = client.get(f"/v1/skills/{typo['skill']}/interactions", headers=typo["headers"])
    assert response.status_code == 200
    (item,) = response.get_json()["interactions"]
    # strict: the ZIP is a placeholder too (standard would keep "627xx")
    assert item["utterance"] == "my zip code is [ZIP_1], call [PHONE_1]"


def test_nothing_tells_whether_audio_exists(client, make, pizza, conn):
    occurred = datetime.now(UTC) - timedelta(hours=1)
    with_audio = make.interaction(
        pizza["skill"],
        pizza["user"],
        occurred_at=occurred,
        audio_ref="s3://platform-audio/2026/11/rec-123.wav",
    )
    without_audio = make.interaction(pizza["skill"], pizza["user"], occurred_at=occurred)
    assert make.rows("SELECT count(*) AS n FROM interactions")[0]["n"] == 2
    base = f"/v1/skills/{pizza['skill']}/interactions"
    bodies = {
        i: client.get(f"{base}/{i}", headers=pizza["headers"]).get_json()
        for i in (with_audio, without_audio)
    }
    listed = client.get(base, headers=pizza["headers"]).get_data(as_text=True)

    def without_id(body):
        return {k: v for k, v in body.items() if k != "id"}

    assert without_id(bodies[with_audio]) == without_id(bodies[without_audio])
    for text in (listed, str(bodies)):
        assert "rec-123" not in text and "audio" not in text.lower() and ".wav" not in text


def _three_pages(make, who):
    now = datetime.now(UTC)
    return [
        make.interaction(who["skill"], who["user"], occurred_at=now - timedelta(minutes=i))
        for i in range(3)
    ]


def test_a_cursor_made_under_another_signing_key_is_refused(
    client, make, pizza, conn, app_settings
):
    made = _three_pages(make, pizza)
    base = f"/v1/skills/{pizza['skill']}/interactions"
    cursor = client.get(base + "?limit=1", headers=pizza["headers"]).get_json()["next_cursor"]
    rekeyed = create_app(
        app_settings(DATABASE=SharedConnection(conn), SECRET_KEY="another-secret")
    ).test_client()
    same_key = create_app(app_settings(DATABASE=SharedConnection(conn))).test_client()
    query = {"limit": 1, "cursor": cursor}

    refused = rekeyed.get(base, query_string=query, headers=pizza["headers"])
    accepted = same_key.get(base, query_string=query, headers=pizza["headers"])

    assert refused.status_code == 422
    assert refused.get_json()["details"] == {
        "cursor": ["Not a cursor from this query; start again."]
    }
    assert accepted.status_code == 200
    assert [i["id"] for i in accepted.get_json()["interactions"]] == made[1:2]


def test_a_cursor_is_signed_with_the_configured_key(client, make, pizza):
    made = _three_pages(make, pizza)
    base = f"/v1/skills/{pizza['skill']}/interactions"
    first = client.get(base, query_string={"limit": 1}, headers=pizza["headers"]).get_json()
    (item,) = first["interactions"]
    payload = {"t": item["occurred_at"], "i": item["id"], "q": _fingerprint(pizza["skill"], {})}

    def read(key):
        cursor = sign_cursor(payload, key=key)
        return client.get(
            base, query_string={"limit": 1, "cursor": cursor}, headers=pizza["headers"]
        )

    assert [i["id"] for i in read(b"test-secret").get_json()["interactions"]] == made[1:2]
    assert read(b"a-guessed-key").status_code == 422


def test_a_cursor_from_one_skill_is_refused_on_another(client, make, pizza):
    _three_pages(make, pizza)
    other_skill = make.skill(pizza["developer"])
    other_user = make.user()
    make.consent(other_user, other_skill, granted_at=datetime.now(UTC) - timedelta(days=1))
    _three_pages(make, {"skill": other_skill, "user": other_user})
    cursor = client.get(
        f"/v1/skills/{pizza['skill']}/interactions?limit=1", headers=pizza["headers"]
    ).get_json()["next_cursor"]

    reused = client.get(
        f"/v1/skills/{other_skill}/interactions",
        query_string={"limit": 1, "cursor": cursor},
        headers=pizza["headers"],
    )

    assert reused.status_code == 422
    assert "cursor" in reused.get_json()["details"]
