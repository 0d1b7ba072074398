"""The audit log (rule 7): one row per action in the action's own transaction, append-only for
every role, a hash chain that names the first bad row, and signed checkpoints that catch a chain
recomputed wholesale."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from factories import BINDING_KEY
from psycopg.rows import dict_row
from tokens import bearer_headers, mint_token

from gateway.db import PooledDatabase, bind_principal
from gateway.models import SYSTEM, Principal
from gateway.services import audit, consents, developers, oauth_clients

TIME_ZONES = ["UTC", "Asia/Tokyo", "America/St_Johns", "Pacific/Kiritimati", "America/Los_Angeles"]


# --- helpers


def _events(conn, after: int = 0) -> list[dict]:
    """Every event after id `after`, oldest first, read as the system caller."""
    bind_principal(conn, SYSTEM)
    return conn.execute("SELECT * FROM audit_events WHERE id > %s ORDER BY id", (after,)).fetchall()


def _last_id(conn) -> int:
    bind_principal(conn, SYSTEM)
    row = conn.execute("SELECT coalesce(max(id), 0) AS id FROM audit_events").fetchone()
    return int(row["id"])


@contextmanager
def as_owner(conn) -> Iterator[None]:
    """Become the tables' owner inside the test's transaction, then the app role again."""
    conn.execute("RESET ROLE")
    try:
        yield
    finally:
        conn.execute("SET LOCAL ROLE gateway_app")


@contextmanager
def attacker(conn) -> Iterator[None]:
    """The owner with the audit table's triggers off: what someone with database access can do."""
    with as_owner(conn):
        conn.execute("ALTER TABLE audit_events DISABLE TRIGGER ALL")
        try:
            yield
        finally:
            conn.execute("ALTER TABLE audit_events ENABLE TRIGGER ALL")


def _sealed_chain(conn, n: int = 6) -> list[dict]:
    """Record `n` events and seal everything; the sealed rows of these events, in seq order."""
    bind_principal(conn, SYSTEM)
    start = _last_id(conn)
    for number in range(n):
        audit.record(
            conn,
            actor=audit.Actor.operator("alice"),
            action="developer.suspended" if number % 2 else "developer.reinstated",
            developer_id=1000 + number,
            skill_id="6f1c2f0e-3a8e-4d7b-9a51-0c3f7f2b8e11",
            subject=f"grant-{number}",
            details={"count": number, "labels": ["a", "b"]},
        )
    audit.seal_all(conn)
    rows = [r for r in _events(conn, start) if r["seq"] is not None]
    assert len(rows) == n
    return sorted(rows, key=lambda r: r["seq"])


def _verify(conn) -> audit.Verdict:
    bind_principal(conn, SYSTEM)
    return audit.verify_audit_chain(conn)


# --- one row per action, in the action's transaction


@pytest.fixture
def reader(make, bearer):
    """A developer on `trusted` with a client, a skill, and two readable interactions."""
    developer = make.developer(tier="trusted")
    credentials = make.client(developer_id=developer)
    skill = make.skill(developer)
    user = make.user()
    make.consent(user, skill, granted_at=datetime.now(UTC) - timedelta(days=2))
    interactions = [make.interaction(skill, user) for _ in range(2)]
    return {
        "developer": developer,
        "credentials": credentials,
        "skill": skill,
        "user": user,
        "interactions": interactions,
    }


def test_a_token_issued_through_the_endpoint_is_one_row_naming_the_client(conn, client, reader):
    start = _last_id(conn)
    credentials = reader["credentials"]

    mint_token(client, credentials)

    (event,) = _events(conn, start)
    assert event["action"] == "token.issued"
    assert (event["actor_kind"], event["actor_id"]) == ("client", credentials.client_id)
    assert event["developer_id"] == reader["developer"]
    token_ids = [r["id"] for r in conn.execute("SELECT id FROM oauth_tokens").fetchall()]
    assert int(event["subject"]) == max(token_ids)
    assert event["details"] == {"scopes": ["transcripts:read"], "expires_in": 3600}


def test_a_revocation_is_one_row_and_a_repeated_or_unknown_one_none(conn, client, reader):
    credentials = reader["credentials"]
    auth = (credentials.client_id, credentials.client_secret)
    token = mint_token(client, credentials)
    start = _last_id(conn)

    assert client.post("/oauth/revoke", data={"token": token}, auth=auth).status_code == 200
    (event,) = _events(conn, start)
    assert (event["action"], event["actor_id"]) == ("token.revoked", credentials.client_id)
    assert event["developer_id"] == reader["developer"]

    again = _last_id(conn)
    assert client.post("/oauth/revoke", data={"token": token}, auth=auth).status_code == 200
    assert (
        client.post("/oauth/revoke", data={"token": "never-issued"}, auth=auth).status_code == 200
    )
    assert _events(conn, again) == []


