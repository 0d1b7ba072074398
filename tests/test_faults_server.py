"""Faults under load on the real server (gunicorn): a PostgreSQL restart, Redis stopped, slow
statements. Callers see 503 with Retry-After or the documented policy, never another 5xx; the
server recovers by itself; no write it acknowledged is lost."""

import http.client
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from factories import BINDING_KEY, Factory
from live_server import HOST, LiveServer, clean_env
from private_services import PrivatePostgres, PrivateRedis
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from gateway import migrate, security
from gateway.db import PooledDatabase
from gateway.exceptions import Unavailable
from gateway.models import SYSTEM
from gateway.services import audit
from gateway.services import consents as consents_service

pytestmark = [pytest.mark.committed, pytest.mark.slow]

LEAKS = re.compile(r"Traceback|psycopg|SQLSTATE|redis\.exceptions|File \"/|PoolTimeout|statement")
SERVER_ENV = {
    "GATEWAY_SECRET_KEY": "test-secret",
    "GATEWAY_PSEUDONYM_KEYS": "k1:" + "ab" * 32,
    "GATEWAY_TOKEN_ADDRESS_RATE_LIMIT": "100000 per minute",
    "GATEWAY_AUTH_FAILURE_RATE_LIMIT": "100000 per minute",
}


@dataclass
class Answer:
    kind: str
    started: float
    status: int
    headers: dict[str, str]
    body: bytes
    key: str = ""  # what a write wrote: the platform's interaction id, the issued token


@dataclass
class Load:
    """Threads calling the server in a loop, each one kind of request, until stopped."""

    server: LiveServer
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, call: Callable[[], tuple[str, str, dict[str, str], str, str]]) -> None:
        """`call()` gives (method, path, headers, body, key) for the next request of `kind`."""

        def loop() -> None:
            connection = http.client.HTTPConnection(HOST, self.server.port, timeout=20)
            while not self._stop.is_set():
                method, path, headers, body, key = call()
                started = time.monotonic()
                try:
                    connection.request(method, path, body=body or None, headers=headers)
                    response = connection.getresponse()
                    answer = Answer(
                        kind,
                        started,
                        response.status,
                        {k.lower(): v for k, v in response.getheaders()},
                        response.read(),
                        key,
                    )
                except (ConnectionError, http.client.HTTPException, TimeoutError):
                    # gunicorn's sync workers close after each answer: connect again
                    connection.close()
                    connection = http.client.HTTPConnection(HOST, self.server.port, timeout=20)
                    continue
                if answer.headers.get("connection", "").lower() == "close":
                    connection.close()
                with self._lock:
                    self.answers.append(answer)
            connection.close()

        self._threads.append(threading.Thread(target=loop, daemon=True))

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def snapshot(self) -> list[Answer]:
        with self._lock:
            return list(self.answers)


def assert_unavailable(answer: Answer) -> None:
    assert answer.status == 503, (answer.kind, answer.status, answer.body)
    assert int(answer.headers["retry-after"]) > 0
    assert answer.headers["content-type"] == "application/json"
    body = json.loads(answer.body)
    assert set(body) == {"error", "error_description", "details"}
    assert body["error"] == "temporarily_unavailable"
    assert not LEAKS.search(answer.body.decode())


def form_token_request(credentials: Any) -> str:
    return (
        f"grant_type=client_credentials&client_id={credentials.client_id}"
        f"&client_secret={credentials.client_secret}"
    )


def mint(server: LiveServer, credentials: Any) -> dict[str, str]:
    status, _, body = server.request(
        "POST",
        "/oauth/token",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=form_token_request(credentials),
    )
    assert status == 200, body
    return {"Authorization": f"Bearer {json.loads(body)['access_token']}"}


# --- a PostgreSQL restart under load


@pytest.fixture(scope="module")
def private_pg() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres()
    try:
        yield cluster
    finally:
        cluster.close()


