"""The privacy page over plain HTTP: a signed-in user's own consents, reads and deletions only,
CSRF on every form, a confirmation step before deleting, and errors shown as pages."""

from datetime import UTC, datetime, timedelta

import pytest
from pages import form_token, sign_in_as_user, text


@pytest.fixture
def pizza(make):  # type: ignore[no-untyped-def]
    developer_id = make.developer(tier="standard", name="Pizza Palace Inc")
    return developer_id, make.skill(developer_id, name="Pizza Palace")


def _open_consents(make, user_id: str, skill_id: str) -> int:  # type: ignore[no-untyped-def]
    return len(
        make.rows(
            "SELECT 1 FROM consents WHERE user_id = %s AND skill_id = %s AND revoked_at IS NULL",
            (user_id, skill_id),
        )
    )


def _interactions(make, user_id: str) -> int:  # type: ignore[no-untyped-def]
    return len(make.rows("SELECT 1 FROM interactions WHERE user_id = %s", (user_id,)))


def test_every_privacy_page_needs_a_signed_in_user(app, make, pizza):
    anonymous = app.test_client()
    for path in (
        "/privacy/",
        "/privacy/interactions",
        "/privacy/access-log",
        "/privacy/deletion",
        "/privacy/deletions",
    ):
        response = anonymous.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"].startswith("/sign-in?next="), path
    refused = anonymous.post(f"/privacy/consents/{pizza[1]}/revocation", data={})
    assert refused.status_code == 403


def test_my_skills_show_their_consent_and_revoke_and_grant_in_one_click(client, make, pizza):
    user_id, _ = sign_in_as_user(client, make)
    _, skill_id = pizza
    make.consent(user_id, skill_id)
    make.interaction(skill_id, user_id)

    home = text(client.get("/privacy/"))
    assert "Pizza Palace" in home and "Pizza Palace Inc" in home and "Allowed" in home

    revoked = client.post(
        f"/privacy/consents/{skill_id}/revocation",
        data={"csrf_token": form_token(client, "/privacy/")},
    )
    assert revoked.status_code == 303
    assert _open_consents(make, user_id, skill_id) == 0
    after = text(client.get(revoked.headers["Location"]))
    assert "can no longer read your conversations" in after and "Not allowed" in after
    [event] = make.rows(
        "SELECT actor_kind, actor_id FROM audit_events WHERE action = 'consent.revoked'"
        " AND occurred_at = now()"
    )
    assert (event["actor_kind"], event["actor_id"]) == ("user", user_id)

    granted = client.post(
        f"/privacy/consents/{skill_id}/grant",
        data={"csrf_token": form_token(client, "/privacy/"), "categories": ["health"]},
    )
    assert granted.status_code == 303
    assert make.rows(
        "SELECT categories FROM consents WHERE user_id = %s AND revoked_at IS NULL", (user_id,)
    ) == [{"categories": ["health"]}]

    unknown = client.post(
        f"/privacy/consents/{skill_id}/grant",
        data={"csrf_token": form_token(client, "/privacy/"), "categories": ["gossip"]},
    )
    assert unknown.status_code == 422
    assert unknown.mimetype == "text/html"


def test_a_form_without_this_sessions_csrf_token_changes_nothing(app, client, make, pizza):
    user_id, _ = sign_in_as_user(client, make)
    _, skill_id = pizza
    make.consent(user_id, skill_id)
    make.interaction(skill_id, user_id)
    other = app.test_client()
    sign_in_as_user(other, make)

    for data in ({}, {"csrf_token": form_token(other, "/privacy/")}):
        refused = client.post(f"/privacy/consents/{skill_id}/revocation", data=data)
        assert refused.status_code == 403
        assert "This form has expired" in text(refused)
        deleting = client.post(
            "/privacy/deletion", data={**data, "scope": "everything", "confirm": "yes"}
        )
        assert deleting.status_code == 403
    assert _open_consents(make, user_id, skill_id) == 1
    assert _interactions(make, user_id) == 1


def test_another_users_skill_and_receipt_are_not_found(app, client, make, pizza):
    mine, _ = sign_in_as_user(client, make)
    _, skill_id = pizza
    theirs_client = app.test_client()
    theirs, _ = sign_in_as_user(theirs_client, make)
    make.consent(theirs, skill_id)
    make.interaction(skill_id, theirs)
    deleted = theirs_client.post(
        "/privacy/deletion",
        data={
            "csrf_token": form_token(theirs_client, "/privacy/deletion"),
            "scope": "everything",
            "confirm": "yes",
        },
    )
    receipt_path = deleted.headers["Location"]
    token = form_token(client, "/privacy/")

    for response in (
        # a skill I never used (theirs): as if it did not exist
        client.post(f"/privacy/consents/{skill_id}/revocation", data={"csrf_token": token}),
        client.post(f"/privacy/consents/{skill_id}/grant", data={"csrf_token": token}),
        client.get(receipt_path),
        client.get("/privacy/deletions/5b0f6a38-0000-4000-8000-000000000000"),
    ):
        assert response.status_code == 404
        assert response.mimetype == "text/html"
        assert "No such resource." in text(response)
    assert _open_consents(make, theirs, skill_id) == 1
    assert _open_consents(make, mine, skill_id) == 0
    assert receipt_path not in text(client.get("/privacy/deletions"))
    assert theirs_client.get(receipt_path).status_code == 200