def test_a_client_created_is_one_row_by_client_id(conn, make):
    developer = make.developer()
    start = _last_id(conn)
    bind_principal(conn, SYSTEM)

    issued = oauth_clients.register_client(
        conn, actor=audit.Actor.operator("alice"), kind="developer", developer_id=developer
    )

    (event,) = _events(conn, start)
    assert event["action"] == "client.created"
    assert (event["actor_kind"], event["actor_id"]) == ("cli", "alice")
    assert event["subject"] == issued.client_id
    assert event["details"] == {"kind": "developer", "scopes": ["transcripts:read"]}


@pytest.mark.parametrize(
    ("path", "endpoint", "count"),
    [("/interactions", "list", 2), ("/interactions/{first}", "detail", 1)],
)
def test_a_read_request_is_one_row_with_its_count_beside_one_access_log_row_each(
    conn, client, reader, path, endpoint, count
):
    headers = bearer_headers(client, reader["credentials"])
    start = _last_id(conn)
    bind_principal(conn, SYSTEM)
    logged = conn.execute("SELECT count(*) AS n FROM access_log").fetchone()["n"]
    url = f"/v1/skills/{reader['skill']}" + path.format(first=reader["interactions"][0])

    assert client.get(url, headers=headers).status_code == 200

    (event,) = _events(conn, start)
    assert event["action"] == "transcripts.read"
    assert event["actor_id"] == reader["credentials"].client_id
    assert (event["developer_id"], str(event["skill_id"])) == (reader["developer"], reader["skill"])
    assert event["details"] == {"endpoint": endpoint, "interactions": count}
    after = conn.execute("SELECT count(*) AS n FROM access_log").fetchone()["n"]
    assert after - logged == count


def test_a_read_that_returns_nothing_records_nothing(conn, client, reader):
    headers = bearer_headers(client, reader["credentials"])
    start = _last_id(conn)

    response = client.get(
        f"/v1/skills/{reader['skill']}/interactions",
        query_string={"intent": "NoSuchIntent"},
        headers=headers,
    )

    assert response.status_code == 200 and response.get_json()["interactions"] == []
    assert _events(conn, start) == []


def test_consent_granted_and_revoked_are_one_row_each_by_user_id(conn, make):
    skill = make.skill(make.developer())
    user = make.user()
    start = _last_id(conn)
    bind_principal(conn, Principal("user", user_id=user))
    actor = audit.Actor.user(user)

    consents.grant_consent(conn, actor=actor, user_id=user, skill_id=skill, categories=["health"])
    assert consents.revoke_consent(conn, actor=actor, user_id=user, skill_id=skill)
    assert not consents.revoke_consent(conn, actor=actor, user_id=user, skill_id=skill)

    events = _events(conn, start)
    assert [e["action"] for e in events] == ["consent.granted", "consent.revoked"]
    for event in events:
        assert (event["actor_kind"], event["actor_id"], event["subject"]) == ("user", user, user)
        assert str(event["skill_id"]) == skill
    assert events[0]["details"] == {"categories": ["health"]}


def test_developer_lifecycle_and_grants_are_one_row_each(conn):
    start = _last_id(conn)
    bind_principal(conn, SYSTEM)
    actor = audit.Actor.operator("alice")

    developer = developers.register_developer(conn, actor=actor, name="Audited Rides")
    grant = developers.grant_tier(
        conn, actor=actor, developer_id=developer, tier="standard", reason="pilot partner"
    )
    developers.set_suspended(conn, actor=actor, developer_id=developer, suspended=True)
    developers.set_suspended(conn, actor=actor, developer_id=developer, suspended=False)

    events = _events(conn, start)
    assert [e["action"] for e in events] == [
        "developer.registered",
        "grant.made",
        "developer.suspended",
        "developer.reinstated",
    ]
    assert {e["developer_id"] for e in events} == {developer}
    assert events[1]["subject"] == str(grant)
    assert events[1]["details"] == {"tier": "standard", "expires": False}
    # the reason and the name are free text: they stay in their own tables
    assert "pilot" not in json.dumps([e["details"] for e in events])
    granted_by = conn.execute(
        "SELECT granted_by FROM tier_grants WHERE id = %s", (grant,)
    ).fetchone()
    assert granted_by["granted_by"] == "cli:alice"


