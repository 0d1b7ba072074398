"""The whitelist services and the database beneath them: grants that replace each other and end
on their own, re-certification, the expiry record the worker keeps, tier requests decided once,
and row-level security on the new tables."""

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from gateway.db import bind_principal
from gateway.exceptions import Conflict, InvalidInput, NotFound
from gateway.models import SYSTEM, Principal
from gateway.repositories import developers as developers_repo
from gateway.services import audit, developers, tier_catalog, tier_requests, whitelist

OPERATOR = audit.Actor.operator("alice")


def _tier(conn, developer_id, now=None):
    return developers_repo.find_developer(conn, developer_id, now=now).tier.name


def _expired_events(conn):
    return conn.execute(
        "SELECT developer_id, subject, details FROM audit_events"
        " WHERE action = 'grant.expired' ORDER BY id"
    ).fetchall()


def test_grant_tier_still_answers_from_the_developers_service(conn, make):
    developer = make.developer(tier=None)
    bind_principal(conn, SYSTEM)
    grant = developers.grant_tier(
        conn, actor=OPERATOR, developer_id=developer, tier="standard", reason="pilot"
    )
    assert isinstance(grant, int)
    assert _tier(conn, developer) == "standard"


def test_the_newest_grant_decides_and_an_older_one_never_revives(conn, make):
    now = datetime.now(UTC)
    developer = make.developer(tier="standard")
    bind_principal(conn, SYSTEM)
    whitelist.grant_tier(
        conn,
        actor=OPERATOR,
        developer_id=developer,
        tier="trusted",
        reason="trial",
        expires_at=now + timedelta(days=7),
        now=now,
    )
    assert _tier(conn, developer, now) == "trusted"
    assert _tier(conn, developer, now + timedelta(days=7)) == "none"
    assert _tier(conn, developer, now + timedelta(days=6, hours=23)) == "trusted"


def test_a_top_tier_grant_defaults_to_and_is_capped_at_its_recertification(conn, make):
    now = datetime.now(UTC)
    developer = make.developer(tier=None)
    bind_principal(conn, SYSTEM)
    with pytest.raises(InvalidInput) as refused:
        whitelist.grant_tier(
            conn,
            actor=OPERATOR,
            developer_id=developer,
            tier="trusted",
            reason="forever",
            expires_at=now + timedelta(days=365, seconds=1),
            now=now,
        )
    assert "expires_at" in refused.value.details
    grant = whitelist.grant_tier(
        conn, actor=OPERATOR, developer_id=developer, tier="trusted", reason="DPA", now=now
    )
    (row,) = whitelist.grant_history(conn, developer_id=developer, now=now)
    assert row["id"] == grant and row["expires_at"] == now + timedelta(days=365)
    # a grant inserted without the service (an import, a hand edit) is capped all the same
    make.tier_grant(developer, "trusted")
    assert _tier(conn, developer, now + timedelta(days=364)) == "trusted"
    assert _tier(conn, developer, now + timedelta(days=366)) == "none"


def test_grants_refuse_unknown_developers_tiers_and_past_expiries(conn, make):
    now = datetime.now(UTC)
    developer = make.developer(tier=None)
    bind_principal(conn, SYSTEM)
    with pytest.raises(NotFound):
        whitelist.grant_tier(
            conn, actor=OPERATOR, developer_id=987654321, tier="standard", reason="x", now=now
        )
    for tier, reason, expires_at in (
        ("gold", "x", None),
        ("none", "x", None),
        ("standard", "  ", None),
        ("standard", "x", now - timedelta(seconds=1)),
    ):
        with pytest.raises(InvalidInput):
            whitelist.grant_tier(
                conn,
                actor=OPERATOR,
                developer_id=developer,
                tier=tier,
                reason=reason,
                expires_at=expires_at,
                now=now,
            )
    with pytest.raises(Conflict):
        whitelist.revoke_grant(conn, actor=OPERATOR, developer_id=developer, reason="x", now=now)


