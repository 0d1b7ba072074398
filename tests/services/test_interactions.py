"""The read path's orchestration: pages end where the readable rows end."""

from datetime import UTC, datetime, timedelta


def _page(client, who, **query):
    response = client.get(
        f"/v1/skills/{who['skill']}/interactions", query_string=query, headers=who["headers"]
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _made(make, who, n):
    now = datetime.now(UTC)
    return [
        make.interaction(who["skill"], who["user"], occurred_at=now - timedelta(minutes=i))
        for i in range(n)
    ]


def test_exactly_a_pages_worth_of_rows_is_one_page_without_a_cursor(client, make, reader):
    who = reader("standard")
    made = _made(make, who, 3)

    page = _page(client, who, limit=3)

    assert [i["id"] for i in page["interactions"]] == made
    assert page["next_cursor"] is None


def test_the_tiers_page_size_exactly_filled_has_no_next_page(client, make, reader):
    make.tier("small", page_size=3)
    who = reader("small")
    made = _made(make, who, 3)

    page = _page(client, who)

    assert [i["id"] for i in page["interactions"]] == made
    assert page["next_cursor"] is None


def test_one_row_more_than_a_page_gives_a_cursor_to_exactly_that_row(client, make, reader):
    who = reader("standard")
    made = _made(make, who, 4)

    first = _page(client, who, limit=3)
    second = _page(client, who, limit=3, cursor=first["next_cursor"])

    assert [i["id"] for i in first["interactions"]] == made[:3]
    assert [i["id"] for i in second["interactions"]] == made[3:]
    assert second["next_cursor"] is None


def test_a_pseudonym_filter_reads_only_that_users_rows(client, make, reader):
    who = reader("standard")
    other = make.user()
    make.consent(other, who["skill"], granted_at=datetime.now(UTC) - timedelta(days=1))
    mine = make.interaction(who["skill"], who["user"])
    theirs = make.interaction(who["skill"], other)
    shown = {i["id"]: i["user"] for i in _page(client, who)["interactions"]}

    page = _page(client, who, user=shown[theirs])

    assert [i["id"] for i in page["interactions"]] == [theirs]
    assert mine in shown