def test_a_rolled_back_action_leaves_no_row(conn, make):
    developer = make.developer()
    start = _last_id(conn)

    with pytest.raises(RuntimeError), conn.transaction():
        bind_principal(conn, SYSTEM)
        oauth_clients.register_client(
            conn, actor=audit.SYSTEM, kind="developer", developer_id=developer
        )
        assert len(_events(conn, start)) == 1  # written, inside the action's transaction
        raise RuntimeError("the action fails after its audit row was written")

    assert _events(conn, start) == []
    bind_principal(conn, SYSTEM)
    clients = conn.execute(
        "SELECT count(*) AS n FROM oauth_clients WHERE developer_id = %s", (developer,)
    ).fetchone()
    assert clients["n"] == 0


@pytest.mark.committed
def test_a_rolled_back_request_transaction_commits_no_row(committed_make, app_url, owner_conn):
    developer = committed_make.developer()
    db = PooledDatabase(app_url, min_size=1, max_size=1, binding_key=BINDING_KEY)
    db.open(wait=True)

    def created(client_id: str) -> int:
        with db.transaction(SYSTEM) as c:
            row = c.execute(
                "SELECT count(*) AS n FROM audit_events WHERE subject = %s", (client_id,)
            ).fetchone()
        return int(row["n"])

    try:
        with db.transaction(SYSTEM) as c:
            kept = oauth_clients.register_client(
                c, actor=audit.SYSTEM, kind="developer", developer_id=developer
            )
        lost = None
        with pytest.raises(RuntimeError), db.transaction(SYSTEM) as c:
            lost = oauth_clients.register_client(
                c, actor=audit.SYSTEM, kind="developer", developer_id=developer
            )
            raise RuntimeError("rolled back")
        assert lost is not None
        assert created(kept.client_id) == 1
        assert created(lost.client_id) == 0
    finally:
        db.close()


@pytest.mark.parametrize(
    "bad",
    [
        {"action": "token.stolen"},
        {"subject": "maria lopez"},
        {"subject": "maria@example.com"},
        {"subject": "id-1\n"},
        {"details": {"label": "list\n"}},
        {"details": {"utterance": "send two pizzas to 42 elm street"}},
        {"details": {"email": "maria@example.com"}},
        {"details": {"nested": {"count": 1}}},
        {"details": {"Bad Key": 1}},
    ],
)
def test_record_refuses_text_where_only_ids_and_counts_belong(conn, bad):
    bind_principal(conn, SYSTEM)
    start = _last_id(conn)
    arguments = {"action": "client.created", **bad}

    with pytest.raises(ValueError):
        audit.record(conn, actor=audit.SYSTEM, **arguments)

    assert _events(conn, start) == []


def test_the_database_refuses_an_action_outside_the_vocabulary(conn):
    bind_principal(conn, SYSTEM)
    with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
        conn.execute(
            "INSERT INTO audit_events (actor_kind, actor_id, action) "
            "VALUES ('system', '', 'token.stolen')"
        )


def test_the_vocabulary_is_the_same_in_code_and_database(conn):
    definition = conn.execute(
        """
        SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint
        WHERE conrelid = 'audit_events'::regclass AND pg_get_constraintdef(oid) LIKE '%%action%%'
        """
    ).fetchone()["d"]
    in_database = set(definition.split("ARRAY[")[1].split("]")[0].replace("::text", "").split(", "))

    assert {name.strip("'") for name in in_database} == audit.ACTIONS


def test_an_actor_is_named_from_the_caller_and_only_by_an_id():
    assert str(audit.Actor.of(Principal("developer", client_id="dev_1", developer_id=1))) == (
        "client:dev_1"
    )
    assert str(audit.Actor.of(Principal("user", user_id="6f1c2f0e-3a8e-4d7b-9a51-0c3f7f2b8e11")))
    assert audit.Actor.of(SYSTEM) == audit.SYSTEM and str(audit.SYSTEM) == "system"
    assert str(audit.Actor.operator("alice")) == "cli:alice"
    with pytest.raises(ValueError):
        audit.Actor.of(Principal("anonymous"))
    for bad in (("client", "dev 1"), ("cli", "alice@example.com"), ("root", "x"), ("user", "")):
        with pytest.raises(ValueError):
            audit.Actor(*bad)


# --- who may write and read the log


def test_a_developer_records_only_its_own_actions_and_cannot_read_the_log(conn, make):
    mine, theirs = make.developer(), make.developer()
    bind_principal(conn, Principal("developer", client_id="dev_mine", developer_id=mine))

    audit.record(conn, actor=audit.Actor.client("dev_mine"), action="stats.read", developer_id=mine)
    for actor, developer_id in [("dev_mine", theirs), ("dev_someone", mine)]:
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            audit.record(
                conn,
                actor=audit.Actor.client(actor),
                action="stats.read",
                developer_id=developer_id,
            )
    assert conn.execute("SELECT * FROM audit_events").fetchall() == []


