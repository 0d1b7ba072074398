"""The admin API for developers, skills and OAuth clients: validation, the lifecycle rules
(suspension, rotation with grace, revocation) and one audit row per action (rule 7)."""

import pytest
from tokens import mint_token

from gateway.services import audit
from gateway.services import oauth_clients as clients_service

ADMIN = "/v1/admin"


@pytest.fixture
def admin(make, bearer):
    credentials = make.client(kind="admin")
    return {"credentials": credentials, "headers": bearer(credentials)}


@pytest.fixture
def headers(admin):
    return admin["headers"]


def events(make, action, **where):
    """The audit rows of `action` (optionally about one developer or subject), oldest first."""
    # this test's rows only: they carry its transaction's start time exactly, while committed
    # tests elsewhere leave rows behind or commit them meanwhile (developer ids restart)
    clauses = ["action = %(action)s", "occurred_at = now()"]
    clauses += [f"{name} = %({name})s" for name in where]
    query = (
        "SELECT actor_kind, actor_id, action, developer_id, skill_id, subject, details"
        f" FROM audit_events WHERE {' AND '.join(clauses)} ORDER BY id"  # noqa: S608
    )
    return make.rows(query, {"action": action, **where})


def developer_row(make, developer_id):
    return make.rows("SELECT * FROM developers WHERE id = %s", (developer_id,))[0]


def token_for(client, credentials):
    return {"Authorization": f"Bearer {mint_token(client, credentials)}"}


# --- developers


def test_register_show_and_list_developers(client, make, headers, admin):
    created = client.post(
        f"{ADMIN}/developers",
        json={"name": "Pizza Palace Ltd", "contact_email": "ops@pizza.example"},
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["name"] == "Pizza Palace Ltd" and body["tier"] == "none"
    assert body["suspended_at"] is None and body["tier_expires_at"] is None

    shown = client.get(f"{ADMIN}/developers/{body['id']}", headers=headers).get_json()
    assert shown["contact_email"] == "ops@pizza.example"
    assert shown["skills"] == [] and shown["clients"] == []

    [row] = events(make, "developer.registered", developer_id=body["id"])
    assert (row["actor_kind"], row["actor_id"]) == ("client", admin["credentials"].client_id)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "Acme", "contact_email": "not an address"}, "contact_email"),
        ({"name": "", "contact_email": "a@b.example"}, "name"),
        ({"name": "Tab\there", "contact_email": "a@b.example"}, "name"),
        ({"name": " padded", "contact_email": "a@b.example"}, "name"),
        ({"name": "x" * 201, "contact_email": "a@b.example"}, "name"),
        ({"contact_email": "a@b.example"}, "name"),
        ({"name": "Acme", "contact_email": "a@b.example", "id": 7}, "id"),
        ({"name": "Acme", "contact_email": "a@b.example", "suspended_at": None}, "suspended_at"),
    ],
)
def test_a_bad_registration_is_a_422_that_changes_nothing(client, make, headers, body, field):
    before = make.count("developers"), len(events(make, "developer.registered"))

    response = client.post(f"{ADMIN}/developers", json=body, headers=headers)

    assert response.status_code == 422
    assert field in response.get_json()["details"]
    # counted, not required empty: committed tests elsewhere leave rows in the log
    assert (make.count("developers"), len(events(make, "developer.registered"))) == before


def test_a_taken_name_is_a_409(client, make, headers):
    make.developer(name="Taken Inc")

    response = client.post(
        f"{ADMIN}/developers",
        json={"name": "Taken Inc", "contact_email": "a@b.example"},
        headers=headers,
    )

    assert response.status_code == 409
    assert response.get_json()["error"] == "conflict"


