"""The admin console over plain HTTP: the sign-in it needs, CSRF on every form, form errors
shown as pages, and every action done through the services, audited with the admin as actor."""

from datetime import UTC, datetime, time, timedelta

import pytest
from pages import form_token, sign_in_admin, sign_in_as_user, text

from gateway.services import audit, tier_requests
from gateway.services.stats import closed_weeks


def _pending_request(make, developer_id: int, tier: str = "standard") -> int:  # type: ignore[no-untyped-def]
    request = make._run(
        tier_requests.submit_request,
        actor=audit.SYSTEM,
        developer_id=developer_id,
        tier=tier,
        purpose="We improve our pizza ordering from real conversations.",
        accepted_terms=True,
    )
    return int(request["id"])


def _developer(make, developer_id: int):  # type: ignore[no-untyped-def]
    return make.rows("SELECT id, suspended_at FROM developers WHERE id = %s", (developer_id,))[0]


def _events(make, action: str, developer_id: int) -> list[dict]:  # type: ignore[type-arg]
    # this test's own events: committed tests elsewhere leave theirs in the append-only log
    return make.rows(
        "SELECT actor_kind, actor_id, developer_id, subject FROM audit_events "
        "WHERE action = %s AND developer_id = %s AND occurred_at = now() ORDER BY id",
        (action, developer_id),
    )


@pytest.fixture
def admin(client, make, clock):  # type: ignore[no-untyped-def]
    return sign_in_admin(client, make, clock)


def test_every_console_page_needs_a_signed_in_admin(app, make):
    developer_id = make.developer(tier=None)
    anonymous = app.test_client()
    for path in (
        "/admin/",
        "/admin/developers",
        f"/admin/developers/{developer_id}",
        "/admin/requests",
        "/admin/skills",
        "/admin/audit",
    ):
        response = anonymous.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"].startswith("/admin/sign-in?next="), path

    # a user's session is not an admin's
    user = app.test_client()
    sign_in_as_user(user, make)
    assert user.get("/admin/developers").status_code == 303
    refused = user.post(f"/admin/developers/{developer_id}/suspension", data={})
    assert refused.status_code == 403
    assert _developer(make, developer_id)["suspended_at"] is None


def test_a_form_without_this_sessions_csrf_token_changes_nothing(app, client, make, clock, admin):
    developer_id = make.developer(tier=None)
    path = f"/admin/developers/{developer_id}/suspension"

    missing = client.post(path, data={})
    other = app.test_client()
    sign_in_admin(other, make, clock)
    foreign = client.post(path, data={"csrf_token": form_token(other, "/admin/developers")})

    for refused in (missing, foreign):
        assert refused.status_code == 403
        assert refused.mimetype == "text/html"
        assert "This form has expired" in text(refused)
    assert _developer(make, developer_id)["suspended_at"] is None
    assert _events(make, "developer.suspended", developer_id) == []

    done = client.post(path, data={"csrf_token": form_token(client, "/admin/developers")})
    assert done.status_code == 303
    assert _developer(make, developer_id)["suspended_at"] is not None
    [event] = _events(make, "developer.suspended", developer_id)
    assert (event["actor_kind"], event["actor_id"]) == ("admin", admin.name)


def test_the_developers_page_shows_tier_expiry_and_pending_requests(client, make, admin):
    waiting = make.developer(tier=None, name="Pizza Palace")
    granted = make.developer(tier="standard", name="Weather Now")
    _pending_request(make, waiting)

    page = client.get("/admin/developers")

    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    html = text(page)
    assert "1 tier request waiting" in html
    assert f'id="developer-{waiting}"' in html and f'id="developer-{granted}"' in html
    row = html.split(f'id="developer-{waiting}"')[1].split("</tr>")[0]
    assert "Pizza Palace" in row and "1 pending" in row and ">none<" in row
    assert ">standard<" in html.split(f'id="developer-{granted}"')[1].split("</tr>")[0]


def test_approving_a_request_grants_its_tier_audited_as_the_admin(client, make, admin):
    developer_id = make.developer(tier=None)
    request_id = _pending_request(make, developer_id)
    token = form_token(client, "/admin/requests")

    response = client.post(f"/admin/requests/{request_id}/approval", data={"csrf_token": token})

    assert response.status_code == 303
    assert "approved" in text(client.get(response.headers["Location"]))
    assert make.rows("SELECT status FROM tier_requests WHERE id = %s", (request_id,)) == [
        {"status": "approved"}
    ]
    [decided] = _events(make, "tier_request.decided", developer_id)
    assert (decided["actor_kind"], decided["actor_id"]) == ("admin", admin.name)
    assert "standard" in text(client.get(f"/admin/developers/{developer_id}"))


