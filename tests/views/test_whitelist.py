"""The whitelist over HTTP, with real tokens: tiers admins manage, grants that end on their own,
re-certification of the top tier, tier requests and their decisions, the admin-only guard."""

from datetime import UTC, datetime, timedelta

import pytest


@pytest.fixture
def admin_credentials(make):
    return make.client(kind="admin")


@pytest.fixture
def admin(admin_credentials, bearer):
    return bearer(admin_credentials)


@pytest.fixture
def reader(make, bearer):
    """A developer (tier `tier`) with a skill, a consenting user and one recent interaction."""

    def build(tier: str | None = None):
        developer = make.developer(tier=tier)
        skill = make.skill(developer)
        user = make.user()
        make.consent(user, skill, granted_at=datetime.now(UTC) - timedelta(days=10))
        interaction = make.interaction(
            skill, user, occurred_at=datetime.now(UTC) - timedelta(days=1)
        )
        client_credentials = make.client(developer_id=developer)
        return {
            "developer": developer,
            "skill": skill,
            "interaction": interaction,
            "credentials": client_credentials,
            "headers": lambda: bearer(client_credentials),
        }

    return build


def _audit(make, action):
    # this test's rows only: they carry its transaction's start time exactly, while tests on
    # other workers commit rows of the same actions meanwhile
    return make.rows(
        "SELECT actor_kind, actor_id, developer_id, subject, details FROM audit_events"
        " WHERE action = %s AND occurred_at = now() ORDER BY id",
        (action,),
    )


def _at(moment: datetime) -> str:
    return moment.isoformat()


# --- tiers


def test_admins_list_tiers_with_every_setting(client, admin):
    body = client.get("/v1/admin/tiers", headers=admin).get_json()
    by_name = {tier["name"]: tier for tier in body["tiers"]}
    assert set(by_name) >= {"none", "standard", "trusted"}
    assert by_name["trusted"]["recertify_days"] == 365
    assert by_name["standard"]["recertify_days"] is None
    assert by_name["none"]["transcripts_readable"] is False
    assert client.get("/v1/admin/tiers/standard", headers=admin).get_json()["page_size"] == 50
    assert client.get("/v1/admin/tiers/gold", headers=admin).status_code == 404


