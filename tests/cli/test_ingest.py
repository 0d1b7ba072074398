"""`skillgw ingest`: bulk import through the ingest service, line by line reporting, dry runs,
stdin, and Ctrl-C leaving only whole batches."""

import json
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from platform_db import Platform, env, jsonl, record

from gateway.cli import main
from gateway.services import ingest as ingest_service
from gateway.services import redaction as redaction_service
from schemas.ingest import IngestInteractionSchema


def _ingest(url: str, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        main, ["ingest", *args], input=input, env=env(GATEWAY_DATABASE_URL=url)
    )


@pytest.fixture
def world(platform: Platform) -> dict:
    """A skill, three users, and one interaction the platform pushed through the API before."""
    skill = platform.skill()
    platform.users("user-0", "user-1", "user-2")
    at = datetime.now(UTC) - timedelta(days=40)
    earlier = record(skill, 100, at=at)
    loaded = IngestInteractionSchema().load(earlier)
    platform.run(
        lambda conn: ingest_service.ingest_interactions(conn, [loaded], now=datetime.now(UTC))
    )
    return {"skill": skill, "at": at, "earlier": earlier}


def _mixed_file(world: dict) -> tuple[list, dict[int, str]]:
    """Good, duplicate and broken lines (batches of 4); the expected reason of each rejection."""
    skill, at = world["skill"], world["at"]

    def good(n: int, **fields: object) -> dict:
        return record(skill, n, at=at + timedelta(minutes=n), **fields)

    missing_outcome = good(6)
    del missing_outcome["outcome"]
    lines: list = [
        good(1),  # 1
        good(2, audio_ref="vault://recordings/2.opus"),  # 2
        '{"interaction_id": "int-3", "skill_id": ',  # 3: cut short
        good(4),  # 4
        good(1),  # 5: line 1 again, committed in the batch before: a duplicate
        missing_outcome,  # 6
        good(7, user_id="nobody"),  # 7
        good(8, skill_id=str(uuid.uuid4())),  # 8
        good(2, utterance="something else entirely"),  # 9: line 2's id, other content
        world["earlier"],  # 10: pushed through the API before: a duplicate
        "[1, 2]",  # 11
        good(12),  # 12
        good(13),  # 13
        good(13),  # 14: line 13 again in the same batch: a duplicate
        good(13, outcome="failure"),  # 15: line 13's id, other content, same batch
        "",  # 16: blank lines are passed over
        good(17, slots=[{"name": "size", "value": {"nested": 1}}]),  # 17
    ]
    reasons = {
        3: "Not valid JSON: Expecting value (column 41).",
        6: "outcome: Missing data for required field.",
        7: "user_id: No such user; send it first.",
        8: "skill_id: No such skill.",
        9: "interaction_id: Already ingested with other content; platform ids may not be reused.",
        11: "Not a JSON object.",
        15: "interaction_id: Given at line 13 with other content; platform ids may not be reused.",
        17: "slots.0.value: Must be a string, a finite number or a boolean.",
    }
    return lines, reasons


def test_each_line_is_imported_skipped_or_rejected_with_its_number_and_reason(
    platform: Platform, world: dict, tmp_path: Path
) -> None:
    lines, reasons = _mixed_file(world)
    source = tmp_path / "interactions.jsonl"
    source.write_text(jsonl(lines))
    rejects = tmp_path / "rejects.jsonl"

    # a worker process validates and redacts, as in production
    result = _ingest(
        platform.url, str(source), "--batch", "4", "--workers", "1", "--rejects", str(rejects)
    )

    assert result.exit_code == 1, result.output  # something was rejected
    out = result.stdout
    assert "Inserted: 5 " in out
    assert "Skipped as duplicates: 3" in out
    assert "Rejected: 8" in out
    listed = [line.strip() for line in out.splitlines() if line.startswith("  line ")]
    assert listed == [f"line {n}: {reason}" for n, reason in reasons.items()]
    written = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [r["line"] for r in written] == list(reasons)
    assert written[3] == {
        "line": 8,
        "interaction_id": "int-8",
        "errors": {"skill_id": ["No such skill."]},
    }
    assert written[0]["interaction_id"] is None  # not even JSON

    # the five good lines and the one from before; each with its forms; audio in the vault only
    assert platform.counts() == {
        "interactions": 6,
        "interaction_texts": 6 * 3,
        "ingested_interactions": 6,
        "vault": 1,
    }
    stored = {r["utterance"] for r in platform.rows("SELECT utterance FROM interactions")}
    assert "something else entirely" not in stored
    _assert_forms_are_what_the_redactor_makes(platform)


def _assert_forms_are_what_the_redactor_makes(platform: Platform) -> None:
    raws = platform.rows(
        "SELECT id, occurred_at, skill_id, utterance, response, slots, order_ref FROM interactions"
    )
    for raw in raws:
        expected = {f["policy"]: f for f in redaction_service.redact_for_storage(raw)}
        forms = platform.rows(
            """
            SELECT policy, version, utterance, response, slots, utterance_ref_hidden,
                   response_ref_hidden, slots_ref_hidden
            FROM interaction_texts WHERE interaction_id = %s
            """,
            (raw["id"],),
        )
        assert {f["policy"] for f in forms} == set(expected)
        for form in forms:
            want = expected[form["policy"]]
            assert form == {name: want[name] for name in form}
            # redacted for real: the name and the number are gone
            assert "Maria" not in form["utterance"] and "555" not in form["utterance"]