def test_the_list_pages_with_a_signed_cursor_and_shows_tier_and_expiry(
    client, make, headers, clock
):
    from datetime import timedelta

    ids = [make.developer(tier=None) for _ in range(5)]
    make.tier_grant(ids[0], "trusted", expires_at=clock.now + timedelta(days=20))
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{ADMIN}/developers", query_string=query, headers=headers).get_json()
        assert len(page["developers"]) <= 2
        seen += page["developers"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    by_id = {row["id"]: row for row in seen}
    assert set(ids) <= set(by_id)
    assert [row["id"] for row in seen] == sorted(by_id)
    assert by_id[ids[0]]["tier"] == "trusted" and by_id[ids[0]]["tier_expires_at"]
    assert by_id[ids[1]]["tier"] == "none" and by_id[ids[1]]["tier_expires_at"] is None

    first = client.get(f"{ADMIN}/developers", query_string={"limit": 1}, headers=headers)
    cursor = first.get_json()["next_cursor"]
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    for bad in (
        {"cursor": tampered},
        {"cursor": cursor, "suspended": "true"},  # another query's cursor
    ):
        refused = client.get(f"{ADMIN}/developers", query_string=bad, headers=headers)
        assert refused.status_code == 422 and "cursor" in refused.get_json()["details"]
    other_list = client.get(f"{ADMIN}/clients", query_string={"cursor": cursor}, headers=headers)
    assert other_list.status_code == 422


def test_the_list_filters_by_suspension(client, make, headers):
    active, suspended = make.developer(), make.developer()
    make.suspend(suspended)

    only = client.get(
        f"{ADMIN}/developers", query_string={"suspended": "true", "limit": 200}, headers=headers
    ).get_json()["developers"]

    assert suspended in {row["id"] for row in only}
    assert active not in {row["id"] for row in only}


def test_an_unknown_developer_is_a_404(client, headers):
    for method, path in [
        ("GET", "/developers/999999999"),
        ("POST", "/developers/999999999/suspension"),
        ("DELETE", "/developers/999999999/suspension"),
        ("GET", "/developers/999999999/skills"),
        ("POST", "/developers/999999999/skills"),
    ]:
        body = {"name": "Skill"} if path.endswith("skills") else {}
        response = client.open(
            f"{ADMIN}{path}",
            method=method,
            json=body if method == "POST" else None,
            headers=headers,
        )
        assert response.status_code == 404, (method, path)


# --- suspension


def test_suspension_stops_live_tokens_at_once_and_the_token_endpoint_until_reinstated(
    client, make, headers, admin
):
    developer = make.developer()
    first, second = make.client(developer_id=developer), make.client(developer_id=developer)
    other = make.client(developer_id=make.developer())
    live = [token_for(client, first), token_for(client, first), token_for(client, second)]
    bystander = token_for(client, other)
    assert all(client.get("/v1/developer", headers=h).status_code == 200 for h in live)

    suspended = client.post(f"{ADMIN}/developers/{developer}/suspension", json={}, headers=headers)

    assert suspended.status_code == 200 and suspended.get_json()["suspended_at"]
    assert suspended.get_json()["tokens_revoked"] == 3
    for h in live:
        response = client.get("/v1/developer", headers=h)
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert client.get("/v1/developer", headers=bystander).status_code == 200
    refused = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(first.client_id, first.client_secret),
    )
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "unauthorized_client"
    assert "suspended" in refused.get_json()["error_description"]
    # introspection agrees: the tokens are dead, not just refused by one route
    introspected = client.post(
        "/oauth/introspect",
        data={"token": live[0]["Authorization"].split()[1]},
        auth=(first.client_id, first.client_secret),
    )
    assert introspected.get_json() == {"active": False}
    again = client.post(f"{ADMIN}/developers/{developer}/suspension", json={}, headers=headers)
    assert again.status_code == 409

    [row] = events(make, "developer.suspended", developer_id=developer)
    assert row["actor_id"] == admin["credentials"].client_id
    revoked = events(make, "token.revoked", developer_id=developer)
    assert len(revoked) == 3
    assert {r["details"]["cause"] for r in revoked} == {"developer.suspended"}

    reinstated = client.delete(f"{ADMIN}/developers/{developer}/suspension", headers=headers)
    assert reinstated.status_code == 200 and reinstated.get_json()["suspended_at"] is None
    # the old tokens stay dead; new ones are issued again
    assert client.get("/v1/developer", headers=live[0]).status_code == 401
    assert client.get("/v1/developer", headers=token_for(client, first)).status_code == 200
    assert len(events(make, "developer.reinstated", developer_id=developer)) == 1
    assert (
        client.delete(f"{ADMIN}/developers/{developer}/suspension", headers=headers).status_code
        == 409
    )


