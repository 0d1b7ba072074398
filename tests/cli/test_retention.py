"""Retention by partition: whole months past the setting go, with their forms and audio
references, to the microsecond; the coming months' partitions exist without an operator."""

from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from platform_db import Platform, env, jsonl, record

from gateway import server
from gateway.cli import main
from gateway.services import ingest as ingest_service
from gateway.services import retention as retention_service
from schemas.ingest import IngestInteractionSchema

_SCHEMA = IngestInteractionSchema()


def _push(platform: Platform, skill: str, moments: dict[int, datetime]) -> None:
    """Ingest one interaction (with an audio reference) at each moment, numbered by key."""
    records = [
        _SCHEMA.load(record(skill, n, at=at, audio_ref=f"vault://audio/{n}"))
        for n, at in moments.items()
    ]
    platform.run(
        lambda conn: ingest_service.ingest_interactions(conn, records, now=datetime.now(UTC))
    )


def _kept(platform: Platform) -> dict[str, int]:
    """Per platform id: the interaction's forms plus its audio references still stored."""
    rows = platform.rows(
        """
        SELECT l.platform_interaction_id AS pid,
               (SELECT count(*) FROM interaction_texts t WHERE t.interaction_id = i.id)
             + (SELECT count(*) FROM vault.audio_recordings a WHERE a.interaction_id = i.id) AS n
        FROM interactions i JOIN ingested_interactions l ON l.interaction_id = i.id
        """
    )
    return {row["pid"]: int(row["n"]) for row in rows}


def test_whole_months_past_retention_go_to_the_microsecond(platform: Platform) -> None:
    skill = platform.skill()
    platform.users("user-0", "user-1", "user-2")
    _push(
        platform,
        skill,
        {
            1: datetime(2024, 12, 1, tzinfo=UTC),  # first microsecond of the month before
            2: datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # its last one
            3: datetime(2025, 1, 1, tzinfo=UTC),  # first microsecond of the oldest kept month
            4: datetime(2025, 1, 31, 23, 59, 59, 999999, tzinfo=UTC),  # its last one
            5: datetime(2024, 11, 15, 12, tzinfo=UTC),  # an older month still
        },
    )
    now = datetime(2026, 7, 15, 9, 30, tzinfo=UTC)
    assert retention_service.oldest_kept_month(now=now, months=18) == date(2025, 1, 1)

    def run(conn, dry_run):  # type: ignore[no-untyped-def]
        return [
            retention_service.drop_month(conn, month, dry_run=dry_run)
            for month in retention_service.expired_months(conn, now=now, months=18)
        ]

    preview = platform.run(run, dry_run=True)
    assert _kept(platform) == {f"int-{n}": 3 + 1 for n in range(1, 6)}  # a dry run drops nothing

    dropped = platform.run(run, dry_run=False)

    assert dropped == preview
    assert [(d.month, d.interactions, d.forms, d.audio) for d in dropped] == [
        (date(2024, 11, 1), 1, 3, 1),
        (date(2024, 12, 1), 2, 6, 2),
    ]
    # the last microsecond of the oldest kept month stays, with its forms and its audio
    assert _kept(platform) == {"int-3": 4, "int-4": 4}
    assert platform.count("interaction_texts") == 6
    assert platform.count("vault.audio_recordings") == 2
    assert not any(p.endswith(("2024_11", "2024_12")) for p in platform.partitions())
    assert "interactions_2025_01" in platform.partitions()
    # the ledger keeps the platform ids: an old record sent again does not come back
    assert platform.count("ingested_interactions") == 5


def test_a_dropped_interaction_sent_again_stays_gone(platform: Platform) -> None:
    skill = platform.skill()
    platform.users("user-0", "user-1", "user-2")
    old = datetime.now(UTC) - timedelta(days=31 * 21)
    line = record(skill, 1, at=old)
    platform.run(
        lambda conn: ingest_service.ingest_interactions(
            conn, [_SCHEMA.load(line)], now=datetime.now(UTC)
        )
    )
    runner = CliRunner(env=env(GATEWAY_DATABASE_URL=platform.url))
    assert runner.invoke(main, ["retention", "run"]).exit_code == 0

    again = runner.invoke(main, ["ingest", "-", "--workers", "0"], input=jsonl([line]))

    assert "Skipped as duplicates: 1" in again.stdout, again.output
    assert platform.count("interactions") == 0


def test_the_command_drops_past_months_creates_coming_ones_and_a_dry_run_changes_nothing(
    platform: Platform,
) -> None:
    skill = platform.skill()
    platform.users("user-0", "user-1", "user-2")
    today = datetime.now(UTC)
    old = today - timedelta(days=31 * 5)
    _push(platform, skill, {1: old, 2: today - timedelta(minutes=5)})
    old_month = f"{old:%Y-%m}"
    ahead = [f"{m:%Y_%m}" for m in retention_service.months_ahead(now=today)]
    runner = CliRunner(env=env(GATEWAY_DATABASE_URL=platform.url, GATEWAY_RETENTION_MONTHS="3"))
    before = platform.partitions()

    preview = runner.invoke(main, ["retention", "run", "--dry-run"])

    assert preview.exit_code == 0, preview.output
    assert f"Would drop {old_month}: 1 interaction, 3 redacted forms, 1 audio reference." in (
        preview.stdout
    )
    assert "Would create partitions for" in preview.stdout
    assert platform.partitions() == before and platform.count("interactions") == 2

    done = runner.invoke(main, ["retention", "run"])

    assert done.exit_code == 0, done.output
    assert f"Dropped {old_month}: 1 interaction, 3 redacted forms, 1 audio reference." in (
        done.stdout
    )
    assert platform.count("interactions") == 1 and platform.count("vault.audio_recordings") == 1
    partitions = platform.partitions()
    for suffix in ahead:
        assert f"interactions_{suffix}" in partitions
        assert f"interaction_texts_{suffix}" in partitions
    assert not any(p.endswith(old_month.replace("-", "_")) for p in partitions)

    # --months wins over the setting; nothing is left past a longer retention
    again = runner.invoke(main, ["retention", "run", "--months", "18"])
    assert again.exit_code == 0, again.output
    assert "No month is past retention." in again.stdout


def test_serve_creates_the_coming_months_before_it_starts(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    started = []
    monkeypatch.setattr(server, "serve", lambda settings, **kwargs: started.append(kwargs))
    expected = [f"{m:%Y_%m}" for m in retention_service.months_ahead(now=datetime.now(UTC))]
    assert f"interactions_{expected[-1]}" not in platform.partitions()

    result = CliRunner().invoke(
        main,
        ["serve", "--port", "8999"],
        env=env(GATEWAY_DATABASE_URL=platform.url, GATEWAY_DATA_DIR=str(tmp_path)),
    )

    assert result.exit_code == 0, result.output
    assert started  # the server would have started after that
    partitions = platform.partitions()
    assert all(f"interactions_{suffix}" in partitions for suffix in expected)