def test_an_admin_creates_a_tier_and_a_developer_granted_it_reads_by_it(
    client, admin, make, reader
):
    created = client.post(
        "/v1/admin/tiers",
        headers=admin,
        json={
            "name": "research",
            "transcripts_readable": True,
            "fields": ["utterance", "intent"],
            "retention_days": 7,
            "redaction_policy": "strict",
            "page_size": 5,
            "rate_limit": "20 per minute",
            "description": "University researchers.",
        },
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["k_threshold"] == 10
    world = reader()
    granted = client.post(
        f"/v1/admin/developers/{world['developer']}/grants",
        headers=admin,
        json={"tier": "research", "reason": "Ethics board approval 2026-14"},
    )
    assert granted.status_code == 201, granted.get_json()
    me = client.get("/v1/developer", headers=world["headers"]()).get_json()
    assert me["tier"]["name"] == "research"
    assert me["tier"]["page_size"] == 5
    page = client.get(
        f"/v1/skills/{world['skill']}/interactions", headers=world["headers"]()
    ).get_json()
    assert set(page["interactions"][0]) == {"id", "occurred_at", "user", "utterance", "intent"}
    (event,) = _audit(make, "tier.created")
    assert event["subject"] == "research" and event["actor_kind"] == "client"
    assert event["details"]["rate_limit"] == "20_per_minute"
    assert "University" not in str(event["details"])


def test_tier_settings_take_values_of_their_json_type_only(client, admin):
    base = {
        "name": "typed",
        "transcripts_readable": True,
        "retention_days": 7,
        "redaction_policy": "strict",
        "page_size": 5,
        "rate_limit": "20 per minute",
    }
    for change in (
        {"transcripts_readable": 1},
        {"transcripts_readable": "yes"},
        {"retention_days": "7"},
        {"retention_days": 7.5},
        {"page_size": True},
        {"page_size": float("inf")},
    ):
        (field,) = change
        created = client.post("/v1/admin/tiers", headers=admin, json={**base, **change})
        assert created.status_code == 422, change
        assert field in created.get_json()["details"], created.get_json()
        changed = client.patch("/v1/admin/tiers/standard", headers=admin, json=change)
        assert changed.status_code == 422, change
        assert field in changed.get_json()["details"], changed.get_json()
    assert client.get("/v1/admin/tiers/typed", headers=admin).status_code == 404
    standard = client.get("/v1/admin/tiers/standard", headers=admin).get_json()
    assert (standard["retention_days"], standard["page_size"]) == (30, 50)
    # 5.0 is the integer 5 in JSON (and JSON Schema): taken as 5
    created = client.post("/v1/admin/tiers", headers=admin, json={**base, "page_size": 5.0})
    assert created.status_code == 201, created.get_json()
    typed = client.get("/v1/admin/tiers/typed", headers=admin).get_json()
    assert typed["page_size"] == 5 and isinstance(typed["page_size"], int)


def test_a_tier_naming_an_unknown_policy_or_a_malformed_rate_limit_is_refused(client, admin, make):
    base = {
        "name": "shady",
        "transcripts_readable": True,
        "retention_days": 7,
        "redaction_policy": "strict",
        "page_size": 5,
        "rate_limit": "20 per minute",
    }
    for change, field in (
        ({"redaction_policy": "lenient"}, "redaction_policy"),
        ({"rate_limit": "lots"}, "rate_limit"),
        ({"rate_limit": "0 per minute"}, "rate_limit"),
    ):
        response = client.post("/v1/admin/tiers", headers=admin, json={**base, **change})
        assert response.status_code == 422, change
        assert field in response.get_json()["details"], response.get_json()
    for change, field in (
        ({"redaction_policy": "nope"}, "redaction_policy"),
        ({"rate_limit": "sixty a minute"}, "rate_limit"),
    ):
        response = client.patch("/v1/admin/tiers/standard", headers=admin, json=change)
        assert response.status_code == 422
        assert field in response.get_json()["details"]
    tier = client.get("/v1/admin/tiers/standard", headers=admin).get_json()
    assert (tier["redaction_policy"], tier["rate_limit"]) == ("standard", "60 per minute")
    assert client.get("/v1/admin/tiers/shady", headers=admin).status_code == 404
    assert _audit(make, "tier.created") == [] and _audit(make, "tier.changed") == []


def test_unknown_fields_are_refused_and_change_nothing(client, admin, make, reader):
    world = reader("standard")
    for path, method, body in (
        ("/v1/admin/tiers/standard", "patch", {"page_size": 10, "name": "gold"}),
        ("/v1/admin/tiers/standard", "patch", {"developer_id": 1}),
        ("/v1/admin/tiers/standard", "patch", {}),
        (
            f"/v1/admin/developers/{world['developer']}/grants",
            "post",
            {"tier": "trusted", "reason": "x", "developer_id": 999},
        ),
        (
            f"/v1/admin/developers/{world['developer']}/grants",
            "post",
            {"tier": "trusted", "reason": "x", "granted_by": "someone else"},
        ),
        (f"/v1/admin/developers/{world['developer']}/grants/current", "delete", {"why": "x"}),
    ):
        response = getattr(client, method)(path, headers=admin, json=body)
        assert response.status_code == 422, (path, body, response.get_json())
    assert client.get("/v1/admin/tiers/standard", headers=admin).get_json()["page_size"] == 50
    history = client.get(
        f"/v1/admin/developers/{world['developer']}/grants", headers=admin
    ).get_json()
    assert [g["tier"] for g in history["grants"]] == ["standard"]


def test_a_top_tier_must_be_re_certified_and_none_never_reads(client, admin):
    response = client.patch(
        "/v1/admin/tiers/standard", headers=admin, json={"fields": ["utterance", "response"]}
    )
    assert response.status_code == 422
    assert "recertify_days" in response.get_json()["details"]
    response = client.patch("/v1/admin/tiers/trusted", headers=admin, json={"recertify_days": None})
    assert response.status_code == 422
    response = client.patch(
        "/v1/admin/tiers/none", headers=admin, json={"transcripts_readable": True}
    )
    assert response.status_code == 422
    assert (
        client.get("/v1/admin/tiers/none", headers=admin).get_json()["transcripts_readable"]
        is False
    )
    ok = client.patch(
        "/v1/admin/tiers/standard",
        headers=admin,
        json={"fields": ["utterance", "response"], "recertify_days": 180},
    )
    assert ok.status_code == 200, ok.get_json()


def test_a_tier_change_applies_from_the_next_request_and_is_audited(client, admin, make, reader):
    world = reader("standard")
    headers = world["headers"]()
    assert client.get("/v1/developer", headers=headers).get_json()["tier"]["page_size"] == 50
    changed = client.patch(
        "/v1/admin/tiers/standard",
        headers=admin,
        json={"page_size": 7, "rate_limit": "10 per minute", "description": "Smaller pages."},
    )
    assert changed.status_code == 200, changed.get_json()
    me = client.get("/v1/developer", headers=headers)
    assert me.get_json()["tier"]["page_size"] == 7
    assert me.headers["X-RateLimit-Limit"] == "10"
    (event,) = _audit(make, "tier.changed")
    assert event["subject"] == "standard"
    assert event["details"] == {
        "changed": ["description", "page_size", "rate_limit"],
        "before_page_size": 50,
        "after_page_size": 7,
        "before_rate_limit": "60_per_minute",
        "after_rate_limit": "10_per_minute",
    }
    # the same values again change nothing, and record nothing
    assert (
        client.patch("/v1/admin/tiers/standard", headers=admin, json={"page_size": 7}).status_code
        == 200
    )
    assert len(_audit(make, "tier.changed")) == 1


# --- grants


def test_a_grant_ends_on_its_own_at_its_expiry(
    client, admin, admin_credentials, bearer, make, reader, clock
):
    world = reader()
    expires = clock.now + timedelta(days=2)
    granted = client.post(
        f"/v1/admin/developers/{world['developer']}/grants",
        headers=admin,
        json={"tier": "trusted", "reason": "Pilot partner", "expires_at": _at(expires)},
    )
    assert granted.status_code == 201, granted.get_json()
    assert granted.get_json()["ends_at"] == _at(expires)
    listing = f"/v1/skills/{world['skill']}/interactions"

    # before: trusted, reads the interaction; the expiry is shown, with a warning (2 days left)
    headers = world["headers"]()
    me = client.get("/v1/developer", headers=headers).get_json()
    assert me["tier"]["name"] == "trusted"
    assert me["tier"]["expires_at"] == _at(expires)
    assert "expires on" in me["tier"]["expiry_warning"]
    assert [i["id"] for i in client.get(listing, headers=headers).get_json()["interactions"]] == [
        world["interaction"]
    ]

    clock.advance(days=2, seconds=-1)  # one second before
    headers = world["headers"]()
    assert client.get("/v1/developer", headers=headers).get_json()["tier"]["name"] == "trusted"
    assert client.get(listing, headers=headers).status_code == 200

    clock.advance(seconds=1)  # at the expiry: over
    headers = world["headers"]()
    me = client.get("/v1/developer", headers=headers).get_json()
    assert me["tier"]["name"] == "none"
    assert me["tier"]["expires_at"] is None and me["tier"]["expiry_warning"] is None
    refused = client.get(listing, headers=headers)
    assert refused.status_code == 403 and refused.get_json()["details"] == {"tier": "none"}

    clock.advance(days=30)  # after
    headers = world["headers"]()
    assert client.get(listing, headers=headers).status_code == 403
    history = client.get(
        f"/v1/admin/developers/{world['developer']}/grants", headers=bearer(admin_credentials)
    ).get_json()
    assert history["current_tier"] == "none"
    assert [g["state"] for g in history["grants"]] == ["expired"]


def test_the_expiry_warning_shows_only_in_the_last_30_days(client, admin, reader, clock):
    world = reader()
    client.post(
        f"/v1/admin/developers/{world['developer']}/grants",
        headers=admin,
        json={
            "tier": "standard",
            "reason": "Contract until spring",
            "expires_at": _at(clock.now + timedelta(days=45)),
        },
    )
    me = client.get("/v1/developer", headers=world["headers"]()).get_json()
    assert me["tier"]["expiry_warning"] is None
    clock.advance(days=15, seconds=1)
    me = client.get("/v1/developer", headers=world["headers"]()).get_json()
    assert "tier-requests" in me["tier"]["expiry_warning"]


def test_the_top_tier_is_granted_for_365_days_at_most(
    client, admin, admin_credentials, bearer, make, reader, clock
):
    world = reader()
    path = f"/v1/admin/developers/{world['developer']}/grants"
    too_long = client.post(
        path,
        headers=admin,
        json={
            "tier": "trusted",
            "reason": "Forever partner",
            "expires_at": _at(clock.now + timedelta(days=366)),
        },
    )
    assert too_long.status_code == 422
    assert "expires_at" in too_long.get_json()["details"]
    assert make.count("tier_grants WHERE tier = 'trusted'") == 0  # noqa: S608

    # without an expiry: exactly 365 days, documented
    defaulted = client.post(path, headers=admin, json={"tier": "trusted", "reason": "Partner"})
    assert defaulted.status_code == 201
    ends = datetime.fromisoformat(defaulted.get_json()["expires_at"])
    assert ends == clock.now + timedelta(days=365)
    clock.advance(days=365)
    me = client.get("/v1/developer", headers=world["headers"]()).get_json()
    assert me["tier"]["name"] == "none"

    # a grant of a lower tier may be open-ended
    standard = client.post(
        path, headers=bearer(admin_credentials), json={"tier": "standard", "reason": "Renewal"}
    )
    assert standard.get_json()["expires_at"] is None


def test_an_open_ended_grant_made_before_a_tier_became_top_tier_is_capped_at_read_time(
    client, admin, make, reader, clock
):
    world = reader()
    make.tier_grant(world["developer"], "standard")  # open-ended, made now
    response = client.patch("/v1/admin/tiers/standard", headers=admin, json={"recertify_days": 10})
    assert response.status_code == 200
    me = client.get("/v1/developer", headers=world["headers"]()).get_json()
    assert me["tier"]["name"] == "standard" and me["tier"]["expires_at"] is not None
    clock.advance(days=11)
    assert client.get("/v1/developer", headers=world["headers"]()).get_json()["tier"]["name"] == (
        "none"
    )


def test_revoking_puts_the_developer_on_none_and_keeps_the_history(client, admin, make, reader):
    world = reader()
    path = f"/v1/admin/developers/{world['developer']}/grants"
    client.post(path, headers=admin, json={"tier": "standard", "reason": "Pilot"})
    client.post(path, headers=admin, json={"tier": "trusted", "reason": "Audited"})
    no_reason = client.delete(f"{path}/current", headers=admin, json={"reason": ""})
    assert no_reason.status_code == 422
    revoked = client.delete(f"{path}/current", headers=admin, json={"reason": "Contract ended"})
    assert revoked.status_code == 200, revoked.get_json()
    body = revoked.get_json()
    assert body["current_tier"] == "none"
    assert [(g["tier"], g["state"]) for g in body["grants"]] == [
        ("none", "revocation"),
        ("trusted", "superseded"),
        ("standard", "superseded"),
    ]
    assert body["grants"][0]["reason"] == "Contract ended"
    assert client.get("/v1/developer", headers=world["headers"]()).get_json()["tier"]["name"] == (
        "none"
    )
    again = client.delete(f"{path}/current", headers=admin, json={"reason": "Twice"})
    assert again.status_code == 409
    made = _audit(make, "grant.made")
    (revocation,) = _audit(make, "grant.revoked")
    assert revocation["subject"] == str(body["grants"][1]["id"])
    assert [e["details"]["tier"] for e in made] == ["standard", "trusted"]


def test_a_grant_needs_a_reason_a_known_tier_and_a_known_developer(client, admin, reader, clock):
    world = reader()
    path = f"/v1/admin/developers/{world['developer']}/grants"
    for body, field in (
        ({"tier": "standard"}, "reason"),
        ({"tier": "standard", "reason": "   "}, "reason"),
        ({"tier": "gold", "reason": "x"}, "tier"),
        ({"tier": "none", "reason": "x"}, "tier"),
        ({"tier": "standard", "reason": "x", "expires_at": _at(clock.now)}, "expires_at"),
        ({"tier": "standard", "reason": "x", "expires_at": "2027-01-01T00:00:00"}, "expires_at"),
    ):
        response = client.post(path, headers=admin, json=body)
        assert response.status_code == 422, body
        assert field in response.get_json()["details"], (body, response.get_json())
    missing = client.post(
        "/v1/admin/developers/987654321/grants",
        headers=admin,
        json={"tier": "standard", "reason": "x"},
    )
    assert missing.status_code == 404
    huge = client.get("/v1/admin/developers/99999999999999999999/grants", headers=admin)
    assert huge.status_code == 404


# --- tier requests


def test_a_developer_asks_an_admin_approves_and_the_developer_reads(client, admin, make, reader):
    world = reader()
    listing = f"/v1/skills/{world['skill']}/interactions"
    headers = world["headers"]()
    assert client.get(listing, headers=headers).status_code == 403
    filed = client.post(
        "/v1/developer/tier-requests",
        headers=headers,
        json={
            "tier": "standard",
            "purpose": "Debug why orders fail at checkout.",
            "accepted_terms": True,
        },
    )
    assert filed.status_code == 201, filed.get_json()
    request_id = filed.get_json()["id"]
    assert filed.get_json()["status"] == "pending"

    pending = client.get("/v1/admin/tier-requests?status=pending", headers=admin).get_json()
    assert [r["id"] for r in pending["requests"]] == [request_id]
    assert pending["requests"][0]["purpose"] == "Debug why orders fail at checkout."

    approved = client.post(
        f"/v1/admin/tier-requests/{request_id}/approve",
        headers=admin,
        json={"reason": "Checkout bug, 90 days"},
    )
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["status"] == "approved" and approved.get_json()["grant_id"]
    assert client.get(listing, headers=headers).status_code == 200
    mine = client.get("/v1/developer/tier-requests", headers=headers).get_json()["requests"]
    assert [(r["status"], r["decision_reason"]) for r in mine] == [
        ("approved", "Checkout bug, 90 days")
    ]
    twice = client.post(f"/v1/admin/tier-requests/{request_id}/approve", headers=admin, json={})
    assert twice.status_code == 409
    assert [e["details"]["decision"] for e in _audit(make, "tier_request.decided")] == ["approved"]
    (made,) = _audit(make, "grant.made")
    assert made["details"]["request"] == request_id
    assert len(_audit(make, "tier_request.made")) == 1


def test_a_denial_carries_a_reason_the_developer_reads(client, admin, make, reader):
    world = reader()
    headers = world["headers"]()
    filed = client.post(
        "/v1/developer/tier-requests",
        headers=headers,
        json={"tier": "trusted", "purpose": "We want everything.", "accepted_terms": True},
    ).get_json()
    no_reason = client.post(f"/v1/admin/tier-requests/{filed['id']}/deny", headers=admin, json={})
    assert no_reason.status_code == 422
    denied = client.post(
        f"/v1/admin/tier-requests/{filed['id']}/deny",
        headers=admin,
        json={"reason": "Say which skill and which failures you are debugging."},
    )
    assert denied.status_code == 200
    mine = client.get("/v1/developer/tier-requests", headers=headers).get_json()["requests"]
    assert mine[0]["status"] == "denied"
    assert mine[0]["decision_reason"] == "Say which skill and which failures you are debugging."
    assert client.get("/v1/developer", headers=headers).get_json()["tier"]["name"] == "none"
    # decided: a new request may be filed
    again = client.post(
        "/v1/developer/tier-requests",
        headers=headers,
        json={"tier": "standard", "purpose": "Checkout failures.", "accepted_terms": True},
    )
    assert again.status_code == 201


def test_a_request_needs_the_terms_accepted_and_one_pending_at_a_time(client, make, reader):
    world = reader()
    headers = world["headers"]()
    for body in (
        {"tier": "standard", "purpose": "Debugging.", "accepted_terms": False},
        {"tier": "standard", "purpose": "Debugging."},
        {"tier": "standard", "purpose": "Debugging.", "accepted_terms": "yes please"},
        {"tier": "standard", "purpose": "Debugging.", "accepted_terms": "yes"},
        {"tier": "standard", "purpose": "Debugging.", "accepted_terms": 1},
        {"tier": "gold", "purpose": "Debugging.", "accepted_terms": True},
        {"tier": "none", "purpose": "Debugging.", "accepted_terms": True},
        {"tier": "standard", "purpose": "   ", "accepted_terms": True},
        {"tier": "standard", "purpose": "x", "accepted_terms": True, "developer_id": 1},
    ):
        response = client.post("/v1/developer/tier-requests", headers=headers, json=body)
        assert response.status_code == 422, body
    assert make.count("tier_requests") == 0
    first = {"tier": "standard", "purpose": "Debugging.", "accepted_terms": True}
    assert (
        client.post("/v1/developer/tier-requests", headers=headers, json=first).status_code == 201
    )
    second = client.post("/v1/developer/tier-requests", headers=headers, json=first)
    assert second.status_code == 409
    assert make.count("tier_requests") == 1


def test_a_developer_sees_only_its_own_requests(client, admin, reader):
    a, b = reader(), reader()
    body = {"tier": "standard", "purpose": "Debugging.", "accepted_terms": True}
    client.post("/v1/developer/tier-requests", headers=a["headers"](), json=body)
    client.post("/v1/developer/tier-requests", headers=b["headers"](), json=body)
    mine = client.get("/v1/developer/tier-requests", headers=a["headers"]()).get_json()
    assert {r["developer_id"] for r in mine["requests"]} == {a["developer"]}
    everyone = client.get("/v1/admin/tier-requests", headers=admin).get_json()["requests"]
    assert {r["developer_id"] for r in everyone} == {a["developer"], b["developer"]}
    only_b = client.get(f"/v1/admin/tier-requests?developer={b['developer']}", headers=admin)
    assert {r["developer_id"] for r in only_b.get_json()["requests"]} == {b["developer"]}


def test_admin_lists_page_with_next_after(client, admin, reader):
    body = {"tier": "standard", "purpose": "Debugging.", "accepted_terms": True}
    worlds = [reader() for _ in range(3)]
    for world in worlds:
        client.post("/v1/developer/tier-requests", headers=world["headers"](), json=body)
    first = client.get("/v1/admin/tier-requests?limit=2", headers=admin).get_json()
    assert len(first["requests"]) == 2 and first["next_after"] is not None
    rest = client.get(
        f"/v1/admin/tier-requests?limit=2&after={first['next_after']}", headers=admin
    ).get_json()
    assert len(rest["requests"]) == 1 and rest["next_after"] is None
    bad = client.get("/v1/admin/tier-requests?status=maybe", headers=admin)
    assert bad.status_code == 422


# --- only admins


ADMIN_CALLS = [
    ("get", "/v1/admin/tiers", None),
    (
        "post",
        "/v1/admin/tiers",
        {
            "name": "x",
            "transcripts_readable": False,
            "retention_days": 0,
            "redaction_policy": "strict",
            "page_size": 5,
            "rate_limit": "5 per minute",
        },
    ),
    ("get", "/v1/admin/tiers/standard", None),
    ("patch", "/v1/admin/tiers/standard", {"page_size": 1}),
    ("get", "/v1/admin/developers/{developer}/grants", None),
    ("post", "/v1/admin/developers/{developer}/grants", {"tier": "trusted", "reason": "me"}),
    ("delete", "/v1/admin/developers/{developer}/grants/current", {"reason": "me"}),
    ("get", "/v1/admin/tier-requests", None),
    ("post", "/v1/admin/tier-requests/{request}/approve", {}),
    ("post", "/v1/admin/tier-requests/{request}/deny", {"reason": "no"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS)
def test_only_admins_reach_the_whitelist_routes(client, make, bearer, reader, method, path, body):
    world = reader("standard")
    filed = client.post(
        "/v1/developer/tier-requests",
        headers=world["headers"](),
        json={"tier": "trusted", "purpose": "Please.", "accepted_terms": True},
    ).get_json()
    url = path.format(developer=world["developer"], request=filed["id"])
    before = make.rows(
        "SELECT (SELECT count(*) FROM tier_grants) AS grants,"
        " (SELECT count(*) FROM tiers) AS tiers,"
        " (SELECT string_agg(status, ',') FROM tier_requests) AS requests,"
        " (SELECT page_size FROM tiers WHERE name = 'standard') AS page_size"
    )
    callers = {
        "nobody": {},
        "developer": world["headers"](),
        "platform": bearer(make.client(kind="platform")),
    }
    for who, headers in callers.items():
        kwargs = {"headers": headers} | ({"json": body} if body is not None else {})
        response = getattr(client, method)(url, **kwargs)
        assert response.status_code in (401, 403), (who, response.status_code)
    assert (
        make.rows(
            "SELECT (SELECT count(*) FROM tier_grants) AS grants,"
            " (SELECT count(*) FROM tiers) AS tiers,"
            " (SELECT string_agg(status, ',') FROM tier_requests) AS requests,"
            " (SELECT page_size FROM tiers WHERE name = 'standard') AS page_size"
        )
        == before
    )
    admin = bearer(make.client(kind="admin"))
    kwargs = {"headers": admin} | ({"json": body} if body is not None else {})
    assert getattr(client, method)(url, **kwargs).status_code in (200, 201)
