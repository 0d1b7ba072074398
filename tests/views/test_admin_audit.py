"""The admin API for the audit log: filters, signed pagination, and the chain's verdict."""

import uuid
from datetime import timedelta

import pytest

from gateway.services import audit

ADMIN = "/v1/admin"


@pytest.fixture
def admin(make, bearer):
    credentials = make.client(kind="admin")
    return {"credentials": credentials, "headers": bearer(credentials)}


@pytest.fixture
def headers(admin):
    return admin["headers"]


def _record(make, **kwargs):
    make._run(lambda conn: audit.record(conn, **kwargs))


@pytest.fixture
def logged(make):
    """Events of two operators about two developers and a skill."""
    developers = [make.developer(tier=None), make.developer(tier=None)]
    skill = str(uuid.uuid4())
    alice, bob = audit.Actor.operator("alice"), audit.Actor.operator("bob")
    _record(make, actor=alice, action="developer.suspended", developer_id=developers[0])
    _record(make, actor=bob, action="developer.reinstated", developer_id=developers[0])
    _record(
        make, actor=alice, action="skill.registered", developer_id=developers[1], skill_id=skill
    )
    _record(
        make,
        actor=alice,
        action="client.rotated",
        developer_id=developers[1],
        subject="dev_abc",
        details={"grace_seconds": 0, "scopes": ["a", "b"], "fresh": True},
    )
    return {"developers": developers, "skill": skill}


def query(client, headers, **params):
    response = client.get(f"{ADMIN}/audit", query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_each_filter_narrows_to_its_events(client, headers, logged):
    first, second = logged["developers"]

    assert [e["action"] for e in query(client, headers, developer=first)["events"]] == [
        "developer.reinstated",
        "developer.suspended",
    ]
    by_bob = query(client, headers, actor="cli:bob")["events"]
    assert [(e["actor"], e["action"]) for e in by_bob] == [("cli:bob", "developer.reinstated")]
    assert [e["skill_id"] for e in query(client, headers, skill=logged["skill"])["events"]] == [
        logged["skill"]
    ]
    rotated = query(client, headers, action="client.rotated", developer=second)["events"]
    assert len(rotated) == 1
    assert rotated[0]["subject"] == "dev_abc"
    assert rotated[0]["details"] == [
        {"name": "fresh", "value": "true"},
        {"name": "grace_seconds", "value": "0"},
        {"name": "scopes", "value": "a,b"},
    ]
    assert (
        query(client, headers, actor="cli:alice", developer=first, action="client.rotated")[
            "events"
        ]
        == []
    )


def test_the_time_range_bounds_the_events(client, headers, logged, make):
    at = make.rows("SELECT max(occurred_at) AS t FROM audit_events")[0]["t"]

    later = query(client, headers, since=(at + timedelta(seconds=1)).isoformat())
    around = query(
        client,
        headers,
        since=(at - timedelta(seconds=1)).isoformat(),
        until=(at + timedelta(seconds=1)).isoformat(),
        developer=logged["developers"][0],
    )

    assert later["events"] == []
    assert len(around["events"]) == 2
    backwards = client.get(
        f"{ADMIN}/audit",
        query_string={"since": at.isoformat(), "until": at.isoformat()},
        headers=headers,
    )
    assert backwards.status_code == 422


def test_pages_follow_the_signed_cursor_newest_first(client, headers, logged):
    seen, cursor = [], None
    while True:
        params = {"limit": 1, "actor": "cli:alice", **({"cursor": cursor} if cursor else {})}
        page = query(client, headers, **params)
        seen += page["events"]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert [e["action"] for e in seen] == [
        "client.rotated",
        "skill.registered",
        "developer.suspended",
    ]
    first = query(client, headers, limit=1, actor="cli:alice")["next_cursor"]
    for params in ({"cursor": first, "actor": "cli:bob"}, {"cursor": first + "x"}):
        refused = client.get(f"{ADMIN}/audit", query_string=params, headers=headers)
        assert refused.status_code == 422
        assert "cursor" in refused.get_json()["details"]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"actor": "root:me"}, "actor"),
        ({"actor": "client:"}, "actor"),
        ({"actor": "cli:has space"}, "actor"),
        ({"action": "DROP TABLE"}, "action"),
        ({"developer": "x"}, "developer"),
        ({"skill": "not-a-uuid"}, "skill"),
        ({"since": "yesterday"}, "since"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"user_id": "x"}, "user_id"),
    ],
)
def test_a_bad_filter_is_a_422(client, headers, params, field):
    response = client.get(f"{ADMIN}/audit", query_string=params, headers=headers)

    assert response.status_code == 422
    assert field in response.get_json()["details"]


def test_a_repeated_filter_is_a_422(client, headers):
    response = client.get(f"{ADMIN}/audit?action=a.b&action=c.d", headers=headers)

    assert response.status_code == 422
    assert "action" in response.get_json()["details"]


def test_the_admins_own_actions_show_up_with_the_admin_as_actor(client, headers, admin):
    created = client.post(
        f"{ADMIN}/developers",
        json={"name": "Seen In The Log", "contact_email": "log@example.com"},
        headers=headers,
    ).get_json()

    [event] = query(client, headers, action="developer.registered", developer=created["id"])[
        "events"
    ]

    assert event["actor"] == f"client:{admin['credentials'].client_id}"
    assert "Seen In The Log" not in str(event) and "log@example.com" not in str(event)


def test_verify_gives_the_chains_verdict(client, headers, logged, make):
    response = client.get(f"{ADMIN}/audit/verify", headers=headers)

    assert response.status_code == 200
    verdict = response.get_json()
    assert verdict["ok"] is True and verdict["unsealed"] == 0
    assert verdict["head_seq"] == verdict["rows"] >= 4
    assert verdict["first_bad_seq"] is None and verdict["reason"] is None
    sealed = make.rows("SELECT count(*) AS n FROM audit_events WHERE seq IS NULL")[0]["n"]
    assert sealed == 0


def test_verify_names_the_first_tampered_row(client, headers, logged, make):
    assert client.get(f"{ADMIN}/audit/verify", headers=headers).get_json()["ok"]
    conn = make.conn
    role = conn.execute("SELECT current_user AS role").fetchone()["role"]
    # as the owner with the triggers off, the way an attacker with database access would
    conn.execute("RESET ROLE")
    conn.execute("ALTER TABLE audit_events DISABLE TRIGGER ALL")
    conn.execute("UPDATE audit_events SET developer_id = 424242 WHERE seq = 2")
    conn.execute("ALTER TABLE audit_events ENABLE TRIGGER ALL")
    conn.execute(f'SET LOCAL ROLE "{role}"')

    verdict = client.get(f"{ADMIN}/audit/verify", headers=headers).get_json()

    assert verdict["ok"] is False and verdict["first_bad_seq"] == 2
    assert "altered" in verdict["reason"]