def test_denying_needs_a_reason_and_shows_the_form_again(client, make, admin):
    developer_id = make.developer(tier=None)
    request_id = _pending_request(make, developer_id)
    token = form_token(client, "/admin/requests")

    blank = client.post(
        f"/admin/requests/{request_id}/denial", data={"csrf_token": token, "reason": "  "}
    )

    assert blank.status_code == 422
    assert blank.mimetype == "text/html"
    assert "Please fill this in." in text(blank)
    assert 'aria-invalid="true"' in text(blank)
    assert make.rows("SELECT status FROM tier_requests WHERE id = %s", (request_id,)) == [
        {"status": "pending"}
    ]

    denied = client.post(
        f"/admin/requests/{request_id}/denial",
        data={"csrf_token": token, "reason": "Tell us which intents you need."},
    )
    assert denied.status_code == 303
    row = make.rows(
        "SELECT status, decision_reason FROM tier_requests WHERE id = %s", (request_id,)
    )[0]
    assert row == {"status": "denied", "decision_reason": "Tell us which intents you need."}

    again = client.post(
        f"/admin/requests/{request_id}/denial", data={"csrf_token": token, "reason": "twice"}
    )
    assert again.status_code == 422  # decided already: said on the page, not as JSON
    assert "denied already" in text(again)


def test_changing_a_tier_needs_a_reason_and_a_future_expiry(client, make, clock, admin):
    developer_id = make.developer(tier=None)
    path = f"/admin/developers/{developer_id}/tier"
    token = form_token(client, f"/admin/developers/{developer_id}")
    yesterday = (clock.now - timedelta(days=1)).date().isoformat()

    no_reason = client.post(path, data={"csrf_token": token, "tier": "standard"})
    past = client.post(
        path,
        data={"csrf_token": token, "tier": "standard", "reason": "pilot", "expires_on": yesterday},
    )
    unknown = client.post(path, data={"csrf_token": token, "tier": "gold", "reason": "pilot"})
    bad_date = client.post(
        path,
        data={"csrf_token": token, "tier": "standard", "reason": "x", "expires_on": "31/12/2030"},
    )

    for refused, message in (
        (no_reason, "Please fill this in."),
        (past, "The expiry must be in the future."),
        (unknown, "Please choose one of the options."),
        (bad_date, "A date as YYYY-MM-DD, please."),
    ):
        assert refused.status_code == 422
        assert refused.mimetype == "text/html"
        assert message in text(refused)
    assert _events(make, "grant.made", developer_id) == []

    in_a_month = (clock.now + timedelta(days=31)).date().isoformat()
    done = client.post(
        path,
        data={"csrf_token": token, "tier": "standard", "reason": "pilot", "expires_on": in_a_month},
    )
    assert done.status_code == 303
    [grant] = make.rows(
        "SELECT tier, reason, expires_at FROM tier_grants WHERE developer_id = %s", (developer_id,)
    )
    assert (grant["tier"], grant["reason"]) == ("standard", "pilot")
    assert grant["expires_at"].date().isoformat() == in_a_month
    [event] = _events(make, "grant.made", developer_id)
    assert (event["actor_kind"], event["actor_id"]) == ("admin", admin.name)


def test_a_new_clients_secret_is_shown_once_and_works(client, make, admin):
    developer_id = make.developer(tier="standard")
    token = form_token(client, f"/admin/developers/{developer_id}")

    created = client.post(
        f"/admin/developers/{developer_id}/clients", data={"csrf_token": token, "name": "ci"}
    )

    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    html = text(created)
    client_id = html.split('id="issued-client-id">')[1].split("<")[0]
    secret = html.split('id="issued-client-secret" class="secret">')[1].split("<")[0]
    assert len(secret) >= 32
    later = text(client.get(f"/admin/developers/{developer_id}"))
    assert client_id in later and secret not in later
    issued = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert issued.status_code == 200
    [event] = _events(make, "client.created", developer_id)
    assert (event["actor_kind"], event["actor_id"], event["subject"]) == (
        "admin",
        admin.name,
        client_id,
    )


