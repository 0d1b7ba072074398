"""The demo data set: what it promises, loaded through the ingest path, read only as the rules
allow."""

import collections
import re
import shlex
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from factories import BINDING_KEY
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from tokens import bearer_headers

from gateway import create_app, migrate
from gateway.cli import _demo_banner
from gateway.config import parse_pseudonym_keys
from gateway.db import PooledDatabase, bind_principal, use_binding_key
from gateway.demo import (
    DEFAULT_SIZE,
    SEED,
    DemoCredentials,
    OlderDemoData,
    build_plan,
    load_demo,
    load_rest,
)
from gateway.demo_people import DEVELOPERS, SKILLS, TEST_CARDS, consent_state, make_people
from gateway.demo_plan import DAYS
from gateway.demo_talk import digits
from gateway.models import SYSTEM, Keyring
from gateway.repositories import developers as developers_repo
from gateway.services import oauth_clients as oauth_clients_service
from schemas.ingest import IngestInteractionsSchema

PSEUDONYM_KEYS = "k1:" + "cd" * 32
KEYRING = Keyring(*parse_pseudonym_keys(PSEUDONYM_KEYS))
SIZE = 100  # small enough to load in a few seconds, large enough for every showcase
NOW = datetime.now(UTC)
FAKE_SKILL_IDS = {skill.name: str(uuid.UUID(int=i + 1)) for i, skill in enumerate(SKILLS)}


# --- the plan: what the default data set holds, without a database


@pytest.fixture(scope="module")
def default_plan():  # type: ignore[no-untyped-def]
    plan = build_plan(SEED, DEFAULT_SIZE)
    return plan, plan.records(datetime(2026, 6, 1, tzinfo=UTC), FAKE_SKILL_IDS)


def test_developers_cover_every_tier_and_both_sensitive_categories() -> None:
    tiers = {d.name: d.tier for d in DEVELOPERS}
    categories = {s.name: s.category for s in SKILLS}

    assert len(DEVELOPERS) >= 4
    assert tiers == {
        "Pizza Palace Inc.": "standard",
        "Swift Rides": "none",
        "CareWell Pharmacy": "trusted",
        "Northwind Bank": "standard",
    }
    assert categories["CareWell Pharmacy"] == "health"
    assert categories["Northwind Bank"] == "finance"


def test_the_default_data_set_has_users_in_every_consent_state(default_plan) -> None:  # type: ignore[no-untyped-def]
    people = default_plan[0].people
    states = collections.Counter(
        consent_state(p, skill).split("+")[0] for p in people for skill in p.uses
    )
    pharmacy = [consent_state(p, "CareWell Pharmacy") for p in people]
    bank = [consent_state(p, "Northwind Bank") for p in people]

    assert 190 <= len(people) <= 210
    assert 5 <= sum(p.is_child for p in people) <= 25
    assert all(states[s] >= 10 for s in ("yes", "revoked", "again", "-")), states
    # sensitive skills: some consents cover the category, some do not
    assert any(s.endswith("+health") for s in pharmacy)
    assert any(s in ("yes", "again") for s in pharmacy)
    assert any(s.endswith("+finance") for s in bank)
    assert any(s in ("yes", "again") for s in bank)
    # children keep their adult's household (surname, address, speaker)
    child = next(p for p in people if p.is_child)
    assert any(a.street == child.street and a.device == child.device for a in people)


def test_the_default_data_set_has_multi_turn_conversations_over_90_days(default_plan) -> None:  # type: ignore[no-untyped-def]
    plan, records = default_plan
    turns = collections.Counter(len(s.turns) for s in plan.sessions[:-1])
    outcomes = collections.Counter(
        r["outcome"] for r in records if r["skill_id"] == FAKE_SKILL_IDS["Pizza Palace"]
    )
    intents = {r["intent"] for r in records}
    times = sorted(datetime.fromisoformat(r["occurred_at"]) for r in records)

    assert len(records) == DEFAULT_SIZE
    assert set(turns) <= set(range(2, 7)) and turns[2] and turns[3] and turns[4] and turns[5]
    assert 1 <= len(plan.sessions[-1].turns) <= 6  # the last one ends where the size says
    assert len({r["session_id"] for r in records}) == len(plan.sessions)
    assert (times[-1] - times[0]).days in range(DAYS - 5, DAYS)
    # pizza orders that went wrong, and corrections halfway through
    assert all(outcomes[o] >= 20 for o in ("failure", "abandoned", "error")), outcomes
    assert {"ReportProblem", "ModifyOrder", "ChangeAddress", "CancelOrder"} <= intents
    # audio for most, device serials for some
    audio = sum(r["audio_ref"] is not None for r in records)
    serials = sum(bool(r["device_serial"]) for r in records)
    assert DEFAULT_SIZE / 2 < audio < DEFAULT_SIZE
    assert 0 < serials < audio