def test_the_token_endpoint_may_record_token_events_only(conn):
    bind_principal(conn, Principal("anonymous"))

    audit.record(conn, actor=audit.Actor.client("dev_x"), action="token.issued", subject="1")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        audit.record(conn, actor=audit.Actor.client("dev_x"), action="client.created")


# --- append-only


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor_id = 'someone-else'",
        "UPDATE audit_events SET seq = 1, prev_hash = 'x', row_hash = 'y', sealed_at = now()",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "INSERT INTO audit_events (actor_kind, actor_id, action, occurred_at) "
        "VALUES ('system', '', 'token.issued', now() - interval '1 year')",
        "INSERT INTO audit_events (actor_kind, actor_id, action, seq, prev_hash, row_hash, "
        "sealed_at) VALUES ('system', '', 'token.issued', 999, 'x', 'y', now())",
    ],
)
def test_the_app_role_may_not_rewrite_the_log(conn, statement):
    _sealed_chain(conn, 2)

    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        conn.execute(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor_id = 'someone-else'",
        "UPDATE audit_events SET actor_id = actor_id WHERE false",
        "DELETE FROM audit_events",
        "DELETE FROM audit_events WHERE false",
        "TRUNCATE audit_events",
        "INSERT INTO audit_events (actor_kind, actor_id, action, seq, prev_hash, row_hash, "
        "sealed_at) VALUES ('system', '', 'token.issued', 999, 'x', 'y', now())",
    ],
)
def test_the_owner_is_refused_by_the_triggers(conn, statement):
    _sealed_chain(conn, 2)

    with as_owner(conn), pytest.raises(psycopg.errors.RestrictViolation), conn.transaction():
        conn.execute(statement)


@pytest.mark.parametrize(
    "statement",
    [
        # raising the sealer's flag by hand allows neither new content nor a second seal
        "UPDATE audit_events SET actor_id = 'someone-else' WHERE seq IS NULL",
        "UPDATE audit_events SET seq = seq + 1000 WHERE seq IS NOT NULL",
    ],
)
def test_even_the_sealers_flag_only_lets_a_seal_be_written_once(conn, statement):
    _sealed_chain(conn, 2)
    bind_principal(conn, SYSTEM)
    audit.record(conn, actor=audit.SYSTEM, action="tier.changed")

    with as_owner(conn), pytest.raises(psycopg.errors.RestrictViolation), conn.transaction():
        conn.execute("SELECT set_config('gateway.audit_sealing', 'on', true)")
        conn.execute(statement)


def test_an_event_takes_the_transactions_time_whatever_the_owner_says(conn):
    with as_owner(conn):
        bind_principal(conn, SYSTEM)
        row = conn.execute(
            "INSERT INTO audit_events (actor_kind, actor_id, action, occurred_at) "
            "VALUES ('system', '', 'tier.changed', '2001-01-01T00:00:00Z') "
            "RETURNING occurred_at, now() AS now"
        ).fetchone()
    assert row["occurred_at"] == row["now"]


# --- the chain


def test_sealing_numbers_committed_rows_without_gaps_and_the_chain_verifies(conn):
    rows = _sealed_chain(conn, 6)

    seqs = [r["seq"] for r in rows]
    assert seqs == list(range(seqs[0], seqs[0] + 6))
    for before, after in zip(rows, rows[1:], strict=False):
        assert after["prev_hash"] == before["row_hash"]
    verdict = _verify(conn)
    assert verdict.ok, verdict
    assert verdict.unsealed == 0
    assert (verdict.head_seq, verdict.head_hash) == (rows[-1]["seq"], rows[-1]["row_hash"])
    # the database's hash and this module's agree byte for byte
    bind_principal(conn, SYSTEM)
    for row in conn.execute(
        "SELECT *, details::text AS details_text FROM audit_events WHERE seq = ANY(%s)",
        ([r["seq"] for r in rows],),
    ).fetchall():
        assert audit.row_hash(row, prev_hash=row["prev_hash"]) == row["row_hash"]


def test_unsealed_rows_are_the_lag_until_the_sealer_runs(conn):
    _sealed_chain(conn, 1)
    bind_principal(conn, SYSTEM)
    for _ in range(3):
        audit.record(conn, actor=audit.SYSTEM, action="tier.changed")

    assert audit.lag(conn) == 3
    assert audit.verify_audit_chain(conn, seal_first=False).unsealed == 3
    assert audit.seal(conn) == 3
    assert audit.lag(conn) == 0