def test_the_worker_records_each_expiry_once_and_only_real_ones(conn, make):
    now = datetime.now(UTC)
    expired = make.developer(tier=None)
    superseded = make.developer(tier=None)
    live = make.developer(tier=None)
    bind_principal(conn, SYSTEM)
    for developer in (expired, superseded, live):
        whitelist.grant_tier(
            conn,
            actor=OPERATOR,
            developer_id=developer,
            tier="standard",
            reason="pilot",
            expires_at=now + timedelta(days=1),
            now=now,
        )
    # replaced before it ran out: it never expired
    whitelist.grant_tier(
        conn, actor=OPERATOR, developer_id=superseded, tier="trusted", reason="audited", now=now
    )
    start = len(_expired_events(conn))
    assert whitelist.record_expired_grants(conn, now=now + timedelta(hours=23)) == 0
    later = now + timedelta(days=2)
    assert whitelist.record_expired_grants(conn, now=later) == 2
    assert whitelist.record_expired_grants(conn, now=later) == 0  # idempotent
    events = _expired_events(conn)[start:]
    assert sorted(e["developer_id"] for e in events) == sorted([expired, live])
    assert {e["details"]["tier"] for e in events} == {"standard"}
    # the tier never waited on it
    assert _tier(conn, superseded, later) == "trusted"


def test_an_expired_then_regranted_developer_has_its_expiry_recorded(conn, make):
    now = datetime.now(UTC)
    developer = make.developer(tier=None)
    bind_principal(conn, SYSTEM)
    make.tier_grant(developer, "standard", expires_at=now - timedelta(seconds=1))
    whitelist.grant_tier(
        conn, actor=OPERATOR, developer_id=developer, tier="standard", reason="renewed", now=now
    )
    assert whitelist.record_expired_grants(conn, now=now) == 1


def test_tier_requests_are_decided_once_and_the_terms_are_required(conn, make):
    now = datetime.now(UTC)
    developer = make.developer(tier=None)
    bind_principal(conn, SYSTEM)
    for accepted in (False, None, "true", 1):
        with pytest.raises(InvalidInput):
            tier_requests.submit_request(
                conn,
                actor=OPERATOR,
                developer_id=developer,
                tier="standard",
                purpose="debugging",
                accepted_terms=accepted,  # type: ignore[arg-type]
            )
    request = tier_requests.submit_request(
        conn,
        actor=OPERATOR,
        developer_id=developer,
        tier="standard",
        purpose="debugging",
        accepted_terms=True,
    )
    assert request["terms_version"] == tier_requests.TERMS_VERSION
    with pytest.raises(Conflict), conn.transaction():
        tier_requests.submit_request(
            conn,
            actor=OPERATOR,
            developer_id=developer,
            tier="trusted",
            purpose="more",
            accepted_terms=True,
        )
    denied = tier_requests.deny_request(
        conn, actor=OPERATOR, request_id=request["id"], reason="Say which skill.", now=now
    )
    assert denied["status"] == "denied" and denied["decided_by"] == "cli:alice"
    with pytest.raises(Conflict):
        tier_requests.approve_request(conn, actor=OPERATOR, request_id=request["id"], now=now)
    with pytest.raises(NotFound):
        tier_requests.deny_request(conn, actor=OPERATOR, request_id=10**12, reason="x", now=now)


def test_the_database_refuses_a_request_without_the_terms_or_a_second_decision(conn, make):
    developer = make.developer(tier=None)
    bind_principal(conn, SYSTEM)
    with pytest.raises(psycopg.errors.CheckViolation):
        with conn.transaction():
            conn.execute(
                "INSERT INTO tier_requests (developer_id, tier, purpose, accepted_terms,"
                " terms_version) VALUES (%s, 'trusted', 'x', false, 'v1')",
                (developer,),
            )
    row = conn.execute(
        "INSERT INTO tier_requests (developer_id, tier, purpose, accepted_terms, terms_version)"
        " VALUES (%s, 'trusted', 'x', true, 'v1') RETURNING id",
        (developer,),
    ).fetchone()
    conn.execute(
        "UPDATE tier_requests SET status = 'denied', decided_by = 'x', decision_reason = 'no'"
        " WHERE id = %s",
        (row["id"],),
    )
    with pytest.raises(psycopg.errors.RestrictViolation, match="decided already"):
        with conn.transaction():
            conn.execute("UPDATE tier_requests SET status = 'approved' WHERE id = %s", (row["id"],))


