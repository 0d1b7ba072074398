"""Rule 8, the canary: a sentence written through ingest, read and searched through the
developer API, then deleted, leaves no trace in a full text dump of the database (pg_dump),
nor in any stored form or search vector."""

import secrets
import string
from datetime import UTC, datetime, timedelta

import pytest
from database_dump import dump
from tokens import bearer_headers

pytestmark = pytest.mark.committed


def word(prefix: str) -> str:
    # letters only: no detector takes it for a number, an address or an account
    return prefix + "".join(secrets.choice(string.ascii_lowercase) for _ in range(12))


def lexemes(owner_conn, text: str) -> list[str]:
    rows = owner_conn.execute(
        "SELECT unnest(tsvector_to_array(to_tsvector('english', %s))) AS lexeme", (text,)
    ).fetchall()
    return [row["lexeme"] for row in rows]


def test_a_deleted_canary_leaves_no_trace_in_a_dump(
    committed_make, committed_app, owner_url, owner_conn
):
    first, second = word("glimmerquartz"), word("snorkelvine")
    canary = f"please bring the {first} cake with extra {second} on top"
    developer = committed_make.developer(tier="trusted")
    skill = committed_make.skill(developer, name="Canary Bakery")
    http = committed_app.test_client()
    platform = bearer_headers(http, committed_make.client(kind="platform"))
    reader = bearer_headers(http, committed_make.client(developer_id=developer))
    platform_user = word("canary-user-")
    assert (
        http.post(
            "/v1/ingest/users",
            json={"users": [{"platform_user_id": platform_user}]},
            headers=platform,
        ).status_code
        == 200
    )
    user = committed_make.rows(
        "SELECT id FROM users WHERE platform_user_id = %s", (platform_user,)
    )[0]["id"]
    committed_make.consent(str(user), skill, granted_at=datetime.now(UTC) - timedelta(days=1))
    record = {
        "interaction_id": word("canary-"),
        "skill_id": skill,
        "user_id": platform_user,
        "session_id": word("session-"),
        "occurred_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "utterance": canary,
        "response": f"One {first} cake with {second}, coming up.",
        "intent": "OrderCake",
        "slots": [{"name": "topping", "value": second}],
        "outcome": "success",
        "order_ref": "C-0001",
    }
    stored = http.post("/v1/ingest/interactions", json={"interactions": [record]}, headers=platform)
    assert stored.status_code == 200, stored.get_json()
    interaction = stored.get_json()["interactions"][0]["id"]

    # read it, and find it by search, through the developer API
    detail = http.get(f"/v1/skills/{skill}/interactions/{interaction}", headers=reader)
    assert detail.status_code == 200 and first in detail.get_json()["utterance"]
    found = http.get(
        f"/v1/skills/{skill}/interactions", query_string={"q": first}, headers=reader
    ).get_json()
    assert [i["id"] for i in found["interactions"]] == [interaction]

    # the test can see a trace where there is one: text, lexemes, the ledger's digest
    traces = {first, second, *lexemes(owner_conn, f"{first} {second}")}
    digest = owner_conn.execute(
        "SELECT content_digest FROM ingested_interactions WHERE platform_interaction_id = %s",
        (record["interaction_id"],),
    ).fetchone()["content_digest"]
    traces.add(digest)
    before = dump(owner_url)
    assert [trace for trace in (first, second, digest) if trace not in before] == []
    assert (
        owner_conn.execute(
            "SELECT count(*) AS n FROM interaction_texts WHERE search_utterance @@ to_tsquery("
            "'english', %s)",
            (first,),
        ).fetchone()["n"]
        > 0
    )

    deleted = http.delete(f"/v1/platform/users/{platform_user}/interactions", headers=platform)
    assert deleted.status_code == 200, deleted.get_json()
    assert deleted.get_json()["interactions"] == 1

    after = dump(owner_url)
    assert [trace for trace in traces if trace in after] == []
    for column in ("search_utterance", "search_response", "search_slots"):
        hits = owner_conn.execute(
            f"SELECT count(*) AS n FROM interaction_texts WHERE {column} @@ to_tsquery("  # noqa: S608
            "'english', %s)",
            (first + " | " + second,),
        ).fetchone()["n"]
        assert hits == 0, column
    # the ledger keeps the ids (a retry stores nothing) but no digest of the text
    (ledger,) = owner_conn.execute(
        "SELECT content_digest, deleted_at FROM ingested_interactions"
        " WHERE platform_interaction_id = %s",
        (record["interaction_id"],),
    ).fetchall()
    assert ledger["content_digest"] == "" and ledger["deleted_at"] is not None
    # the developer API finds nothing any more, by id or by search
    assert (
        http.get(f"/v1/skills/{skill}/interactions/{interaction}", headers=reader).status_code
        == 404
    )
    assert (
        http.get(
            f"/v1/skills/{skill}/interactions", query_string={"q": first}, headers=reader
        ).get_json()["interactions"]
        == []
    )
    # what remains of the read: ids and times only
    assert (
        owner_conn.execute(
            "SELECT count(*) AS n FROM access_log WHERE interaction_id = %s", (interaction,)
        ).fetchone()["n"]
        == 2
    )
