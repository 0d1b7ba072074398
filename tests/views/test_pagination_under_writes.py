"""Keyset pagination while another connection keeps committing new interactions."""

import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from factories import Factory
from psycopg.rows import dict_row
from tokens import mint_token


@pytest.mark.committed
def test_paging_while_interactions_arrive_neither_skips_nor_repeats(
    committed_make, committed_app, owner_url
):

    now = datetime.now(UTC)
    developer = committed_make.developer(tier="trusted")
    skill = committed_make.skill(developer)
    user = committed_make.user()
    committed_make.consent(user, skill, granted_at=now - timedelta(days=30))
    original = [
        committed_make.interaction(skill, user, occurred_at=now - timedelta(minutes=5, seconds=i))
        for i in range(120)
    ]
    credentials = committed_make.client(developer_id=developer)
    http = committed_app.test_client()
    token = mint_token(http, credentials)
    headers = {"Authorization": f"Bearer {token}"}

    stop = threading.Event()
    written: list[str] = []

    def writer() -> None:
        with psycopg.connect(owner_url, autocommit=True, row_factory=dict_row) as conn:
            make = Factory(conn)
            step = 0
            while not stop.is_set():
                # newer than everything being paged, and some landing in the already-read past
                written.append(make.interaction(skill, user, occurred_at=datetime.now(UTC)))
                written.append(
                    make.interaction(
                        skill, user, occurred_at=now - timedelta(minutes=5, seconds=step % 120)
                    )
                )
                step += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        seen, cursor = [], None
        while True:
            query = {"limit": 7, **({"cursor": cursor} if cursor else {})}
            page = http.get(
                f"/v1/skills/{skill}/interactions", query_string=query, headers=headers
            ).get_json()
            seen += [item["id"] for item in page["interactions"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
    finally:
        stop.set()
        thread.join()

    assert written, "the writer never committed anything while paging"
    assert len(seen) == len(set(seen))  # nothing repeated
    assert [i for i in seen if i in set(original)] == original  # nothing skipped, in order