def _swap(conn, seq_a: int, seq_b: int) -> None:
    parking = 10**12  # seq is unique: park one row while the other takes its place
    conn.execute("UPDATE audit_events SET seq = %s WHERE seq = %s", (parking, seq_a))
    conn.execute("UPDATE audit_events SET seq = %s WHERE seq = %s", (seq_a, seq_b))
    conn.execute("UPDATE audit_events SET seq = %s WHERE seq = %s", (seq_b, parking))


def _insert_forged_at(conn, seq: int) -> None:
    """Insert a well-formed row at `seq`, shifting the rest up: an attacker who knows the
    hash function and hashes the forged row properly."""
    shift = 10**12
    conn.execute("UPDATE audit_events SET seq = seq + %s WHERE seq >= %s", (shift, seq))
    conn.execute("UPDATE audit_events SET seq = seq - %s + 1 WHERE seq >= %s", (shift, shift))
    prev = conn.execute("SELECT row_hash FROM audit_events WHERE seq = %s", (seq - 1,)).fetchone()
    forged = conn.execute(
        """
        INSERT INTO audit_events (actor_kind, actor_id, action, developer_id, details, seq,
                                  prev_hash, row_hash, sealed_at)
        VALUES ('cli', 'mallory', 'grant.made', 1, '{"tier": "trusted"}', %s, %s, 'tbd', now())
        RETURNING *, details::text AS details_text
        """,
        (seq, prev["row_hash"]),
    ).fetchone()
    conn.execute(
        "UPDATE audit_events SET row_hash = %s WHERE id = %s",
        (audit.row_hash(forged, prev_hash=prev["row_hash"]), forged["id"]),
    )


TAMPERING = {
    # name: (what the attacker does to the row at `target`, first bad seq, reason)
    "edited": (
        lambda conn, target: conn.execute(
            "UPDATE audit_events SET details = '{\"count\": 99}' WHERE seq = %s", (target,)
        ),
        0,
        "content was altered",
    ),
    "edited actor": (
        lambda conn, target: conn.execute(
            "UPDATE audit_events SET actor_id = 'bob' WHERE seq = %s", (target,)
        ),
        0,
        "content was altered",
    ),
    "edited time": (
        lambda conn, target: conn.execute(
            "UPDATE audit_events SET occurred_at = occurred_at - interval '1 microsecond' "
            "WHERE seq = %s",
            (target,),
        ),
        0,
        "content was altered",
    ),
    "deleted": (
        lambda conn, target: conn.execute("DELETE FROM audit_events WHERE seq = %s", (target,)),
        0,
        "is missing",
    ),
    "reordered": (lambda conn, target: _swap(conn, target, target + 1), 0, "does not link"),
    "inserted": (_insert_forged_at, 1, "does not link"),
}


@pytest.mark.parametrize("tampering", sorted(TAMPERING))
@pytest.mark.parametrize("time_zone", ["UTC", "Asia/Tokyo"])
def test_the_verifier_names_the_first_tampered_row(conn, tampering, time_zone):
    rows = _sealed_chain(conn, 6)
    target = rows[2]["seq"]
    act, offset, reason = TAMPERING[tampering]

    with attacker(conn):
        act(conn, target)
    conn.execute("SELECT set_config('TimeZone', %s, true)", (time_zone,))
    verdict = _verify(conn)

    assert not verdict.ok
    assert verdict.first_bad_seq == target + offset
    assert reason in (verdict.reason or "")
    assert verdict.head_seq == target + offset - 1  # the last row still known good


def test_the_verdicts_are_the_same_in_every_time_zone(conn):
    rows = _sealed_chain(conn, 4)
    verdicts = {}
    for zone in TIME_ZONES:
        conn.execute("SELECT set_config('TimeZone', %s, true)", (zone,))
        assert conn.execute("SHOW TimeZone").fetchone()["TimeZone"] == zone
        verdicts[zone] = _verify(conn)
    with attacker(conn):
        conn.execute("UPDATE audit_events SET subject = 'x' WHERE seq = %s", (rows[1]["seq"],))
    broken = {}
    for zone in TIME_ZONES:
        conn.execute("SELECT set_config('TimeZone', %s, true)", (zone,))
        broken[zone] = _verify(conn)

    assert all(v.ok for v in verdicts.values())
    assert len(set(verdicts.values())) == 1
    assert len(set(broken.values())) == 1
    assert broken["UTC"].first_bad_seq == rows[1]["seq"]