def test_a_dry_run_reports_the_same_and_writes_nothing(
    platform: Platform, world: dict, tmp_path: Path
) -> None:
    lines, reasons = _mixed_file(world)
    source = tmp_path / "interactions.jsonl"
    source.write_text(jsonl(lines))
    before = platform.counts(), platform.partitions()

    result = _ingest(platform.url, str(source), "--batch", "4", "--workers", "0", "--dry-run")

    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("Dry run: nothing was written.")
    # the same findings as the real import: a dry run sees its own earlier batches too
    assert "Would insert: 5 " in result.stdout
    assert "Skipped as duplicates: 3" in result.stdout
    assert "Rejected: 8" in result.stdout
    listed = [line.strip() for line in result.stdout.splitlines() if line.startswith("  line ")]
    assert listed == [f"line {n}: {reason}" for n, reason in reasons.items()]
    # not a row, not even the month's partition the lines needed
    assert (platform.counts(), platform.partitions()) == before


def test_stdin_is_read_with_a_dash_and_a_clean_import_exits_zero(
    platform: Platform, world: dict
) -> None:
    lines = [record(world["skill"], n, at=world["at"]) for n in range(1, 8)]

    first = _ingest(platform.url, "-", "--workers", "0", "--batch", "3", input=jsonl(lines))
    again = _ingest(platform.url, "-", "--workers", "0", input=jsonl(lines))

    assert first.exit_code == 0, first.output
    assert "Inserted: 7 " in first.stdout and "Rejected: 0" in first.stdout
    assert again.exit_code == 0, again.output
    assert "Inserted: 0 " in again.stdout and "Skipped as duplicates: 7" in again.stdout
    assert platform.count("interactions") == 7 + 1


def test_a_time_with_an_offset_lands_in_its_utc_month(platform: Platform, world: dict) -> None:
    # 23:30 on 31 March at UTC-2 is 01:30 on 1 April in UTC: April's partition must hold it
    line = record(world["skill"], 1, at=datetime.fromisoformat("2026-03-31T23:30:00-02:00"))

    result = _ingest(platform.url, "-", "--workers", "0", input=jsonl([line]))

    assert result.exit_code == 0, result.output
    rows = platform.rows(
        """
        SELECT tableoid::regclass::text AS part FROM interactions
        WHERE occurred_at < now() - interval '60 days'
        """
    )
    assert [r["part"] for r in rows] == ["interactions_2026_04"]
    forms = platform.rows("SELECT DISTINCT tableoid::regclass::text AS part FROM interaction_texts")
    assert {"part": "interaction_texts_2026_04"} in forms


def test_the_owner_role_may_not_copy_into_the_interactions_table_itself(platform: Platform) -> None:
    # why the importer stages its rows: COPY FROM is refused under row-level security
    with psycopg.connect(platform.url) as conn:
        role = conn.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        assert role.fetchone() == (False, False)
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="row-level security"):
            with conn.cursor().copy("COPY interactions (id) FROM STDIN") as copy:
                copy.write_row((str(uuid.uuid4()),))


def test_ctrl_c_rolls_back_the_batch_being_written_and_says_where_to_resume(
    platform: Platform, tmp_path: Path
) -> None:
    skill = platform.skill()
    platform.users("user-0", "user-1", "user-2")
    month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    total, batch = 200, 20
    source = tmp_path / "big.jsonl"
    source.write_text(
        jsonl([record(skill, n, at=month + timedelta(seconds=n)) for n in range(total)])
    )
    log = tmp_path / "ingest.log"
    command = [sys.executable, "-c", "from gateway.cli import main; main()", "ingest", str(source)]
    command += ["--batch", str(batch), "--workers", "1"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            env=env(GATEWAY_DATABASE_URL=platform.url),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(lambda: platform.count("ingested_interactions") >= batch, process, log)
        with psycopg.connect(platform.url) as blocker, psycopg.connect(platform.url) as watcher:
            # hold the forms table: the next batch writes its ledger and interactions, then waits
            blocker.execute("LOCK TABLE interaction_texts IN SHARE MODE")

            def importer_waits_mid_batch() -> bool:
                row = watcher.execute(
                    """
                    SELECT count(*) FROM pg_stat_activity
                    WHERE application_name = 'skillgw ingest' AND wait_event_type = 'Lock'
                      AND query LIKE '%%INSERT INTO interaction_texts%%'
                    """
                ).fetchone()
                watcher.commit()
                return row is not None and row[0] == 1

            _wait_for(importer_waits_mid_batch, process, log)
            process.send_signal(signal.SIGINT)
            status = process.wait(timeout=20)
            blocker.rollback()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = log.read_text()
    assert status == 130, output

    done = platform.count("ingested_interactions")
    assert 0 < done < total and done % batch == 0
    # whole batches only: the interrupted one left neither its ledger rows nor its interactions
    assert platform.counts() == {
        "interactions": done,
        "interaction_texts": done * 3,
        "ingested_interactions": done,
        "vault": 0,
    }
    assert f"every line up to {done:,} was imported or reported" in output
    assert f"--from-line {done + 1}" in output

    resumed = _ingest(platform.url, str(source), "--from-line", str(done + 1), "--workers", "0")
    assert resumed.exit_code == 0, resumed.output
    assert f"Inserted: {total - done:,} " in resumed.stdout
    assert "Skipped as duplicates: 0" in resumed.stdout
    assert platform.count("interactions") == total


def _wait_for(condition, process: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            pytest.fail(f"the import ended early:\n{log.read_text()}")
        time.sleep(0.05)
    pytest.fail(f"timed out waiting:\n{log.read_text()}")