def test_the_default_data_set_carries_personal_data_spoken_and_written(default_plan) -> None:  # type: ignore[no-untyped-def]
    plan, records = default_plan
    said = " ".join(r["utterance"] for r in records)
    answered = " ".join(r["response"] for r in records)

    assert "@example" in said and " dot " in said and " at example dot " in said  # e-mails
    assert "555-01" in said and "five five five zero one" in said  # phone numbers
    assert any(card in said.replace(" ", "") for card in TEST_CARDS)  # cards, written
    assert any(digits(card[:8]) in said for card in TEST_CARDS)  # and said
    assert re.search(r"date of birth (\d\d/\d\d/\d{4}|[a-z]+ [a-z]+ nineteen)", said)
    assert re.search(r"account \d{10}", said) and "routing number is" in answered
    assert re.search(r"\d+ [A-Z][a-z]+ [A-Z][a-z]+", said)  # addresses, written
    assert plan.sessions[0].person.name.lower() in said  # names
    # what the assistant answers carries personal data too (addresses, phone numbers)
    assert re.search(r"\(\d{3}\) 555-01\d\d", answered)


def test_every_record_is_valid_platform_input(default_plan) -> None:  # type: ignore[no-untyped-def]
    _, records = default_plan
    schema = IngestInteractionsSchema()

    for start in range(0, len(records), 500):
        schema.load({"interactions": records[start : start + 500]})  # raises when not


def test_the_plan_depends_on_the_seed_alone() -> None:
    anchor = datetime(2026, 6, 1, tzinfo=UTC)
    first = build_plan(SEED, 400).records(anchor, FAKE_SKILL_IDS)
    again = build_plan(SEED, 400).records(anchor, FAKE_SKILL_IDS)
    other = build_plan(SEED + 1, 400).records(anchor, FAKE_SKILL_IDS)

    assert first == again
    assert first != other
    # the first 200 users are the same at any size
    assert make_people(SEED, 400)[:200] == make_people(SEED, 200)


# --- loaded into a database of its own, read through the real API


def _app_url(url: str) -> str:
    params = conninfo_to_dict(url)
    params["user"] = migrate.APP_ROLE
    params.pop("password", None)
    return make_conninfo(**params)


@pytest.fixture(scope="module")
def databases(owner_url: str) -> Iterator[Any]:
    """Fresh, migrated databases on the test server; dropped afterwards."""
    made: list[str] = []

    def make() -> str:
        name = f"gateway_demo_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(owner_url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        made.append(name)
        url = make_conninfo(owner_url, dbname=name)
        migrate.upgrade(url, binding_key=BINDING_KEY)
        return url

    yield make
    with psycopg.connect(owner_url, autocommit=True) as admin:
        for name in made:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))


def _connect(url: str) -> psycopg.Connection:
    conn = psycopg.connect(url, autocommit=True, row_factory=dict_row)
    use_binding_key(conn, BINDING_KEY)  # the loader writes as the proven SYSTEM caller
    return conn


@pytest.fixture(scope="module")
def demo_url(databases) -> str:  # type: ignore[no-untyped-def]
    url: str = databases()
    with _connect(url) as conn:
        issued = load_demo(conn, keyring=KEYRING, size=SIZE, now=NOW)
    assert issued.created and issued.pending == 0
    return url


@pytest.fixture
def demo(demo_url: str) -> Iterator[tuple[psycopg.Connection, DemoCredentials]]:
    """The loaded data set, run again: fresh credentials; an owner connection to look inside."""
    with _connect(demo_url) as conn:
        yield conn, load_demo(conn, keyring=KEYRING, size=SIZE)