def test_deleting_asks_for_confirmation_first(client, make, clock, pizza):
    user_id, _ = sign_in_as_user(client, make)
    _, skill_id = pizza
    make.interaction(skill_id, user_id, occurred_at=clock.now)
    make.interaction(skill_id, user_id, occurred_at=clock.now - timedelta(days=3))
    token = form_token(client, "/privacy/deletion")

    review = client.post("/privacy/deletion", data={"csrf_token": token, "scope": "today"})

    assert review.status_code == 200
    assert "Are you sure?" in text(review)
    assert 'name="confirm" value="yes"' in text(review)
    assert _interactions(make, user_id) == 2

    done = client.post(
        "/privacy/deletion", data={"csrf_token": token, "scope": "today", "confirm": "yes"}
    )
    assert done.status_code == 303
    assert done.headers["Location"].startswith("/privacy/deletions/")
    assert _interactions(make, user_id) == 1
    receipt = text(client.get(done.headers["Location"]))
    assert "1 interaction deleted" in receipt
    assert done.headers["Location"].rsplit("/", 1)[1] in text(client.get("/privacy/deletions"))


def test_a_bad_range_shows_the_form_again_and_deletes_nothing(client, make, clock, pizza):
    user_id, _ = sign_in_as_user(client, make)
    make.interaction(pizza[1], user_id, occurred_at=clock.now)
    token = form_token(client, "/privacy/deletion")

    for data, message in (
        ({"scope": "range", "since": "2030-02-01", "until": "2030-01-01"}, "must not be before"),
        ({"scope": "range", "since": "", "until": "2030-01-01"}, "Please give a date."),
        ({"scope": "range", "since": "yesterday", "until": "2030-01-01"}, "YYYY-MM-DD"),
        ({"scope": "the lot"}, "Please choose one of the options."),
    ):
        refused = client.post(
            "/privacy/deletion", data={"csrf_token": token, "confirm": "yes", **data}
        )
        assert refused.status_code == 422, data
        assert refused.mimetype == "text/html"
        assert message in text(refused), data
    assert _interactions(make, user_id) == 1


def test_a_range_includes_its_last_day(client, make, clock, pizza):
    user_id, _ = sign_in_as_user(client, make)
    today = clock.now.date()
    for days in (0, 2, 3, 5):
        make.interaction(pizza[1], user_id, occurred_at=clock.now - timedelta(days=days))
    since = (today - timedelta(days=3)).isoformat()
    until = (today - timedelta(days=2)).isoformat()

    done = client.post(
        "/privacy/deletion",
        data={
            "csrf_token": form_token(client, "/privacy/deletion"),
            "scope": "range",
            "since": since,
            "until": until,
            "confirm": "yes",
        },
    )

    assert done.status_code == 303
    assert _interactions(make, user_id) == 2
    assert "2 interactions deleted" in text(client.get(done.headers["Location"]))


def test_the_access_log_shows_my_reads_only(client, make, pizza):
    user_id, _ = sign_in_as_user(client, make)
    developer_id, skill_id = pizza
    credentials = make.client(developer_id=developer_id)
    mine = make.interaction(skill_id, user_id, intent="OrderPizza")
    other = make.user()
    theirs = make.interaction(skill_id, other, intent="TrackOrder")
    make.read_logged(developer_id, credentials.client_id, skill_id, mine, user_id)
    make.read_logged(developer_id, credentials.client_id, skill_id, theirs, other)

    page = text(client.get("/privacy/access-log"))

    assert "Pizza Palace Inc" in page and credentials.client_id in page
    assert "OrderPizza" in page and "TrackOrder" not in page
    bad = client.get("/privacy/access-log", query_string={"cursor": "not-a-cursor"})
    assert bad.status_code == 422
    assert bad.mimetype == "text/html"


def test_what_i_said_shows_my_own_words_only_in_pages(client, make, pizza):
    user_id, _ = sign_in_as_user(client, make)
    developer_id, skill_id = pizza
    credentials = make.client(developer_id=developer_id)
    mine = make.interaction(skill_id, user_id, utterance="deliver to 12 Elm Street please")
    for minutes in range(1, 51):  # a page and one more
        make.interaction(
            skill_id,
            user_id,
            utterance=f"older request {minutes}",
            occurred_at=datetime.now(UTC) - timedelta(minutes=minutes),
        )
    make.interaction(skill_id, make.user(), utterance="someone else's words")
    make.read_logged(developer_id, credentials.client_id, skill_id, mine, user_id)

    first = text(client.get("/privacy/interactions"))

    # the user's own words, unredacted; read once; nobody else's
    assert "deliver to 12 Elm Street please" in first and "1 time" in first
    assert "someone else's words" not in first
    assert "older request 49" in first and "older request 50" not in first
    older = client.get("/privacy/interactions")
    cursor = older.get_data(as_text=True).split('id="older-interactions"')[0]
    link = cursor.rsplit('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    second = text(client.get(link))
    assert "older request 50" in second and "older request 49" not in second
    bad = client.get("/privacy/interactions", query_string={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and bad.mimetype == "text/html"
