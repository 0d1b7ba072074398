"""Two real servers (gunicorn, two workers each) on one PostgreSQL and one Redis: one rate-limit
count between them, and every security change made through one seen by the other's next request.
"""

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from factories import Factory
from live_server import LiveServer, clean_env

from gateway.services import audit
from gateway.services import consents as consents_service

pytestmark = [pytest.mark.committed, pytest.mark.slow]

# a Redis database of these tests' own on the machine's Redis; keys are also per client id
REDIS_URL = "redis://127.0.0.1:6379/11"
LIMIT = 20
WORKERS = 2


@pytest.fixture(scope="module")
def redis_db() -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("these tests need the Redis on 127.0.0.1:6379")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def instances(owner_url, redis_db, tmp_path_factory) -> Iterator[list[LiveServer]]:
    """Two `skillgw serve` instances, each with its own workers and pools, sharing the rest."""
    env = clean_env(
        GATEWAY_DATABASE_URL=owner_url,
        GATEWAY_DATA_DIR=str(tmp_path_factory.mktemp("instances-data")),
        GATEWAY_SECRET_KEY="test-secret",
        GATEWAY_PSEUDONYM_KEYS="k1:" + "ab" * 32,
        GATEWAY_RATELIMIT_STORAGE_URI=REDIS_URL,
        GATEWAY_WORKERS=str(WORKERS),
        GATEWAY_TOKEN_ADDRESS_RATE_LIMIT="10000 per minute",
        GATEWAY_AUTH_FAILURE_RATE_LIMIT="10000 per minute",
    )
    logs = tmp_path_factory.mktemp("instances-logs")
    servers: list[LiveServer] = []
    try:
        for name in ("a", "b"):
            servers.append(LiveServer(logs, env, workers=WORKERS, name=name))
        yield servers
    finally:
        for server in servers:
            server.stop()


def get_json(server: LiveServer, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    status, _, body = server.request("GET", path, headers=headers)
    return status, json.loads(body) if body else None


def mint(server: LiveServer, credentials: Any) -> dict[str, str]:
    status, _, body = server.request(
        "POST",
        "/oauth/token",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=(
            f"grant_type=client_credentials&client_id={credentials.client_id}"
            f"&client_secret={credentials.client_secret}"
        ),
    )
    assert status == 200, body
    return {"Authorization": f"Bearer {json.loads(body)['access_token']}"}


def blast(calls: list[Callable[[], tuple[int, Any, Any]]]) -> list[int]:
    """Run every call at once, as far as threads allow; their statuses."""
    barrier = threading.Barrier(len(calls), timeout=60)

    def run(call: Callable[[], tuple[int, Any, Any]]) -> int:
        barrier.wait()
        return call()[0]

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


# --- one count across instances


def test_a_limit_of_n_allows_exactly_n_across_both_instances(instances, committed_make, redis_db):
    tier = f"many-{uuid.uuid4().hex[:8]}"
    committed_make.conn.execute(
        "INSERT INTO tiers (name, transcripts_readable, fields, retention_days, "
        "redaction_policy, page_size, rate_limit) "
        "VALUES (%s, true, '{utterance}', 30, 'standard', 10, %s)",
        (tier, f"{LIMIT} per minute"),
    )
    credentials = committed_make.client(developer_id=committed_make.developer(tier=tier))
    headers = mint(instances[0], credentials)
    try:
        calls = [
            lambda server=server: server.request("GET", "/v1/developer", headers=headers)
            for server in instances
        ] * (2 * LIMIT)  # four times the limit, half through each instance

        statuses = blast(calls)

        # counted apart (per instance or per worker), up to four times LIMIT would pass
        assert statuses.count(200) == LIMIT
        assert statuses.count(429) == 3 * LIMIT
        # and the count is Redis's: the shared store the instances were pointed at
        assert list(redis_db.scan_iter(match=f"*{credentials.client_id}*"))
    finally:
        keys = list(redis_db.scan_iter(match=f"*{credentials.client_id}*"))
        if keys:
            redis_db.delete(*keys)


# --- security changes: made through one instance, refused on the next request through the other


class Reader:
    """A developer who reads one consented interaction, with a token minted through `a`."""

    def __init__(self, make: Factory, a: LiveServer) -> None:
        self.make = make
        self.developer = make.developer(tier="standard")
        self.skill = make.skill(self.developer)
        self.user = make.user()
        make.consent(self.user, self.skill, granted_at=datetime.now(UTC) - timedelta(days=1))
        self.interaction = make.interaction(self.skill, self.user)
        self.credentials = make.client(developer_id=self.developer)
        self.headers = mint(a, self.credentials)
        self.a = a
        self.admin = {**mint(a, make.client(kind="admin")), "Content-Type": "application/json"}
        self.path = f"/v1/skills/{self.skill}/interactions/{self.interaction}"

    def statuses(self, server: LiveServer, times: int = 4) -> list[int]:
        # several requests, so both of the instance's workers (and their pools) answer some
        return [get_json(server, self.path, self.headers)[0] for _ in range(times)]


def revoke_consent(reader: Reader) -> None:
    reader.make._run(
        consents_service.revoke_consent,
        actor=audit.SYSTEM,
        user_id=reader.user,
        skill_id=reader.skill,
    )


def admin_post(reader: Reader, path: str, body: dict[str, Any]) -> None:
    """An admin's POST through the admin API of instance `a`."""
    status, _, answer = reader.a.request("POST", path, headers=reader.admin, body=json.dumps(body))
    assert status in (200, 201), answer


def revoke_client(reader: Reader) -> None:
    admin_post(reader, f"/v1/admin/clients/{reader.credentials.client_id}/revocation", {})


def suspend_developer(reader: Reader) -> None:
    admin_post(reader, f"/v1/admin/developers/{reader.developer}/suspension", {})


def grant(reader: Reader, tier: str) -> None:
    admin_post(
        reader, f"/v1/admin/developers/{reader.developer}/grants", {"tier": tier, "reason": "ok"}
    )


def change_tier(reader: Reader) -> None:
    # the whitelist removal: the grant ends, the developer is on `none` (no transcripts)
    status, _, body = reader.a.request(
        "DELETE",
        f"/v1/admin/developers/{reader.developer}/grants/current",
        headers=reader.admin,
        body=json.dumps({"reason": "review failed"}),
    )
    assert status == 200, body


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (revoke_consent, 404),  # the interaction is no longer there for this developer
        (revoke_client, 401),
        (suspend_developer, 401),  # a suspension revokes its tokens
        (change_tier, 403),
    ],
    ids=["consent-revoked", "client-revoked", "developer-suspended", "tier-changed"],
)
def test_a_change_through_one_instance_is_refused_on_the_next_request_through_the_other(
    instances, committed_make, change, refusal
):
    a, b = instances
    reader = Reader(committed_make, a)
    # both instances have served the reader: anything they would cache, they now hold
    assert reader.statuses(a) == [200] * 4
    assert reader.statuses(b) == [200] * 4

    change(reader)

    assert reader.statuses(b) == [refusal] * 4
    assert reader.statuses(a) == [refusal] * 4


def test_a_tier_raised_through_one_instance_shows_more_on_the_next_request_through_the_other(
    instances, committed_make
):
    a, b = instances
    reader = Reader(committed_make, a)
    for server in (a, b):
        status, body = get_json(server, reader.path, reader.headers)
        assert status == 200 and "response" not in body  # standard: no assistant responses

    grant(reader, "trusted")

    for server in (b, a):
        for _ in range(4):
            status, body = get_json(server, reader.path, reader.headers)
            assert status == 200 and "response" in body