def test_suspension_takes_no_body_fields(client, make, headers):
    developer, other = make.developer(), make.developer()

    for body in ({"developer_id": other}, {"developer_id": developer}, [], "x"):
        response = client.post(
            f"{ADMIN}/developers/{developer}/suspension", json=body, headers=headers
        )
        assert response.status_code == 422, body

    assert developer_row(make, developer)["suspended_at"] is None
    assert developer_row(make, other)["suspended_at"] is None
    for someone in (developer, other):
        assert events(make, "developer.suspended", developer_id=someone) == []


# --- skills


def test_register_and_list_a_developers_skills(client, make, headers):
    developer, other = make.developer(), make.developer()
    make.skill(other)

    created = client.post(
        f"{ADMIN}/developers/{developer}/skills",
        json={"name": "Pizza Order", "category": "food"},
        headers=headers,
    )

    assert created.status_code == 201, created.get_json()
    skill = created.get_json()
    assert skill["developer_id"] == developer and skill["category"] == "food"
    mine = client.get(f"{ADMIN}/developers/{developer}/skills", headers=headers).get_json()
    assert [s["id"] for s in mine["skills"]] == [skill["id"]]
    everyone = client.get(
        f"{ADMIN}/skills", query_string={"developer": developer}, headers=headers
    ).get_json()
    assert [s["id"] for s in everyone["skills"]] == [skill["id"]]
    [row] = events(make, "skill.registered", developer_id=developer)
    assert str(row["skill_id"]) == skill["id"]
    # the developer sees it as its own
    headers_dev = token_for(client, make.client(developer_id=developer))
    assert client.get(f"/v1/skills/{skill['id']}", headers=headers_dev).status_code == 200


def test_a_body_cannot_move_a_skill_to_another_developer(client, make, headers):
    developer, other = make.developer(), make.developer()

    for smuggled in (other, developer):
        response = client.post(
            f"{ADMIN}/developers/{developer}/skills",
            json={"name": "Sneaky", "developer_id": smuggled},
            headers=headers,
        )
        assert response.status_code == 422
        assert "developer_id" in response.get_json()["details"]

    assert make.rows("SELECT count(*) AS n FROM skills WHERE name = 'Sneaky'")[0]["n"] == 0
    for someone in (developer, other):
        assert events(make, "skill.registered", developer_id=someone) == []


@pytest.mark.parametrize(
    "body", [{"name": ""}, {"name": "Ok", "category": "Food!"}, {"category": "food"}]
)
def test_a_bad_skill_is_a_422(client, make, headers, body):
    developer = make.developer()

    response = client.post(f"{ADMIN}/developers/{developer}/skills", json=body, headers=headers)

    assert response.status_code == 422
    assert (
        make.rows("SELECT count(*) AS n FROM skills WHERE developer_id = %s", (developer,))[0]["n"]
        == 0
    )


# --- clients


def test_create_a_client_of_each_kind_with_its_own_scopes(client, make, headers):
    developer = make.developer()
    for body, scope in (
        ({"kind": "developer", "developer_id": developer, "name": "ci"}, "transcripts:read"),
        ({"kind": "admin"}, "admin"),
        ({"kind": "platform"}, "ingest"),
    ):
        created = client.post(f"{ADMIN}/clients", json=body, headers=headers)
        assert created.status_code == 201, created.get_json()
        issued = created.get_json()
        assert issued["scopes"] == [scope] and issued["client_secret"]
        token = client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(issued["client_id"], issued["client_secret"]),
        )
        assert token.status_code == 200 and token.get_json()["scope"] == scope
        stored = make.rows(
            "SELECT secret_hash FROM oauth_clients WHERE client_id = %s", (issued["client_id"],)
        )[0]["secret_hash"]
        assert issued["client_secret"] not in stored
        assert events(make, "client.created", subject=issued["client_id"])