def test_a_developer_files_and_sees_only_its_own_requests_and_decides_none(conn, make):
    a, b = make.developer(tier=None), make.developer(tier=None)
    client_a = make.client(developer_id=a)
    as_a = Principal("developer", client_id=client_a.client_id, developer_id=a)
    bind_principal(conn, SYSTEM)
    theirs = tier_requests.submit_request(
        conn, actor=OPERATOR, developer_id=b, tier="standard", purpose="b", accepted_terms=True
    )
    bind_principal(conn, as_a)
    mine = tier_requests.submit_request(
        conn,
        actor=audit.Actor.of(as_a),
        developer_id=a,
        tier="standard",
        purpose="a",
        accepted_terms=True,
    )
    assert [r["id"] for r in tier_requests.list_requests(conn)] == [mine["id"]]
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        with conn.transaction():
            tier_requests.submit_request(
                conn,
                actor=audit.Actor.of(as_a),
                developer_id=b,
                tier="trusted",
                purpose="for b",
                accepted_terms=True,
            )
    # a developer's UPDATE of its own request reaches no row it may change
    updated = conn.execute(
        "UPDATE tier_requests SET status = 'approved', decided_by = 'me', grant_id = 1"
        " WHERE id = %s RETURNING id",
        (mine["id"],),
    ).fetchall()
    assert updated == []
    bind_principal(conn, SYSTEM)
    statuses = {
        r["id"]: r["status"]
        for r in conn.execute("SELECT id, status FROM tier_requests").fetchall()
    }
    assert statuses[mine["id"]] == statuses[theirs["id"]] == "pending"


def test_only_admins_and_the_system_write_tiers_and_expiries(conn, make):
    developer = make.developer(tier=None)
    client = make.client(developer_id=developer)
    bind_principal(conn, Principal("developer", client_id=client.client_id, developer_id=developer))
    assert conn.execute("SELECT count(*) AS n FROM tiers").fetchone()["n"] >= 3
    changed = conn.execute(
        "UPDATE tiers SET page_size = 1000 WHERE name = 'none' RETURNING name"
    ).fetchall()
    assert changed == []
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        with conn.transaction():
            conn.execute(
                "INSERT INTO tiers (name, transcripts_readable, retention_days, redaction_policy,"
                " page_size, rate_limit) VALUES ('mine', true, 90, 'trusted', 1000, '1 per second')"
            )
    assert conn.execute("SELECT count(*) AS n FROM tier_grant_expiries").fetchone()["n"] == 0
    bind_principal(conn, SYSTEM)
    assert conn.execute("SELECT page_size FROM tiers WHERE name = 'none'").fetchone() == {
        "page_size": 20
    }


def test_tier_none_never_reads_even_in_the_database(conn):
    bind_principal(conn, SYSTEM)
    with pytest.raises(psycopg.errors.CheckViolation):
        with conn.transaction():
            conn.execute("UPDATE tiers SET transcripts_readable = true WHERE name = 'none'")
    with pytest.raises(InvalidInput):
        tier_catalog.update_tier(conn, actor=OPERATOR, name="none", transcripts_readable=True)


def test_tier_settings_are_checked_on_the_tier_as_it_would_be(conn):
    bind_principal(conn, SYSTEM)
    with pytest.raises(InvalidInput) as refused:
        tier_catalog.update_tier(conn, actor=OPERATOR, name="standard", colour="red")
    assert refused.value.details == {"colour": ["Unknown field."]}
    with pytest.raises(NotFound):
        tier_catalog.update_tier(conn, actor=OPERATOR, name="gold", page_size=5)
    with pytest.raises(InvalidInput) as refused:
        tier_catalog.update_tier(conn, actor=OPERATOR, name="trusted", recertify_days=None)
    assert "recertify_days" in refused.value.details
    with pytest.raises(Conflict), conn.transaction():
        tier_catalog.create_tier(
            conn,
            actor=OPERATOR,
            name="standard",
            transcripts_readable=False,
            retention_days=0,
            redaction_policy="strict",
            page_size=5,
            rate_limit="5 per minute",
        )
    for policy in ("strict", "standard", "trusted"):
        tier = tier_catalog.update_tier(
            conn, actor=OPERATOR, name="standard", redaction_policy=policy
        )
        assert tier["redaction_policy"] == policy
