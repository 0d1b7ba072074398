"""`skillgw users delete`: an operator deletes a user's interactions through the deletion
service: asked first, nothing left of the text, a receipt the user sees, audited as the
operator."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from platform_db import Platform, env, record

from gateway.cli import main
from gateway.services import ingest as ingest_service
from schemas.ingest import IngestInteractionSchema

NOW = datetime.now(UTC)


@pytest.fixture
def skillgw(platform_db):
    runner = CliRunner(env=env(GATEWAY_DATABASE_URL=platform_db, USER="fallback-user"))

    def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(main, ["users", *args], input=input)

    return run


@pytest.fixture
def said(platform: Platform) -> dict[str, datetime]:
    """user-1 spoke 1, 3 and 5 days ago; user-0 and user-2 spoke too (record() spreads users)."""
    skill = platform.skill()
    platform.users("user-0", "user-1", "user-2")
    moments = {n: NOW - timedelta(days=n) for n in range(1, 7)}
    records = [
        IngestInteractionSchema().load(record(skill, n, at=at, utterance=f"canary-{n} here"))
        for n, at in moments.items()
    ]
    platform.run(lambda conn: ingest_service.ingest_interactions(conn, records, now=NOW))
    return moments


def texts_of(platform: Platform, user: str) -> list[str]:
    rows = platform.rows(
        "SELECT t.utterance FROM interaction_texts t JOIN interactions i ON i.id = t.interaction_id"
        " JOIN users u ON u.id = i.user_id WHERE u.platform_user_id = %s",
        (user,),
    )
    return sorted({row["utterance"] for row in rows})


def test_an_operator_deletes_a_range_and_the_user_gets_the_receipt(skillgw, platform, said):
    # record(n) belongs to user-(n % 3): user-1 has 1 and 4, user-2 has 2 and 5
    assert texts_of(platform, "user-1") == ["canary-1 here", "canary-4 here"]

    done = skillgw(
        "delete",
        "user-1",
        "--since",
        (NOW - timedelta(days=2)).isoformat(),
        "--yes",
        "--operator",
        "alice",
        "--json",
    )

    assert done.exit_code == 0, done.output
    receipt = json.loads(done.stdout)
    assert (receipt["interactions"], receipt["requested_by"], receipt["user"]) == (
        1,
        "operator",
        "user-1",
    )
    assert texts_of(platform, "user-1") == ["canary-4 here"]
    assert texts_of(platform, "user-2") == ["canary-2 here", "canary-5 here"]
    events = platform.rows(
        "SELECT actor_kind, actor_id, action, subject FROM audit_events"
        " WHERE action LIKE 'deletion.%' ORDER BY id"
    )
    user_id = platform.rows("SELECT id FROM users WHERE platform_user_id = 'user-1'")[0]["id"]
    assert [(e["actor_kind"], e["actor_id"], e["action"], e["subject"]) for e in events] == [
        ("cli", "alice", "deletion.requested", str(user_id)),
        ("system", "", "deletion.completed", receipt["id"]),
    ]
    (stored,) = platform.rows("SELECT id, interactions, actor_kind FROM deletion_receipts")
    assert (str(stored["id"]), stored["interactions"]) == (receipt["id"], 1)


def test_it_asks_first_and_a_no_deletes_nothing(skillgw, platform, said):
    declined = skillgw("delete", "user-1", input="n\n")

    assert declined.exit_code == 1
    assert "Delete all user-1's interactions (2)?" in declined.output
    assert texts_of(platform, "user-1") == ["canary-1 here", "canary-4 here"]
    assert platform.count("deletion_receipts") == 0
    assert platform.rows("SELECT 1 FROM audit_events WHERE action LIKE 'deletion.%'") == []

    accepted = skillgw("delete", "user-1", input="y\n")

    assert accepted.exit_code == 0, accepted.output
    assert "Deleted 2 interactions of user-1" in accepted.output
    assert texts_of(platform, "user-1") == []


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["nobody", "--yes"], 1, "No user 'nobody'"),
        (["user-1", "--since", "yesterday", "--yes"], 2, "ISO 8601"),
        (["user-1", "--since", "2026-11-01T00:00:00", "--yes"], 2, "time zone"),
        (
            ["user-1", "--since", "2026-11-02T00:00:00Z", "--until", "2026-11-01T00:00:00Z"],
            2,
            "later than --since",
        ),
    ],
)
def test_bad_input_changes_nothing_and_says_why(skillgw, platform, said, args, status, message):
    result = skillgw("delete", *args)

    assert result.exit_code == status and message in result.output
    assert texts_of(platform, "user-1") == ["canary-1 here", "canary-4 here"]
    assert platform.count("deletion_receipts") == 0