def test_the_client_list_never_shows_a_secret_or_a_hash(client, make, headers):
    developer = make.developer()
    issued = make.client(developer_id=developer)
    hashes = [r["secret_hash"] for r in make.rows("SELECT secret_hash FROM oauth_clients")]

    listed = client.get(f"{ADMIN}/clients", query_string={"developer": developer}, headers=headers)
    detail = client.get(f"{ADMIN}/developers/{developer}", headers=headers)
    one = client.get(f"{ADMIN}/clients/{issued.client_id}", headers=headers)

    assert [c["client_id"] for c in listed.get_json()["clients"]] == [issued.client_id]
    for response in (listed, detail, one):
        text = response.get_data(as_text=True)
        assert issued.client_secret not in text
        assert "secret_hash" not in text and not any(h in text for h in hashes)
        assert "sha256$" not in text


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "developer"}, "developer_id"),
        ({"kind": "admin", "developer_id": 1}, "developer_id"),
        ({"kind": "developer", "developer_id": True}, "developer_id"),
        ({"kind": "developer", "developer_id": "1"}, "developer_id"),
        ({"kind": "root"}, "kind"),
        ({"kind": "admin", "scopes": ["admin", "ingest"]}, "scopes"),
        ({"kind": "admin", "client_secret": "mine"}, "client_secret"),
    ],
)
def test_a_bad_client_is_a_422_that_creates_nothing(client, make, headers, body, field):
    before = make.count("oauth_clients")

    response = client.post(f"{ADMIN}/clients", json=body, headers=headers)

    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["details"]
    assert make.count("oauth_clients") == before


def test_a_client_for_an_unknown_developer_is_a_404(client, headers):
    response = client.post(
        f"{ADMIN}/clients", json={"kind": "developer", "developer_id": 987654321}, headers=headers
    )

    assert response.status_code == 404


def _token_status(client, credentials) -> int:
    return client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(credentials.client_id, credentials.client_secret),
    ).status_code


def test_a_rotation_without_grace_stops_the_old_secret_and_its_tokens_at_once(
    client, make, headers
):
    credentials = make.client(developer_id=make.developer())
    old_token = token_for(client, credentials)

    rotated = client.post(
        f"{ADMIN}/clients/{credentials.client_id}/rotation", json={}, headers=headers
    )

    assert rotated.status_code == 200, rotated.get_json()
    body = rotated.get_json()
    assert body["previous_secret_valid_until"] is None and body["secret_version"] == 2
    assert _token_status(client, credentials) == 401
    assert client.get("/v1/developer", headers=old_token).status_code == 401
    new = clients_service.IssuedClient(credentials.client_id, body["client_secret"], "", [])
    assert client.get("/v1/developer", headers=token_for(client, new)).status_code == 200
    [row] = events(make, "client.rotated", subject=credentials.client_id)
    assert row["details"] == {"secret_version": 2, "grace_seconds": 0}


def test_during_grace_both_secrets_work_and_after_it_only_the_new(client, make, headers, clock):
    credentials = make.client(developer_id=make.developer())
    token_before = token_for(client, credentials)

    rotated = client.post(
        f"{ADMIN}/clients/{credentials.client_id}/rotation",
        json={"grace_seconds": 600},
        headers=headers,
    ).get_json()
    new = clients_service.IssuedClient(credentials.client_id, rotated["client_secret"], "", [])

    assert rotated["previous_secret_valid_until"]
    token_old_in_grace = token_for(client, credentials)
    token_new = token_for(client, new)
    for h in (token_before, token_old_in_grace, token_new):
        assert client.get("/v1/developer", headers=h).status_code == 200
    clock.advance(seconds=601)
    assert _token_status(client, credentials) == 401
    assert _token_status(client, new) == 200
    for h in (token_before, token_old_in_grace):
        assert client.get("/v1/developer", headers=h).status_code == 401
    assert client.get("/v1/developer", headers=token_new).status_code == 200