@dataclass
class World:
    owner_url: str
    platform: Any
    developer: int
    skill: str
    platform_user: str
    interaction: str
    reader: Any
    consenting: list[str]  # users without a consent yet, for consent writes under load


@pytest.fixture(scope="module")
def restart_database(private_pg) -> str:
    """The private cluster's gateway database, migrated; its owner URL."""
    owner_url = private_pg.database("gateway")
    migrate.upgrade(owner_url, binding_key=BINDING_KEY)
    with psycopg.connect(owner_url, autocommit=True) as conn:
        # the reader's limit stays out of the way: the answers are about the outage
        conn.execute(
            "INSERT INTO tiers (name, transcripts_readable, fields, retention_days, "
            "redaction_policy, page_size, rate_limit) "
            "VALUES ('unlimited', true, '{utterance}', 30, 'standard', 10, '100000 per minute')"
        )
    return owner_url


@pytest.fixture
def restart_world(restart_database) -> World:
    """A platform, and a developer with one consented interaction, each with a fresh client
    (the platform's limit is a fixed 60 a minute: one run's worth)."""
    with psycopg.connect(restart_database, autocommit=True, row_factory=dict_row) as conn:
        make = Factory(conn)
        developer = make.developer(tier="unlimited")
        skill = make.skill(developer)
        user = make.user()
        make.consent(user, skill, granted_at=datetime.now(UTC) - timedelta(days=1))
        platform_user = make.rows("SELECT platform_user_id FROM users WHERE id = %s", (user,))[0]
        return World(
            owner_url=restart_database,
            platform=make.client(kind="platform"),
            developer=developer,
            skill=skill,
            platform_user=platform_user["platform_user_id"],
            interaction=make.interaction(skill, user),
            reader=make.client(developer_id=developer),
            consenting=[make.user() for _ in range(300)],
        )


@pytest.fixture(scope="module")
def restart_server(private_pg, restart_database, tmp_path_factory) -> Iterator[LiveServer]:
    env = clean_env(
        GATEWAY_DATABASE_URL=restart_database,
        GATEWAY_DATA_DIR=str(tmp_path_factory.mktemp("restart-data")),
        GATEWAY_POOL_TIMEOUT="0.5",
        **SERVER_ENV,
        GATEWAY_TOKEN_RATE_LIMIT="100000 per minute",
    )
    server = LiveServer(tmp_path_factory.mktemp("restart-logs"), env, workers=2, name="restart")
    yield server
    server.stop()


def restart_load(server: LiveServer, world: World) -> Load:
    """Ingest (one interaction a request), token issuance and reads of one interaction."""
    load = Load(server)
    platform = mint(server, world.platform)
    reader = mint(server, world.reader)
    json_headers = {**platform, "Content-Type": "application/json"}

    def ingest() -> tuple[str, str, dict[str, str], str, str]:
        interaction_id = f"restart-{uuid.uuid4().hex}"
        record = {
            "interaction_id": interaction_id,
            "skill_id": world.skill,
            "user_id": world.platform_user,
            "occurred_at": datetime.now(UTC).isoformat(),
            "utterance": "book a table for two at eight",
            "response": "Booked for two at eight.",
            "intent": "BookTable",
            "outcome": "success",
        }
        body = json.dumps({"interactions": [record]})
        return "POST", "/v1/ingest/interactions", json_headers, body, interaction_id

    def token() -> tuple[str, str, dict[str, str], str, str]:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return "POST", "/oauth/token", headers, form_token_request(world.reader), ""

    def read() -> tuple[str, str, dict[str, str], str, str]:
        return "GET", f"/v1/skills/{world.skill}/interactions/{world.interaction}", reader, "", ""

    for kind, call in (("ingest", ingest), ("token", token), ("read", read)):
        load.add(kind, call)
    return load


