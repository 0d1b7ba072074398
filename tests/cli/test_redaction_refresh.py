"""`skillgw redaction refresh`: after a detector or policy version change every stored form is
made current, and no developer read serves a stale form before that."""

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from platform_db import Platform, env, record

from gateway.cli import main
from gateway.redaction import policies, redact
from gateway.services import ingest as ingest_service
from gateway.services import redaction as redaction_service
from schemas.ingest import IngestInteractionSchema


def _stale(platform: Platform) -> int:
    versions = redaction_service.current_versions()
    return len(
        platform.rows(
            """
            SELECT DISTINCT i.id FROM interactions i
            CROSS JOIN unnest(%s::text[], %s::text[]) AS p (policy, version)
            WHERE NOT EXISTS (
                SELECT 1 FROM interaction_texts t
                WHERE t.interaction_id = i.id AND t.policy = p.policy AND t.version = p.version)
            """,
            (list(versions), list(versions.values())),
        )
    )


def test_refresh_makes_every_form_current_after_a_version_bump(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    skill = platform.skill()
    platform.users("user-0", "user-1", "user-2")
    at = datetime.now(UTC) - timedelta(days=3)
    schema = IngestInteractionSchema()
    records = [schema.load(record(skill, n, at=at + timedelta(minutes=n))) for n in range(7)]
    platform.run(
        lambda conn: ingest_service.ingest_interactions(conn, records, now=datetime.now(UTC))
    )
    # one interaction lost a form altogether (as rows written before write-time redaction)
    platform.run(
        lambda conn: conn.execute(
            """
            DELETE FROM interaction_texts WHERE policy = 'strict' AND interaction_id IN (
                SELECT interaction_id FROM ingested_interactions
                WHERE platform_interaction_id = 'int-0')
            """
        )
    )
    # and a form that says what an old version made
    platform.run(lambda conn: conn.execute("UPDATE interaction_texts SET utterance = 'STALE'"))
    assert _stale(platform) == 1

    monkeypatch.setattr(policies, "REDACTOR_VERSION", "bumped-for-test")
    assert _stale(platform) == 7
    runner = CliRunner(env=env(GATEWAY_DATABASE_URL=platform.url))

    result = runner.invoke(main, ["redaction", "refresh", "--batch", "3"])

    assert result.exit_code == 0, result.output
    assert "Refreshed the stored forms of 7 interactions." in result.stdout
    assert _stale(platform) == 0
    assert platform.count("interaction_texts") == 7 * 3
    forms = platform.rows("SELECT policy, utterance FROM interaction_texts")
    assert not any(form["utterance"] == "STALE" for form in forms)
    raw = platform.rows("SELECT utterance FROM interactions LIMIT 1")[0]["utterance"]
    assert any(f["utterance"] == redact(raw, f["policy"]).text for f in forms)

    again = runner.invoke(main, ["redaction", "refresh"])
    assert "Refreshed the stored forms of 0 interactions." in again.stdout


@pytest.mark.parametrize("bumped", [False, True])
def test_a_read_never_serves_a_stale_form(client, make, bearer, monkeypatch, bumped) -> None:  # type: ignore[no-untyped-def]
    developer = make.developer(tier="standard")
    skill = make.skill(developer)
    user = make.user()
    make.consent(user, skill, granted_at=datetime.now(UTC) - timedelta(days=10))
    utterance = "this is Maria Lopez, call me at 555 123 4567"
    interaction = make.interaction(
        skill, user, occurred_at=datetime.now(UTC) - timedelta(hours=1), utterance=utterance
    )
    # the stored form stands for one an older version made
    make.rows("UPDATE interaction_texts SET utterance = 'STALE' RETURNING 1")
    if bumped:
        monkeypatch.setattr(policies, "REDACTOR_VERSION", "bumped-for-test")

    body = client.get(
        f"/v1/skills/{skill}/interactions/{interaction}",
        headers=bearer(make.client(developer_id=developer)),
    ).get_json()

    if not bumped:
        # a current form is served as stored: the read path only selects
        assert body["utterance"] == "STALE"
        return
    assert body["utterance"] == redact(utterance, "standard").text
    assert "Maria" not in body["utterance"]
    # and written back, current
    stored = make.rows(
        """
        SELECT version, utterance FROM interaction_texts
        WHERE interaction_id = %s AND policy = 'standard'
        """,
        (interaction,),
    )
    assert stored == [
        {
            "version": redaction_service.current_versions()["standard"],
            "utterance": body["utterance"],
        }
    ]