def test_a_second_rotation_retires_the_secret_before_the_last_at_once(client, make, headers):
    credentials = make.client(kind="platform")
    first_token = token_for(client, credentials)
    url = f"{ADMIN}/clients/{credentials.client_id}/rotation"
    client.post(url, json={"grace_seconds": 3600}, headers=headers)
    client.post(url, json={"grace_seconds": 3600}, headers=headers)

    assert _token_status(client, credentials) == 401
    response = client.post("/v1/ingest/users", json={"users": []}, headers=first_token)
    assert response.status_code == 401


@pytest.mark.parametrize(
    "body, field",
    [
        ({"grace_seconds": -1}, "grace_seconds"),
        ({"grace_seconds": 30 * 24 * 3600 + 1}, "grace_seconds"),
        ({"grace_seconds": "60"}, "grace_seconds"),
        ({"grace_seconds": True}, "grace_seconds"),
        ({"client_id": "dev_000000000000000000000000"}, "client_id"),
    ],
)
def test_a_bad_rotation_is_a_422_that_changes_nothing(client, make, headers, body, field):
    credentials = make.client(developer_id=make.developer())

    response = client.post(
        f"{ADMIN}/clients/{credentials.client_id}/rotation", json=body, headers=headers
    )

    assert response.status_code == 422 and field in response.get_json()["details"]
    assert _token_status(client, credentials) == 200
    assert events(make, "client.rotated", subject=credentials.client_id) == []


def test_a_body_id_never_redirects_a_rotation_or_revocation(client, make, headers):
    target = make.client(developer_id=make.developer())
    victim = make.client(developer_id=make.developer())

    for action in ("rotation", "revocation"):
        response = client.post(
            f"{ADMIN}/clients/{target.client_id}/{action}",
            json={"client_id": victim.client_id},
            headers=headers,
        )
        assert response.status_code == 422

    for credentials in (target, victim):
        assert _token_status(client, credentials) == 200
    for credentials in (target, victim):
        for action in ("client.rotated", "client.revoked"):
            assert events(make, action, subject=credentials.client_id) == []


def test_revoking_a_client_kills_its_tokens_at_once(client, make, headers, admin):
    developer = make.developer()
    credentials, sibling = make.client(developer_id=developer), make.client(developer_id=developer)
    live = [token_for(client, credentials), token_for(client, credentials)]
    sibling_token = token_for(client, sibling)

    revoked = client.post(
        f"{ADMIN}/clients/{credentials.client_id}/revocation", json={}, headers=headers
    )

    assert revoked.status_code == 200, revoked.get_json()
    assert revoked.get_json()["tokens_revoked"] == 2 and revoked.get_json()["revoked_at"]
    for h in live:
        assert client.get("/v1/developer", headers=h).status_code == 401
    assert client.get("/v1/developer", headers=sibling_token).status_code == 200
    assert _token_status(client, credentials) == 401
    again = client.post(
        f"{ADMIN}/clients/{credentials.client_id}/revocation", json={}, headers=headers
    )
    assert again.status_code == 409
    rotate = client.post(
        f"{ADMIN}/clients/{credentials.client_id}/rotation", json={}, headers=headers
    )
    assert rotate.status_code == 409
    assert len(events(make, "client.revoked", subject=credentials.client_id)) == 1
    tokens = events(make, "token.revoked", developer_id=developer)
    assert len(tokens) == 2 and all(t["actor_id"] == admin["credentials"].client_id for t in tokens)


def test_an_unknown_client_is_a_404(client, headers):
    for suffix in ("", "/rotation", "/revocation"):
        method = "GET" if not suffix else "POST"
        response = client.open(
            f"{ADMIN}/clients/dev_000000000000000000000000{suffix}",
            method=method,
            json={} if suffix else None,
            headers=headers,
        )
        assert response.status_code == 404, suffix


# --- rule 7: one row per action, none for a rolled-back one
# Each action: what it needs set up first (its own writes are not the action's), then the request.


def _nothing(client, make):
    return None


def _register(client, headers, _):
    return client.post(
        f"{ADMIN}/developers",
        json={"name": "Rolled Back", "contact_email": "r@b.example"},
        headers=headers,
    )


def _developer_with_a_live_token(client, make):
    developer = make.developer()
    token_for(client, make.client(developer_id=developer))
    return developer


def _suspend(client, headers, developer):
    return client.post(f"{ADMIN}/developers/{developer}/suspension", json={}, headers=headers)