def test_suspending_twice_or_reinstating_an_active_developer_is_said_on_the_page(
    client, make, admin
):
    developer_id = make.developer()
    token = form_token(client, f"/admin/developers/{developer_id}")

    not_suspended = client.post(
        f"/admin/developers/{developer_id}/reinstatement", data={"csrf_token": token}
    )
    assert not_suspended.status_code == 409
    assert "This developer is not suspended." in text(not_suspended)

    assert (
        client.post(
            f"/admin/developers/{developer_id}/suspension", data={"csrf_token": token}
        ).status_code
        == 303
    )
    twice = client.post(f"/admin/developers/{developer_id}/suspension", data={"csrf_token": token})
    assert twice.status_code == 409
    assert "suspended already" in text(twice)
    assert (
        client.post(
            f"/admin/developers/{developer_id}/reinstatement", data={"csrf_token": token}
        ).status_code
        == 303
    )
    assert _developer(make, developer_id)["suspended_at"] is None


def test_an_unknown_developer_request_or_skill_is_a_404_page(client, make, admin):
    token = form_token(client, "/admin/developers")
    for response in (
        client.get("/admin/developers/987654321"),
        client.post("/admin/developers/987654321/suspension", data={"csrf_token": token}),
        client.post("/admin/requests/987654321/approval", data={"csrf_token": token}),
        client.get("/admin/skills/5b0f6a38-0000-4000-8000-000000000000/stats"),
    ):
        assert response.status_code == 404
        assert response.mimetype == "text/html"
        assert "No such resource." in text(response)


def test_a_skills_stats_page_shows_only_weeks_of_k_users(client, make, clock, admin):
    developer_id = make.developer(tier=None)  # tier none: k = 10
    skill_id = make.skill(developer_id, name="Pizza Palace")
    week = closed_weeks(clock.now, 1)[0]
    monday_noon = datetime.combine(week, time(12), UTC)
    for _ in range(10):
        make.interaction(skill_id, make.user(), occurred_at=monday_noon)

    page = client.get(f"/admin/skills/{skill_id}/stats")

    assert page.status_code == 200
    html = text(page)
    assert "10 interactions, 10 users" in html
    assert 'id="stats-k">10 ' in html
    assert "order a large pepperoni pizza" not in html
    [event] = _events(make, "stats.read", developer_id)
    assert (event["actor_kind"], event["actor_id"]) == ("admin", admin.name)


def test_the_audit_page_filters_pages_and_verifies(client, make, admin):
    developer_id = make.developer()
    token = form_token(client, f"/admin/developers/{developer_id}")
    client.post(f"/admin/developers/{developer_id}/suspension", data={"csrf_token": token})

    page = client.get("/admin/audit", query_string={"action": "developer.suspended"})

    assert page.status_code == 200
    html = text(page)
    assert "The chain verifies" in html
    rows = html.split('id="audit-events"')[1]
    assert f"admin:{admin.name}" in rows and "developer.suspended" in rows
    assert "client.created" not in rows

    for query, message in (
        ({"action": "developer.exploded"}, "Please choose one of the actions."),
        ({"developer": "twelve"}, "A developer&#39;s number, e.g. 12."),
        ({"since": "2030-02-01", "until": "2030-01-01"}, "The last day must not be before"),
        ({"actor": "nobody at all"}, "An actor as kind:id"),
    ):
        refused = client.get("/admin/audit", query_string=query)
        assert refused.status_code == 422, query
        assert refused.mimetype == "text/html"
        assert message in text(refused), query


def test_the_audit_page_pages_back_through_older_events(client, make, admin, monkeypatch):
    from gateway.views import console

    monkeypatch.setattr(console, "AUDIT_PAGE_SIZE", 2)
    token = form_token(client, "/admin/developers")
    ids = [make.developer(tier=None) for _ in range(3)]
    for developer_id in ids:
        client.post(f"/admin/developers/{developer_id}/suspension", data={"csrf_token": token})

    # (this admin's only: committed tests elsewhere leave events in the log)
    query = {"action": "developer.suspended", "actor": f"admin:{admin.name}"}
    first = text(client.get("/admin/audit", query_string=query))
    assert first.count("developer.suspended</td>") == 2
    older = first.split('id="older-events"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = text(client.get(older.replace("&amp;", "&")))
    assert second.count("developer.suspended</td>") == 1
    assert f'href="/admin/developers/{ids[0]}">#{ids[0]}' in second