def test_rows_sealed_in_one_time_zone_verify_in_another(conn):
    conn.execute("SELECT set_config('TimeZone', 'Pacific/Kiritimati', true)")
    _sealed_chain(conn, 3)
    conn.execute("SELECT set_config('TimeZone', 'America/St_Johns', true)")

    assert _verify(conn).ok


# --- checkpoints


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _recompute_from(conn, seq: int) -> None:
    """Rewrite every row hash from `seq` on, as someone who knows the algorithm would."""
    rows = conn.execute(
        "SELECT *, details::text AS details_text FROM audit_events WHERE seq >= %s ORDER BY seq",
        (seq,),
    ).fetchall()
    prev = conn.execute("SELECT row_hash FROM audit_events WHERE seq = %s", (seq - 1,)).fetchone()
    prev_hash = prev["row_hash"] if prev else audit.GENESIS
    for row in rows:
        new = audit.row_hash(row, prev_hash=prev_hash)
        conn.execute(
            "UPDATE audit_events SET prev_hash = %s, row_hash = %s WHERE id = %s",
            (prev_hash, new, row["id"]),
        )
        prev_hash = new


def test_a_checkpoint_signs_the_head_and_verifies(conn, key):
    rows = _sealed_chain(conn, 3)
    bind_principal(conn, SYSTEM)

    checkpoint = audit.checkpoint(conn, signing_key=key)

    assert checkpoint["seq"] == rows[-1]["seq"]
    assert checkpoint["row_hash"] == rows[-1]["row_hash"]
    assert checkpoint["format"] == audit.CHECKPOINT_FORMAT
    assert audit.checkpoint_signature_ok(checkpoint, key.public_key())
    assert audit.verify_against_checkpoint(conn, checkpoint, key.public_key()).ok
    # the chain grows after the checkpoint: still fine
    _sealed_chain(conn, 2)
    assert audit.verify_against_checkpoint(conn, checkpoint, key.public_key()).ok


def test_a_chain_recomputed_wholesale_is_caught_only_against_an_earlier_checkpoint(conn, key):
    rows = _sealed_chain(conn, 6)
    bind_principal(conn, SYSTEM)
    checkpoint = audit.checkpoint(conn, signing_key=key)
    _sealed_chain(conn, 2)

    with attacker(conn):
        conn.execute(
            "UPDATE audit_events SET actor_id = 'nobody' WHERE seq = %s", (rows[1]["seq"],)
        )
        _recompute_from(conn, rows[1]["seq"])
    bind_principal(conn, SYSTEM)
    alone = audit.verify_audit_chain(conn)
    against = audit.verify_against_checkpoint(conn, checkpoint, key.public_key())

    assert alone.ok  # a consistent forgery: the chain by itself cannot tell
    assert not against.ok
    assert against.first_bad_seq == checkpoint["seq"]
    assert "rewritten" in (against.reason or "")


def test_rows_cut_from_the_end_are_caught_against_a_checkpoint(conn, key):
    rows = _sealed_chain(conn, 4)
    bind_principal(conn, SYSTEM)
    checkpoint = audit.checkpoint(conn, signing_key=key)

    with attacker(conn):
        conn.execute("DELETE FROM audit_events WHERE seq >= %s", (rows[2]["seq"],))
    bind_principal(conn, SYSTEM)
    against = audit.verify_against_checkpoint(conn, checkpoint, key.public_key())

    assert audit.verify_audit_chain(conn).ok
    assert not against.ok
    assert against.first_bad_seq == rows[2]["seq"]
    assert "removed from its end" in (against.reason or "")


@pytest.mark.parametrize(
    "forge",
    [
        lambda cp: {**cp, "seq": cp["seq"] - 1},
        lambda cp: {**cp, "row_hash": "0" * 64},
        lambda cp: {**cp, "at": "2001-01-01T00:00:00Z"},
        lambda cp: {**cp, "signature": cp["signature"][:-4] + "AAAA"},
        lambda cp: {k: v for k, v in cp.items() if k != "signature"},
        lambda cp: {**cp, "format": "something else"},
    ],
)
def test_a_forged_or_altered_checkpoint_does_not_verify(conn, key, forge):
    _sealed_chain(conn, 2)
    bind_principal(conn, SYSTEM)
    checkpoint = audit.checkpoint(conn, signing_key=key)

    forged = forge(checkpoint)

    assert not audit.checkpoint_signature_ok(forged, key.public_key())
    verdict = audit.verify_against_checkpoint(conn, forged, key.public_key())
    assert not verdict.ok and "signature" in (verdict.reason or "")