def consent_writer(load: Load, world: World) -> Callable[[], None]:
    """A thread granting consents through the app's own pool and transaction (no HTTP route
    writes consents): a grant whose transaction committed without an error is acknowledged;
    `Unavailable` is the 503 a route would answer. Returns the function closing its pool."""
    app_url = make_conninfo(world.owner_url, user=migrate.APP_ROLE)
    db = PooledDatabase(app_url, min_size=1, max_size=1, timeout=0.5, binding_key=BINDING_KEY)
    db.open(wait=True)
    users = iter(world.consenting)

    def loop() -> None:
        user = next(users)
        while not load._stop.is_set():
            started = time.monotonic()
            try:
                with db.transaction(SYSTEM) as conn:
                    consents_service.grant_consent(
                        conn, actor=audit.SYSTEM, user_id=user, skill_id=world.skill
                    )
                status = 200
            except Unavailable:
                status = 503
            except Exception:  # anything else is what this test looks for
                status = 500
            body = json.dumps(
                {"error": "temporarily_unavailable", "error_description": "", "details": {}}
            )
            headers = {"retry-after": "5", "content-type": "application/json"}
            answer = Answer(
                "consent",
                started,
                status,
                headers if status == 503 else {},
                body.encode() if status == 503 else b"",
                user,
            )
            with load._lock:
                load.answers.append(answer)
            if status == 200:
                # a refused grant is tried again for the same user (granting is idempotent), so
                # the outage uses up no users and some are left for the calm after it
                user = next(users, None)
                if user is None:
                    return
            time.sleep(0.05)

    load._threads.append(threading.Thread(target=loop, daemon=True))
    return db.close


KINDS = {"ingest", "token", "read", "consent"}


def served_for(answers: list[Answer], *, since: float, seconds: float) -> bool:
    """Whether every answer for `seconds` (after `since`) was a 200, of every kind."""
    refused = [a.started for a in answers if a.status != 200]
    calm = max([since, *refused])
    after = [a for a in answers if a.started > calm]
    return bool(after) and after[-1].started - calm >= seconds and KINDS <= {a.kind for a in after}