@pytest.fixture(scope="module")
def http(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    db = PooledDatabase(
        _app_url(demo_url), min_size=1, max_size=4, timeout=2.0, binding_key=BINDING_KEY
    )
    db.open(wait=True)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "PSEUDONYM_KEYS": PSEUDONYM_KEYS,
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "DATA_DIR": str(tmp_path_factory.mktemp("demo-app")),
            "DATABASE": db,
        }
    )
    yield app.test_client()
    db.close()


def _developer(issued: DemoCredentials, name: str) -> dict[str, Any]:
    return next(d for d in issued.as_json()["developers"] if d["name"] == name)


def _all_readable(http: Any, developer: dict[str, Any]) -> list[dict[str, Any]]:
    """Every interaction the developer can list, all its skills, every page."""
    headers = bearer_headers(http, developer)
    items: list[dict[str, Any]] = []
    for skill in developer["skills"]:
        args: dict[str, str] = {}
        while True:
            page = http.get(
                f"/v1/skills/{skill['id']}/interactions", query_string=args, headers=headers
            )
            assert page.status_code == 200, page.get_json()
            body = page.get_json()
            items += body["interactions"]
            if not body.get("next_cursor"):
                break
            args = {"cursor": body["next_cursor"]}
    return items


_COUNTS = """
SELECT (SELECT count(*) FROM developers) AS developers,
       (SELECT count(*) FROM skills) AS skills,
       (SELECT count(*) FROM users) AS users,
       (SELECT count(*) FROM users WHERE is_child) AS children,
       (SELECT count(*) FROM user_profiles WHERE email IS NOT NULL) AS emails,
       (SELECT count(*) FROM consents) AS consents,
       (SELECT count(*) FROM consents WHERE revoked_at IS NOT NULL) AS revoked,
       (SELECT count(*) FROM consents WHERE 'health' = ANY (categories)) AS health_consents,
       (SELECT count(*) FROM consents WHERE 'finance' = ANY (categories)) AS finance_consents,
       (SELECT count(*) FROM interactions) AS interactions,
       (SELECT count(DISTINCT session_id) FROM interactions) AS sessions,
       (SELECT count(*) FROM interactions WHERE device_serial <> '') AS with_serial,
       (SELECT count(*) FROM interactions WHERE sensitive_category = 'health') AS health,
       (SELECT count(*) FROM interactions WHERE sensitive_category = 'finance') AS finance,
       (SELECT count(*) FROM interaction_texts) AS forms,
       (SELECT count(*) FROM vault.audio_recordings) AS audio
"""


def _counts(conn: psycopg.Connection) -> dict[str, int]:
    row = conn.execute(_COUNTS).fetchone()
    assert row is not None
    return dict(row)


def test_the_load_stores_what_the_plan_promises(demo) -> None:  # type: ignore[no-untyped-def]
    conn, issued = demo
    plan = build_plan(SEED, SIZE)
    records = plan.records(datetime(2026, 6, 1, tzinfo=UTC), FAKE_SKILL_IDS)
    counts = _counts(conn)
    tiers = collections.Counter(d.tier for d in issued.developers)

    assert not issued.created  # the fixture's second run
    assert tiers == {"standard": 2, "none": 1, "trusted": 1}
    assert counts["developers"] == 4 and counts["skills"] == 5
    assert counts["users"] == len(plan.people) == 200
    assert counts["children"] == sum(p.is_child for p in plan.people) > 0
    assert counts["emails"] == counts["users"] - counts["children"]
    # one row per consent period: each grant opens one, a revocation closes it
    grants = sum(e.action == "grant" for p in plan.people for e in p.consents)
    assert counts["consents"] == grants
    assert counts["revoked"] > 0 and counts["health_consents"] > 0 < counts["finance_consents"]
    assert counts["interactions"] == SIZE
    assert counts["sessions"] == len(plan.sessions) < SIZE  # conversations of several turns
    assert counts["health"] > 0 and counts["finance"] > 0
    assert counts["with_serial"] == sum(bool(r["device_serial"]) for r in records) > 0
    # audio references went to the vault, one per interaction that has one
    assert counts["audio"] == sum(r["audio_ref"] is not None for r in records) > 0
    # every interaction was redacted at write time under every policy
    assert counts["forms"] == 3 * SIZE
    # revoked, then granted again: a closed and an open period for one user and skill
    regranted = conn.execute(
        """
        SELECT count(*) AS n FROM (
            SELECT user_id, skill_id FROM consents GROUP BY user_id, skill_id
            HAVING count(*) > 1 AND bool_or(revoked_at IS NULL)) AS pairs
        """
    ).fetchone()
    assert regranted is not None and regranted["n"] > 0


