"""`skillgw tiers|whitelist|tier-requests`: the same services as the admin API, audited with the
operator as actor, tables by default and JSON with --json."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from platform_db import Platform, env

from gateway.cli import main
from gateway.repositories import developers as developers_repo
from gateway.services import audit, tier_requests


@pytest.fixture
def skillgw(platform_db):
    runner = CliRunner(env=env(GATEWAY_DATABASE_URL=platform_db, USER="fallback-op", COLUMNS="200"))

    def run(*args: str, ok: bool = True):  # type: ignore[no-untyped-def]
        result = runner.invoke(main, list(args))
        if ok:
            assert result.exit_code == 0, (args, result.output)
        return result

    return run


@pytest.fixture
def developer(platform: Platform) -> int:
    return int(
        platform.run(lambda conn: developers_repo.insert_developer(conn, name="Swift Rides"))
    )


def json_lines(result) -> list[dict]:  # type: ignore[no-untyped-def]
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def audit_rows(platform: Platform, action: str) -> list[dict]:
    return platform.rows(
        "SELECT actor_kind, actor_id, developer_id, subject, details FROM audit_events"
        " WHERE action = %s ORDER BY id",
        (action,),
    )


def test_tiers_list_shows_a_table_and_json(skillgw):
    table = skillgw("tiers", "list").output
    assert "trusted" in table and "365 days" in table and "60 per minute" in table
    tiers = {row["name"]: row for row in json_lines(skillgw("tiers", "list", "--json"))}
    assert tiers["standard"]["page_size"] == 50 and tiers["trusted"]["recertify_days"] == 365


def test_tiers_set_changes_and_creates_audited_as_the_operator(skillgw, platform):
    changed = skillgw("tiers", "set", "standard", "--page-size", "25", "--operator", "alice")
    assert "Changed tier 'standard'" in changed.output
    created = skillgw(
        "tiers", "set", "research", "--transcripts", "--fields", "utterance,intent",
        "--retention-days", "7", "--policy", "strict", "--page-size", "5",
        "--rate-limit", "10 per minute", "--json",
    )  # fmt: skip
    assert json_lines(created)[0]["fields"] == ["utterance", "intent"]
    (change,) = audit_rows(platform, "tier.changed")
    assert (change["actor_kind"], change["actor_id"]) == ("cli", "alice")
    assert change["details"]["after_page_size"] == 25
    (creation,) = audit_rows(platform, "tier.created")
    assert (creation["actor_id"], creation["subject"]) == ("fallback-op", "research")


def test_tiers_set_refuses_an_unknown_policy_and_a_bad_rate_limit(skillgw, platform):
    bad = skillgw("tiers", "set", "standard", "--policy", "lenient", ok=False)
    assert bad.exit_code == 1 and "redaction_policy" in bad.output
    bad = skillgw("tiers", "set", "standard", "--rate-limit", "often", ok=False)
    assert bad.exit_code == 1 and "rate_limit" in bad.output
    tier = [t for t in json_lines(skillgw("tiers", "list", "--json")) if t["name"] == "standard"]
    assert tier[0]["redaction_policy"] == "standard"
    assert audit_rows(platform, "tier.changed") == []


def test_whitelist_grant_revoke_and_history(skillgw, platform, developer):
    granted = skillgw(
        "whitelist", "grant", "Swift Rides", "trusted", "--reason", "Audited partner",
        "--expires", "30d", "--operator", "bob", "--json",
    )  # fmt: skip
    grant = json_lines(granted)[0]
    assert grant["tier"] == "trusted" and grant["granted_by"] == "cli:bob"
    ends = datetime.fromisoformat(grant["ends_at"])
    assert timedelta(days=29) < ends - datetime.now(UTC) <= timedelta(days=30)

    too_long = skillgw(
        "whitelist", "grant", str(developer), "trusted", "--reason", "Forever", "--expires",
        "400d", ok=False,
    )  # fmt: skip
    assert too_long.exit_code == 1 and "expires_at" in too_long.output
    no_reason = skillgw("whitelist", "grant", str(developer), "trusted", ok=False)
    assert no_reason.exit_code == 2

    revoked = skillgw("whitelist", "revoke", str(developer), "--reason", "Contract ended")
    assert "tier 'none'" in revoked.output
    history = skillgw("whitelist", "history", "Swift Rides")
    assert "revocation" in history.output and "superseded" in history.output
    assert "Contract ended" in history.output
    states = [
        g["state"] for g in json_lines(skillgw("whitelist", "history", "Swift Rides", "--json"))
    ]
    assert states == ["revocation", "superseded"]
    (made,) = audit_rows(platform, "grant.made")
    assert (made["actor_id"], made["developer_id"]) == ("bob", developer)
    (revocation,) = audit_rows(platform, "grant.revoked")
    assert revocation["actor_id"] == "fallback-op" and revocation["subject"] == str(grant["id"])


def test_tier_requests_list_approve_and_deny(skillgw, platform, developer):
    def file(conn, tier):  # type: ignore[no-untyped-def]
        return tier_requests.submit_request(
            conn,
            actor=audit.SYSTEM,
            developer_id=developer,
            tier=tier,
            purpose="Checkout failures",
            accepted_terms=True,
        )

    first = platform.run(file, tier="standard")
    listed = skillgw("tier-requests", "list")
    assert "Checkout failures" in listed.output and "pending" in listed.output
    denied = skillgw("tier-requests", "deny", str(first["id"]), "--reason", "Name the skill")
    assert "Denied" in denied.output
    assert (
        skillgw("tier-requests", "deny", str(first["id"]), "--reason", "x", ok=False).exit_code == 1
    )

    second = platform.run(file, tier="standard")
    approved = skillgw(
        "tier-requests", "approve", str(second["id"]), "--expires", "90d", "--operator", "carol",
        "--json",
    )  # fmt: skip
    assert json_lines(approved)[0]["status"] == "approved"
    everything = json_lines(skillgw("tier-requests", "list", "--status", "all", "--json"))
    assert [(r["status"], r["decision_reason"]) for r in everything] == [
        ("denied", "Name the skill"),
        ("approved", None),
    ]
    decisions = audit_rows(platform, "tier_request.decided")
    assert [(d["actor_id"], d["details"]["decision"]) for d in decisions] == [
        ("fallback-op", "denied"),
        ("carol", "approved"),
    ]
    history = json_lines(skillgw("whitelist", "history", str(developer), "--json"))
    assert history[0]["tier"] == "standard" and history[0]["state"] == "active"
