"""Rule 7, audit of reads: what a developer was shown, by which client, and nothing more."""

from datetime import UTC, datetime, timedelta


def test_a_page_logs_exactly_the_rows_it_shows_and_the_reading_client(client, make, reader, bearer):
    who = reader("standard")
    now = datetime.now(UTC)
    made = [
        make.interaction(who["skill"], who["user"], occurred_at=now - timedelta(minutes=i))
        for i in range(3)
    ]
    second_client = make.client(developer_id=who["developer"])
    headers = bearer(second_client)

    page = client.get(
        f"/v1/skills/{who['skill']}/interactions", query_string={"limit": 2}, headers=headers
    ).get_json()

    shown = [i["id"] for i in page["interactions"]]
    assert shown == made[:2]
    rows = make.rows("SELECT interaction_id, client_id, skill_id, endpoint FROM access_log")
    # the look-ahead row that tells whether another page exists was not shown: not logged
    assert sorted(str(r["interaction_id"]) for r in rows) == sorted(shown)
    assert {r["client_id"] for r in rows} == {second_client.client_id}
    assert {str(r["skill_id"]) for r in rows} == {who["skill"]}
    assert {r["endpoint"] for r in rows} == {"list"}