def test_a_load_is_the_same_every_time_and_resumes_where_it_stopped(demo_url, databases) -> None:  # type: ignore[no-untyped-def]
    # the same seed and day into an empty database, this time stopped after the showcase
    # conversations (as `skillgw demo` does before its background loader takes over)
    other = databases()
    with _connect(other) as conn:
        issued = load_demo(conn, keyring=KEYRING, size=SIZE, now=NOW, defer=True)
        assert issued.pending == SIZE - _counts(conn)["interactions"] > 0

        assert load_rest(conn, size=SIZE) == issued.pending
        assert load_rest(conn, size=SIZE) == 0  # nothing left: nothing loaded again
        resumed = _snapshot(conn)
    with _connect(demo_url) as conn:
        straight = _snapshot(conn)

    for table, rows in straight.items():
        assert resumed[table] == rows, table


def _snapshot(conn: psycopg.Connection) -> dict[str, list[Any]]:
    """The data set's content, by platform ids and names (not the ids a database makes up)."""
    queries = {
        "users": """SELECT u.platform_user_id, u.is_child, p.locale, p.email, p.display_name
                    FROM users u JOIN user_profiles p ON p.user_id = u.id ORDER BY 1""",
        "consents": """SELECT u.platform_user_id, s.name, c.categories, c.granted_at, c.revoked_at
                       FROM consents c JOIN users u ON u.id = c.user_id
                       JOIN skills s ON s.id = c.skill_id ORDER BY 1, 2, 4""",
        "interactions": """SELECT l.platform_interaction_id, s.name, u.platform_user_id,
                                  i.session_id, i.occurred_at, i.utterance, i.response, i.intent,
                                  i.slots, i.outcome, i.order_ref, i.sensitive_category,
                                  i.device_serial, a.audio_ref
                           FROM interactions i
                           JOIN ingested_interactions l ON l.interaction_id = i.id
                           JOIN skills s ON s.id = i.skill_id JOIN users u ON u.id = i.user_id
                           LEFT JOIN vault.audio_recordings a ON a.interaction_id = i.id
                           ORDER BY 1""",
        "forms": """SELECT l.platform_interaction_id, t.policy, t.version, t.utterance,
                           t.response, t.slots
                    FROM interaction_texts t
                    JOIN ingested_interactions l ON l.interaction_id = t.interaction_id
                    ORDER BY 1, 2""",
    }
    return {name: [tuple(r.values()) for r in conn.execute(q)] for name, q in queries.items()}


def test_a_data_set_from_an_earlier_demo_is_named_not_mixed_in(databases) -> None:  # type: ignore[no-untyped-def]
    url = databases()
    with _connect(url) as conn:
        with conn.transaction():
            bind_principal(conn, SYSTEM)
            developers_repo.insert_developer(conn, name="Pizza Palace Inc.")

        with pytest.raises(OlderDemoData, match="earlier version"):
            load_demo(conn, keyring=KEYRING, size=SIZE)

        counts = _counts(conn)
    assert (counts["developers"], counts["users"], counts["interactions"]) == (1, 0, 0)


def test_credentials_have_the_documented_shape(demo) -> None:  # type: ignore[no-untyped-def]
    conn, issued = demo
    data = issued.as_json()

    assert set(data) == {"developers", "admin", "platform"}
    assert {d["name"]: d["tier"] for d in data["developers"]} == {
        d.name: d.tier for d in DEVELOPERS
    }
    for developer in data["developers"]:
        assert set(developer) == {"name", "tier", "client_id", "client_secret", "skills"}
        assert developer["skills"] and all(set(s) == {"id", "name"} for s in developer["skills"])
    pizza = _developer(issued, "Pizza Palace Inc.")
    assert [s["name"] for s in pizza["skills"]] == ["Pizza Palace", "Pizza Palace Rewards"]
    for kind in ("admin", "platform"):
        assert set(data[kind]) == {"client_id", "client_secret"}
        client = oauth_clients_service.authenticate_client(
            conn, client_id=data[kind]["client_id"], client_secret=data[kind]["client_secret"]
        )
        assert client is not None and client.kind == kind