def test_a_checkpoint_from_another_key_does_not_verify(conn, key):
    _sealed_chain(conn, 2)
    bind_principal(conn, SYSTEM)
    checkpoint = audit.checkpoint(conn, signing_key=Ed25519PrivateKey.generate())

    assert not audit.verify_against_checkpoint(conn, checkpoint, key.public_key()).ok


def test_no_checkpoint_is_signed_over_a_broken_chain(conn, key):
    rows = _sealed_chain(conn, 3)
    with attacker(conn):
        conn.execute("UPDATE audit_events SET subject = 'x' WHERE seq = %s", (rows[0]["seq"],))
    bind_principal(conn, SYSTEM)

    with pytest.raises(audit.ChainBroken) as caught:
        audit.checkpoint(conn, signing_key=key)
    assert caught.value.verdict.first_bad_seq == rows[0]["seq"]


# --- many writers at once


@pytest.mark.committed
def test_concurrent_writers_and_a_running_sealer_make_one_valid_chain(app_url, owner_conn):
    writers, each = 8, 25
    db = PooledDatabase(
        app_url, min_size=writers + 1, max_size=writers + 1, timeout=10, binding_key=BINDING_KEY
    )
    db.open(wait=True)
    with db.transaction(SYSTEM) as c:
        start = _last_id(c)
    done = threading.Event()
    errors: list[BaseException] = []

    def write(number: int) -> None:
        try:
            for i in range(each):
                with db.transaction(SYSTEM) as c:
                    audit.record(
                        c,
                        actor=audit.Actor.operator(f"writer-{number}"),
                        action="tier.changed",
                        subject=f"w{number}-{i}",
                    )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def seal_while_writing() -> None:
        while not done.is_set():
            with db.transaction(SYSTEM) as c:
                audit.seal(c, limit=7)

    try:
        sealer = threading.Thread(target=seal_while_writing)
        sealer.start()
        threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done.set()
        sealer.join()
        assert errors == []
        with db.transaction(SYSTEM) as c:
            audit.seal_all(c)
            verdict = audit.verify_audit_chain(c)
            mine = c.execute(
                "SELECT seq FROM audit_events WHERE id > %s AND action = 'tier.changed' "
                "AND actor_kind = 'cli' AND actor_id LIKE 'writer-%%'",
                (start,),
            ).fetchall()
    finally:
        db.close()
    assert verdict.ok, verdict
    assert len(mine) == writers * each
    assert len({row["seq"] for row in mine}) == writers * each
    assert verdict.unsealed == 0


@pytest.mark.committed
def test_a_writer_never_waits_for_the_sealer(app_url, owner_conn, owner_url):
    db = PooledDatabase(
        app_url,
        min_size=1,
        max_size=1,
        timeout=2,
        statement_timeout_ms=1000,
        binding_key=BINDING_KEY,
    )
    db.open(wait=True)
    try:
        with psycopg.connect(owner_url, row_factory=dict_row) as sealer:
            # a sealer in the middle of a long batch holds the sealers' lock
            sealer.execute("SELECT pg_advisory_xact_lock(hashtext('gateway.audit.seal'))")
            with db.transaction(SYSTEM) as c:
                audit.record(c, actor=audit.SYSTEM, action="tier.changed", subject="no-wait")
            with db.transaction(SYSTEM) as c:
                assert audit.lag(c) >= 1
                # a second sealer does wait for the first (statement_timeout: 1 s)
                with pytest.raises(psycopg.errors.QueryCanceled), c.transaction():
                    audit.seal(c)
            sealer.rollback()
        with db.transaction(SYSTEM) as c:
            audit.seal_all(c)
            assert audit.lag(c) == 0
            assert audit.verify_audit_chain(c).ok
    finally:
        db.close()


# --- nothing secret in the log


