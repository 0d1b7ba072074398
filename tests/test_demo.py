"""The demo data set: realistic, loaded once, readable through the API only as the rules allow."""

import psycopg
import pytest
from tokens import bearer_headers

from gateway.demo import load_demo
from gateway.services import oauth_clients as oauth_clients_service

pytestmark = pytest.mark.committed

_COUNTS = """
SELECT (SELECT count(*) FROM developers) AS developers,
       (SELECT count(*) FROM skills) AS skills,
       (SELECT count(*) FROM users) AS users,
       (SELECT count(*) FROM users WHERE is_child) AS children,
       (SELECT count(*) FROM consents) AS consents,
       (SELECT count(*) FROM consents WHERE revoked_at IS NOT NULL) AS revoked,
       (SELECT count(*) FROM consents WHERE 'health' = ANY (categories)) AS health_consents,
       (SELECT count(*) FROM interactions) AS interactions,
       (SELECT count(*) FROM interactions WHERE device_serial <> '') AS with_serial,
       (SELECT count(*) FROM interactions WHERE sensitive_category = 'health') AS health,
       (SELECT count(*) FROM vault.audio_recordings) AS audio
"""


def _counts(conn: psycopg.Connection) -> dict:
    row = conn.execute(_COUNTS).fetchone()
    assert row is not None
    return dict(row)


def test_demo_loads_a_realistic_data_set(owner_conn: psycopg.Connection) -> None:
    issued = load_demo(owner_conn)
    counts = _counts(owner_conn)

    assert issued.created
    assert counts["developers"] == 3
    assert counts["skills"] == 4
    assert counts["users"] == 20 and counts["children"] == 1
    assert counts["interactions"] == 300
    assert counts["revoked"] > 0 and counts["health_consents"] > 0
    assert 0 < counts["with_serial"] < counts["interactions"]
    assert 0 < counts["audio"] < counts["interactions"]
    assert counts["health"] > 0
    # revoked-then-granted-again: one user and skill with both a closed and an open consent
    regranted = owner_conn.execute(
        """
        SELECT count(*) AS n FROM (
            SELECT user_id, skill_id FROM consents GROUP BY user_id, skill_id
            HAVING count(*) > 1 AND bool_or(revoked_at IS NULL)) AS pairs
        """
    ).fetchone()
    assert regranted is not None and regranted["n"] > 0
    # the interactions carry PII in written and spoken form, so redaction has work to show
    raw = " ".join(r["utterance"] for r in owner_conn.execute("SELECT utterance FROM interactions"))
    assert "@" in raw and " dot " in raw and "4111 1111 1111 1111" in raw and "five five" in raw


def test_credentials_have_the_documented_shape(owner_conn: psycopg.Connection) -> None:
    data = load_demo(owner_conn).as_json()

    assert set(data) == {"developers", "admin", "platform"}
    tiers = {d["name"]: d["tier"] for d in data["developers"]}
    assert tiers["Pizza Palace Inc."] == "standard" and tiers["Swift Rides"] == "none"
    for developer in data["developers"]:
        assert set(developer) == {"name", "tier", "client_id", "client_secret", "skills"}
        assert developer["skills"] and all(set(s) == {"id", "name"} for s in developer["skills"])
    pizza = next(d for d in data["developers"] if d["name"] == "Pizza Palace Inc.")
    assert [s["name"] for s in pizza["skills"]] == ["Pizza Palace", "Pizza Palace Rewards"]
    for kind in ("admin", "platform"):
        assert set(data[kind]) == {"client_id", "client_secret"}
        client = oauth_clients_service.authenticate_client(
            owner_conn,
            client_id=data[kind]["client_id"],
            client_secret=data[kind]["client_secret"],
        )
        assert client is not None and client.kind == kind


def test_a_second_load_reuses_the_data_and_replaces_the_secrets(
    owner_conn: psycopg.Connection,
) -> None:
    first = load_demo(owner_conn).as_json()
    before = _counts(owner_conn)

    second = load_demo(owner_conn)

    assert not second.created
    assert _counts(owner_conn) == before
    again = second.as_json()
    assert [d["skills"] for d in again["developers"]] == [d["skills"] for d in first["developers"]]
    old, new = first["developers"][0], again["developers"][0]
    assert old["client_id"] != new["client_id"]
    # the earlier secrets are revoked: only the printed ones work
    assert (
        oauth_clients_service.authenticate_client(
            owner_conn, client_id=old["client_id"], client_secret=old["client_secret"]
        )
        is None
    )
    assert oauth_clients_service.authenticate_client(
        owner_conn, client_id=new["client_id"], client_secret=new["client_secret"]
    )


def test_demo_transcripts_reach_developers_only_redacted(
    owner_conn: psycopg.Connection, committed_app
) -> None:  # type: ignore[no-untyped-def]
    data = load_demo(owner_conn).as_json()
    client = committed_app.test_client()
    pizza = next(d for d in data["developers"] if d["tier"] == "standard")
    swift = next(d for d in data["developers"] if d["tier"] == "none")

    headers = bearer_headers(client, pizza)
    skills = client.get("/v1/skills", headers=headers).get_json()["skills"]
    assert {s["name"] for s in skills} == {"Pizza Palace", "Pizza Palace Rewards"}
    skill_id = pizza["skills"][0]["id"]
    listed = client.get(f"/v1/skills/{skill_id}/interactions?limit=50", headers=headers)
    assert listed.status_code == 200
    interactions = listed.get_json()["interactions"]
    assert interactions
    text = " ".join(i.get("utterance", "") for i in interactions)
    assert "[" in text  # placeholders show where redaction worked
    assert "@" not in text and " dot com" not in text
    assert "4111" not in text and "5555" not in text and "five five five" not in text

    denied = client.get(
        f"/v1/skills/{swift['skills'][0]['id']}/interactions", headers=bearer_headers(client, swift)
    )
    assert denied.status_code == 403