def test_a_second_load_reuses_the_data_and_replaces_the_secrets(demo) -> None:  # type: ignore[no-untyped-def]
    conn, first = demo
    before = _counts(conn)

    second = load_demo(conn, keyring=KEYRING, size=SIZE)

    assert not second.created and second.pending == 0
    assert _counts(conn) == before
    assert [d.skills for d in second.developers] == [d.skills for d in first.developers]
    assert second.guide == first.guide  # the same examples, the same conversation
    old, new = first.developers[0], second.developers[0]
    assert old.client_id != new.client_id
    # the earlier secrets are revoked: only the printed ones work
    assert (
        oauth_clients_service.authenticate_client(
            conn, client_id=old.client_id, client_secret=old.client_secret
        )
        is None
    )
    assert oauth_clients_service.authenticate_client(
        conn, client_id=new.client_id, client_secret=new.client_secret
    )


def test_the_printed_conversation_opens_with_the_printed_credentials(demo, http) -> None:  # type: ignore[no-untyped-def]
    conn, issued = demo
    url = "http://gateway.test"
    printed = _demo_banner(issued, url, credentials=None)
    # the first token call and the sessions call, exactly as printed
    basic = re.search(r"curl -s -u (\S+) -d grant_type", printed)
    assert basic is not None
    client_id, client_secret = shlex.split(basic.group(1))[0].split(":")
    path = re.search(rf"{url}(/v1/skills/[^/\s]+/sessions/\S+)", printed)
    assert path is not None

    headers = bearer_headers(http, {"client_id": client_id, "client_secret": client_secret})
    response = http.get(path.group(1), headers=headers)

    assert response.status_code == 200, response.get_json()
    conversation = issued.guide.conversation
    turns = response.get_json()["turns"]
    assert len(turns) == conversation.turns >= 3
    assert [t["occurred_at"] for t in turns] == sorted(t["occurred_at"] for t in turns)
    assert {t["session"] for t in turns} == {conversation.session}
    # what the patient said arrives redacted: no name, no phone number, no address
    patient = build_plan(SEED, SIZE, showcase_only=True).sessions[0].person
    text = response.get_data(as_text=True)
    phone = patient.phone
    for said in (patient.first, patient.last, patient.street, phone, digits(phone)):
        assert said not in text
    assert f"{phone[3:6]}-{phone[6:]}" not in text
    assert "[NAME_1]" in text and "[PHONE_1]" in text and "[ADDRESS_1]" in text
    # the same path is no conversation for any other developer
    bank = bearer_headers(http, _developer(issued, "Northwind Bank"))
    assert http.get(path.group(1), headers=bank).status_code == 404


def test_the_banner_shows_clients_consents_a_conversation_and_searches(demo) -> None:  # type: ignore[no-untyped-def]
    _, issued = demo
    printed = _demo_banner(issued, "http://gateway.test", credentials=None)

    for developer in issued.developers:
        assert developer.client_secret in printed and f"tier {developer.tier}" in printed
        assert all(skill.id in printed for skill in developer.skills)
    assert issued.admin[1] in printed and issued.platform[1] in printed
    shows = {example.why for example in issued.guide.consents}
    assert {"consented", "revoked", "revoked, then again", "never consented"} <= shows
    assert {"child profile", "health covered", "finance covered"} <= shows
    for example in issued.guide.consents:
        row = next(line for line in printed.splitlines() if example.platform_user_id in line)
        assert example.why in row and example.name in row
    assert f"sessions/{issued.guide.conversation.session}" in printed
    assert "interactions?q=wrong+address" in printed


def test_a_child_profiles_interactions_are_never_readable(demo, http) -> None:  # type: ignore[no-untyped-def]
    conn, issued = demo
    # child interactions under a consent that was open when they happened and still is: only
    # the child-profile rule stands between them and their skill's developer
    consented = conn.execute(
        """
        SELECT i.id, i.skill_id FROM interactions i JOIN users u ON u.id = i.user_id
        WHERE u.is_child AND i.occurred_at > now() - interval '30 days' AND EXISTS (
            SELECT 1 FROM consents c WHERE c.user_id = i.user_id AND c.skill_id = i.skill_id
              AND c.revoked_at IS NULL AND c.granted_at <= i.occurred_at)
        """
    ).fetchall()
    assert consented

    readable: set[str] = set()
    for developer in issued.as_json()["developers"]:
        if developer["tier"] != "none":
            readable |= {item["id"] for item in _all_readable(http, developer)}

    assert readable  # adults' interactions are there to read
    assert not readable & {str(row["id"]) for row in consented}
    pizza = _developer(issued, "Pizza Palace Inc.")
    headers = bearer_headers(http, pizza)
    for row in consented:
        detail = http.get(f"/v1/skills/{row['skill_id']}/interactions/{row['id']}", headers=headers)
        assert detail.status_code == 404