def _suspended_developer(client, make):
    developer = make.developer()
    make.suspend(developer)
    return developer


def _reinstate(client, headers, developer):
    return client.delete(f"{ADMIN}/developers/{developer}/suspension", headers=headers)


def _developer(client, make):
    return make.developer()


def _skill(client, headers, developer):
    return client.post(
        f"{ADMIN}/developers/{developer}/skills", json={"name": "Rolled"}, headers=headers
    )


def _create_client(client, headers, _):
    return client.post(f"{ADMIN}/clients", json={"kind": "platform"}, headers=headers)


def _platform_client(client, make):
    return make.client(kind="platform").client_id


def _rotate(client, headers, client_id):
    return client.post(f"{ADMIN}/clients/{client_id}/rotation", json={}, headers=headers)


def _client_with_a_live_token(client, make):
    credentials = make.client(developer_id=make.developer())
    token_for(client, credentials)
    return credentials.client_id


def _revoke(client, headers, client_id):
    return client.post(f"{ADMIN}/clients/{client_id}/revocation", json={}, headers=headers)


ACTIONS = [
    ("developer.registered", _nothing, _register, 201),
    ("developer.suspended", _developer_with_a_live_token, _suspend, 200),
    ("token.revoked", _developer_with_a_live_token, _suspend, 200),
    ("developer.reinstated", _suspended_developer, _reinstate, 200),
    ("skill.registered", _developer, _skill, 201),
    ("client.created", _nothing, _create_client, 201),
    ("client.rotated", _platform_client, _rotate, 200),
    ("client.revoked", _client_with_a_live_token, _revoke, 200),
    ("token.revoked", _client_with_a_live_token, _revoke, 200),
]
IDS = [f"{a[0]}-{a[2].__name__.strip('_')}" for a in ACTIONS]
STATE = (
    "SELECT (SELECT count(*) FROM developers) AS developers,"
    " (SELECT count(*) FROM developers WHERE suspended_at IS NOT NULL) AS suspended,"
    " (SELECT count(*) FROM skills) AS skills,"
    " (SELECT count(*) FROM oauth_clients) AS clients,"
    " (SELECT count(*) FROM oauth_clients WHERE revoked_at IS NOT NULL) AS revoked,"
    " (SELECT coalesce(sum(secret_version), 0) FROM oauth_clients) AS versions,"
    " (SELECT count(*) FROM oauth_tokens WHERE revoked_at IS NOT NULL) AS dead_tokens"
)


def _counts(make):
    rows = make.rows(
        "SELECT action, count(*) AS n FROM audit_events WHERE occurred_at = now() GROUP BY action"
    )
    return {row["action"]: row["n"] for row in rows}


@pytest.mark.parametrize("action, setup, send, status", ACTIONS, ids=IDS)
def test_each_action_writes_one_audit_row(client, make, headers, action, setup, send, status):
    target = setup(client, make)
    before = _counts(make)

    response = send(client, headers, target)

    assert response.status_code == status, response.get_json()
    after = _counts(make)
    assert after.get(action, 0) == before.get(action, 0) + 1
    # and nothing else but the action's own rows
    changed = {name for name in after if after[name] != before.get(name, 0)}
    assert changed <= {name for name, _, send_, _ in ACTIONS if send_ is send}


@pytest.mark.parametrize("action, setup, send, status", ACTIONS, ids=IDS)
def test_an_action_that_fails_after_its_audit_row_leaves_neither(
    client, make, headers, monkeypatch, action, setup, send, status
):
    target = setup(client, make)
    real = audit.record

    def record_then_fail(conn, **kwargs):
        real(conn, **kwargs)
        if kwargs["action"] == action:
            raise RuntimeError("forced failure after the audit write")

    monkeypatch.setattr(audit, "record", record_then_fail)
    events_before, state_before = _counts(make), make.rows(STATE)[0]

    response = send(client, headers, target)

    assert response.status_code == 500
    assert response.get_json()["error"] == "server_error"
    assert _counts(make) == events_before
    assert make.rows(STATE)[0] == state_before