def test_no_token_secret_or_text_lands_in_any_audit_row(conn, client, make, app):
    """A realistic run: clients, tokens, ingest with personal data, reads, stats, consent
    changes, revocation, suspension. Then every byte of every audit row is searched."""
    bind_principal(conn, SYSTEM)
    start = _last_id(conn)
    operator = audit.Actor.operator("alice")
    developer = developers.register_developer(
        conn, actor=operator, name="Pizza Audit Inc.", contact_email="dev@pizza-audit.example"
    )
    developers.grant_tier(
        conn, actor=operator, developer_id=developer, tier="trusted", reason="signed the DPA"
    )
    bind_principal(conn, SYSTEM)
    credentials = oauth_clients.register_client(
        conn, actor=operator, kind="developer", developer_id=developer
    )
    platform = oauth_clients.register_client(conn, actor=operator, kind="platform")
    skill = make.skill(developer)
    platform_headers = bearer_headers(client, platform)
    people = [f"audit-user-{n}" for n in range(3)]
    response = client.post(
        "/v1/ingest/users",
        json={
            "users": [
                {"platform_user_id": p, "email": f"{p}@mail.example", "display_name": "Maria Lopez"}
                for p in people
            ]
        },
        headers=platform_headers,
    )
    assert response.status_code == 200, response.get_json()
    texts = [
        "send two large pizzas to 42 elm street and call me at 555 867 5309",
        "my card is 4111 1111 1111 1111 and my email is maria.lopez@gmail.com",
    ]
    response = client.post(
        "/v1/ingest/interactions",
        json={
            "interactions": [
                {
                    "interaction_id": f"audit-{n}",
                    "skill_id": skill,
                    "user_id": people[n % 3],
                    "session_id": "sess-audit-1",
                    "occurred_at": (datetime.now(UTC) - timedelta(minutes=5 - n)).isoformat(),
                    "utterance": texts[n % 2],
                    "response": "Okay Maria, done.",
                    "intent": "OrderPizza",
                    "slots": [{"name": "address", "value": "42 elm street"}],
                    "outcome": "success",
                    "order_ref": "8F3K2",
                    "device_serial": "GVA-1F2E3D-417",
                    "audio_ref": "s3://voice-audio/evt-audit.opus",
                }
                for n in range(4)
            ]
        },
        headers=platform_headers,
    )
    assert response.status_code == 200, response.get_json()
    bind_principal(conn, SYSTEM)
    user_ids = [
        str(r["id"])
        for r in conn.execute(
            "SELECT id FROM users WHERE platform_user_id = ANY(%s)", (people,)
        ).fetchall()
    ]
    for user_id in user_ids:
        # as the system caller: only it may record a consent granted in the past (0002)
        bind_principal(conn, SYSTEM)
        consents.grant_consent(
            conn,
            actor=audit.Actor.user(user_id),
            user_id=user_id,
            skill_id=skill,
            granted_at=datetime.now(UTC) - timedelta(hours=1),
        )
    token = mint_token(client, credentials)
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get(f"/v1/skills/{skill}/interactions", headers=headers).get_json()
    assert len(listed["interactions"]) == 4
    shown = json.dumps(listed)
    first = listed["interactions"][0]
    assert (
        client.get(f"/v1/skills/{skill}/interactions/{first['id']}", headers=headers).status_code
        == 200
    )
    session = client.get(f"/v1/skills/{skill}/sessions/{first['session']}", headers=headers)
    assert session.status_code == 200
    assert client.get(f"/v1/skills/{skill}/stats", headers=headers).status_code == 200
    auth = (credentials.client_id, credentials.client_secret)
    assert client.post("/oauth/revoke", data={"token": token}, auth=auth).status_code == 200
    bind_principal(conn, Principal("user", user_id=user_ids[0]))
    consents.revoke_consent(
        conn, actor=audit.Actor.user(user_ids[0]), user_id=user_ids[0], skill_id=skill
    )
    bind_principal(conn, SYSTEM)
    developers.set_suspended(conn, actor=operator, developer_id=developer, suspended=True)

    with as_owner(conn):
        dump = [
            r["row"]
            for r in conn.execute(
                "SELECT row_to_json(a)::text AS row FROM audit_events a WHERE id > %s", (start,)
            ).fetchall()
        ]
        secrets = conn.execute(
            "SELECT array_agg(secret_hash) AS hashes FROM oauth_clients"
        ).fetchone()["hashes"] + [
            r["token_digest"]
            for r in conn.execute("SELECT token_digest FROM oauth_tokens").fetchall()
        ]
    actions = [json.loads(row)["action"] for row in dump]
    assert set(actions) >= {
        "developer.registered",
        "grant.made",
        "client.created",
        "token.issued",
        "consent.granted",
        "transcripts.read",
        "stats.read",
        "token.revoked",
        "consent.revoked",
        "developer.suspended",
    }
    forbidden = [
        token,
        credentials.client_secret,
        platform.client_secret,
        platform_headers["Authorization"].split()[1],
        *secrets,
        *people,
        *texts,
        # (no bare digit runs: ids and hex hold them by chance)
        "42 elm",
        "867 5309",
        "4111 1111",
        "maria",
        "Maria",
        "@",
        "8F3K2",
        "GVA-",
        "s3://",
        "Pizza Audit",
        "signed the DPA",
        first["user"],
        first["session"],
        "sess-audit",
    ]
    text = "\n".join(dump)
    assert [secret for secret in forbidden if secret in text] == []
    assert "k1_" not in text  # no pseudonym of any kind
    assert first["user"] in shown  # (the needles are real: the developer did see them)