def test_search_finds_words_of_the_redacted_text_and_never_a_redacted_name(demo, http) -> None:  # type: ignore[no-untyped-def]
    conn, issued = demo
    found, hidden = issued.guide.searches
    pizza = _developer(issued, found.developer)
    headers = bearer_headers(http, pizza)
    listing = f"/v1/skills/{found.skill_id}/interactions"

    hits = http.get(listing, query_string={"q": found.query}, headers=headers).get_json()
    misses = http.get(listing, query_string={"q": hidden.query}, headers=headers).get_json()

    assert hits["interactions"]
    assert all(found.query in i["utterance"].lower() for i in hits["interactions"])
    assert misses["interactions"] == []
    # though the name is in the raw text of an interaction this developer does read
    said = conn.execute(
        """
        SELECT i.id FROM interactions i
        WHERE i.skill_id = %(skill)s AND i.utterance ILIKE %(name)s
        """,
        {"skill": found.skill_id, "name": f"%{hidden.query}%"},
    ).fetchall()
    readable = {item["id"] for item in _all_readable(http, pizza)}
    assert readable & {str(row["id"]) for row in said}


def test_demo_transcripts_reach_developers_only_redacted(demo, http) -> None:  # type: ignore[no-untyped-def]
    _, issued = demo
    pizza = _developer(issued, "Pizza Palace Inc.")
    swift = _developer(issued, "Swift Rides")

    interactions = _all_readable(http, pizza)

    assert interactions
    text = " ".join(i.get("utterance", "") for i in interactions)
    assert "[" in text  # placeholders show where redaction worked
    assert "@" not in text and " dot com" not in text and "555-01" not in text
    assert not any(card in text.replace(" ", "") for card in TEST_CARDS)
    assert "five five five zero one" not in text
    denied = http.get(
        f"/v1/skills/{swift['skills'][0]['id']}/interactions", headers=bearer_headers(http, swift)
    )
    assert denied.status_code == 403


def test_the_printed_sign_ins_work_on_the_web(demo, http) -> None:  # type: ignore[no-untyped-def]
    import pyotp
    from tokens import csrf_token, sign_in_user

    from gateway.demo_accounts import issue_sign_ins

    conn, issued = demo
    users = [example.platform_user_id for example in issued.guide.consents]
    sign_ins = issue_sign_ins(conn, server_secret="test-secret", users=users)
    printed = _demo_banner(issued, "http://gateway.test", credentials=None, sign_ins=sign_ins)

    admin_password = re.search(r"  password      (\S+)", printed)
    secret = re.search(r"TOTP secret   ([A-Z2-7]+)", printed)
    user_password = re.search(r"account name\), password: (\S+)", printed)
    assert admin_password and secret and user_password
    assert "http://gateway.test/admin/sign-in" in printed and "otpauth://totp/" in printed
    # the admin: password, then the code of the printed secret
    token = csrf_token(http.get("/admin/sign-in"))
    http.post(
        "/admin/sign-in",
        data={"name": "demo-admin", "password": admin_password.group(1), "csrf_token": token},
    )
    token = csrf_token(http.get("/admin/sign-in/code"))
    code = pyotp.TOTP(secret.group(1)).now()
    answer = http.post("/admin/sign-in/code", data={"code": code, "csrf_token": token})
    assert answer.status_code == 303 and answer.headers["Location"] == "/admin/account"
    # a user of the printed table, with the printed password
    assert sign_in_user(http, users[0], user_password.group(1)).status_code == 303
    # a second run gives new passwords: the first ones stop working
    again = issue_sign_ins(conn, server_secret="test-secret", users=users[:1])
    assert again.totp_secret == sign_ins.totp_secret
    assert again.admin_password != sign_ins.admin_password
    assert sign_in_user(http, users[0], user_password.group(1)).status_code == 401