def until(
    predicate: Callable[[], bool], timeout: float, describe: Callable[[], str] = lambda: ""
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out {describe()}"
        time.sleep(0.05)


def answers_since(answers: list[Answer], since: float) -> str:
    """Each kind's answers after `since`: how many, and the statuses of the last few."""
    by_kind = {
        kind: [a.status for a in answers if a.kind == kind and a.started > since] for kind in KINDS
    }
    return ", ".join(f"{k}: {len(v)} answers, last {v[-5:]}" for k, v in sorted(by_kind.items()))


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_postgres_restart_under_load_is_503s_then_service_without_losing_a_write(
    private_pg, restart_world, restart_server, mode
):
    load = restart_load(restart_server, restart_world)
    close_consent_pool = consent_writer(load, restart_world)
    load.start()
    try:
        until(lambda: {a.kind for a in load.snapshot() if a.status == 200} >= KINDS, 10)
        private_pg.stop(mode)  # fast: sessions are ended; immediate: a crash, then recovery
        down = time.monotonic()
        until(lambda: sum(a.status == 503 and a.started > down for a in load.snapshot()) >= 4, 10)
        private_pg.start()
        up = time.monotonic()
        # each worker's pool reconnects on its own: wait for a second of nothing but 200s, of
        # every kind (the test's own consent writer reconnects with the pool's backoff, so its
        # next answer may come late on a loaded machine; how soon the gateway served again is
        # asserted below)
        until(
            lambda: served_for(load.snapshot(), since=up, seconds=1.0),
            30,
            lambda: answers_since(load.snapshot(), up),
        )
    finally:
        load.stop()
        close_consent_pool()
    answers = load.snapshot()

    # during the outage: 503 with Retry-After, never another 5xx (nor anything else)
    assert {a.status for a in answers} == {200, 503}
    for answer in answers:
        if answer.status == 503:
            assert_unavailable(answer)
    # service resumed by itself, within seconds of the server accepting connections again
    last_refusal = max(a.started for a in answers if a.status != 200)
    assert last_refusal - up < 10
    print(
        f"\n{mode}: {len(answers)} requests, {sum(a.status == 503 for a in answers)} 503s, "
        f"the last one {max(last_refusal - up, 0):.2f}s after the restart"
    )

    # every acknowledged write is in the database
    ingested = {a.key for a in answers if a.kind == "ingest" and a.status == 200}
    tokens = [
        json.loads(a.body)["access_token"] for a in answers if a.kind == "token" and a.status == 200
    ]
    reads = sum(a.kind == "read" and a.status == 200 for a in answers)
    consented = {a.key for a in answers if a.kind == "consent" and a.status == 200}
    assert ingested and tokens and reads and consented
    with psycopg.connect(restart_world.owner_url, row_factory=dict_row) as conn:
        stored = {
            row["platform_interaction_id"]
            for row in conn.execute(
                "SELECT l.platform_interaction_id FROM ingested_interactions l "
                "JOIN interactions i ON i.id = l.interaction_id "
                "WHERE l.platform_interaction_id = ANY(%s)",
                (list(ingested),),
            )
        }
        assert ingested - stored == set()
        granted = {
            str(row["user_id"])
            for row in conn.execute(
                "SELECT c.user_id FROM consents c JOIN audit_events e "
                "ON e.action = 'consent.granted' AND e.subject = c.user_id::text "
                "WHERE c.skill_id = %s AND c.revoked_at IS NULL",
                (restart_world.skill,),
            )
        }
        assert consented - granted == set()
        digests = [security.token_digest(token) for token in tokens]
        issued = conn.execute(
            "SELECT count(*) AS n FROM oauth_tokens t JOIN audit_events e "
            "ON e.action = 'token.issued' AND e.subject = t.id::text "
            "WHERE t.token_digest = ANY(%s)",
            (digests,),
        ).fetchone()
        assert issued["n"] == len(tokens)
        logged = conn.execute(
            "SELECT (SELECT count(*) FROM access_log WHERE client_id = %(c)s) AS rows, "
            "(SELECT count(*) FROM audit_events WHERE action = 'transcripts.read' "
            "AND actor_id = %(c)s) AS events",
            {"c": restart_world.reader.client_id},
        ).fetchone()
        # a 503 may come after its commit (the answer to COMMIT lost): never fewer, maybe more
        assert logged["rows"] >= reads and logged["events"] >= reads


# --- Redis stopped mid-load

REDIS_LIMIT = 20
REDIS_TOKEN_LIMIT = 10
WORKERS = 2


def blast(
    server: LiveServer, method: str, path: str, headers: dict[str, str], n: int, body: str = ""
) -> list[Answer]:
    """`n` requests at once, as far as threads allow."""
    barrier = threading.Barrier(n, timeout=60)

    def one(_: int) -> Answer:
        barrier.wait()
        started = time.monotonic()
        status, answered, content = server.request(method, path, headers=headers, body=body)
        return Answer(path, started, status, {k.lower(): v for k, v in answered.items()}, content)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    yield server
    server.close()


@pytest.fixture
def redis_server(owner_url, private_redis, tmp_path) -> Iterator[LiveServer]:
    env = clean_env(
        GATEWAY_DATABASE_URL=owner_url,
        GATEWAY_DATA_DIR=str(tmp_path / "data"),
        GATEWAY_RATELIMIT_STORAGE_URI=private_redis.url,
        GATEWAY_WORKERS=str(WORKERS),
        GATEWAY_TOKEN_RATE_LIMIT=f"{REDIS_TOKEN_LIMIT} per minute",
        **SERVER_ENV,
    )
    server = LiveServer(tmp_path, env, workers=WORKERS, name="redis")
    yield server
    server.stop()


def test_redis_stopped_mid_load_falls_back_to_each_workers_share_and_never_500(
    redis_server, private_redis, committed_make
):
    tier = f"redis-{uuid.uuid4().hex[:8]}"
    committed_make.conn.execute(
        "INSERT INTO tiers (name, transcripts_readable, fields, retention_days, "
        "redaction_policy, page_size, rate_limit) "
        "VALUES (%s, true, '{utterance}', 30, 'standard', 10, %s)",
        (tier, f"{REDIS_LIMIT} per minute"),
    )
    credentials = committed_make.client(developer_id=committed_make.developer(tier=tier))
    headers = mint(redis_server, credentials)
    before = blast(redis_server, "GET", "/v1/developer", headers, REDIS_LIMIT // 2)
    assert [a.status for a in before] == [200] * (REDIS_LIMIT // 2)
    assert any(credentials.client_id.encode() in key for key in private_redis.keys())

    private_redis.stop()
    during = blast(redis_server, "GET", "/v1/developer", headers, 3 * REDIS_LIMIT)
    tokens = blast(
        redis_server,
        "POST",
        "/oauth/token",
        {"Content-Type": "application/x-www-form-urlencoded"},
        3 * REDIS_TOKEN_LIMIT,
        body=form_token_request(credentials),
    )

    for answer in during + tokens:
        assert answer.status in (200, 429), (answer.status, answer.body)
        assert not LEAKS.search(answer.body.decode())
        if answer.status == 429:
            assert int(answer.headers["retry-after"]) > 0
    # the policy: counters in each worker, each holding its share of the limit, so the
    # server as a whole allows no more than the limit; never unlimited, never shut
    allowed = sum(a.status == 200 for a in during)
    assert REDIS_LIMIT // WORKERS <= allowed <= REDIS_LIMIT
    issued = sum(a.status == 200 for a in tokens)
    assert REDIS_TOKEN_LIMIT // WORKERS <= issued <= REDIS_TOKEN_LIMIT
    status, _, _ = redis_server.request("GET", "/healthz")
    assert status == 200


# --- slow statements: every worker stuck on a lock


@pytest.fixture
def slow_server(owner_url, tmp_path) -> Iterator[LiveServer]:
    env = clean_env(
        GATEWAY_DATABASE_URL=owner_url,
        GATEWAY_DATA_DIR=str(tmp_path / "data"),
        GATEWAY_STATEMENT_TIMEOUT_MS="400",
        GATEWAY_POOL_TIMEOUT="0.4",
        GATEWAY_WORKERS=str(WORKERS),
        **SERVER_ENV,
    )
    server = LiveServer(tmp_path, env, workers=WORKERS, name="slow")
    yield server
    server.stop()


def test_slow_statements_are_503s_and_leave_no_worker_hung(slow_server, committed_make, owner_url):
    developer = committed_make.developer(tier="standard")
    committed_make.skill(developer)
    headers = mint(slow_server, committed_make.client(developer_id=developer))
    assert slow_server.request("GET", "/v1/skills", headers=headers)[0] == 200

    with psycopg.connect(owner_url) as locker:
        locker.execute("LOCK TABLE skills IN ACCESS EXCLUSIVE MODE")
        # more requests than workers: each worker takes them one after another, each waits on
        # the lock until the statement timeout cancels it
        stuck = blast(slow_server, "GET", "/v1/skills", headers, 4 * WORKERS)
        # right after, with the lock still held: the workers are free again
        health = slow_server.request("GET", "/healthz")
        locker.rollback()

    for answer in stuck:
        assert_unavailable(answer)
    assert health[0] == 200
    assert slow_server.request("GET", "/v1/skills", headers=headers)[0] == 200
    log = slow_server.log.read_text()
    assert "WORKER TIMEOUT" not in log
    assert log.count("Booting worker") == WORKERS  # none died and was replaced
    with psycopg.connect(owner_url, autocommit=True) as conn:
        stale = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND usename = 'gateway_app' AND state LIKE 'idle in transaction%'"
        ).fetchone()
    assert stale == (0,)
