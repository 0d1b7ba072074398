"""Rate limits: per OAuth client, sized by the tier, in the envelope; OAuth and unauthenticated
buckets that a stranger cannot spend for someone else; in memory, Redis or PostgreSQL."""

import os
import uuid

import psycopg
import pytest
import redis

from gateway import create_app
from gateway.db import SharedConnection

REDIS_URL = "redis://127.0.0.1:6379"
DEAD_REDIS_URL = "redis://127.0.0.1:1"


def add_tier(conn, name, rate_limit):
    """A tier row as the admins would add it (the app role may only read tiers)."""
    conn.execute("RESET ROLE")
    try:
        conn.execute(
            """
            INSERT INTO tiers (name, transcripts_readable, fields, retention_days,
                               redaction_policy, page_size, rate_limit)
            VALUES (%s, true, '{utterance}', 30, 'standard', 10, %s)
            """,
            (name, rate_limit),
        )
    finally:
        conn.execute("SET LOCAL ROLE gateway_app")


@pytest.fixture
def tiny(conn, make):
    """A tier allowing 3 requests a minute, and a maker of developer clients on it."""
    name = f"tiny-{uuid.uuid4().hex[:8]}"
    add_tier(conn, name, "3 per minute")

    def client_on_tier():
        return make.client(developer_id=make.developer(tier=name))

    client_on_tier.tier = name  # type: ignore[attr-defined]
    return client_on_tier


@pytest.fixture
def make_app(conn, app_settings):
    """Build another app over the test's connection, with settings overridden."""

    def build(**extra):
        return create_app(app_settings(DATABASE=SharedConnection(conn), **extra))

    return build


def statuses(http, headers, n, path="/v1/developer", **kwargs):
    return [http.get(path, headers=headers, **kwargs).status_code for _ in range(n)]


def test_tier_limit_answers_429_in_the_envelope(client, bearer, tiny):
    headers = bearer(tiny())

    assert statuses(client, headers, 3) == [200, 200, 200]
    response = client.get("/v1/developer", headers=headers)

    assert response.status_code == 429
    body = response.get_json()
    assert set(body) == {"error", "error_description", "details"}
    assert body["error"] == "rate_limited"
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.headers["X-RateLimit-Limit"] == "3"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) > 0


def test_successful_responses_carry_the_remaining_budget(client, bearer, tiny):
    headers = bearer(tiny())

    responses = [client.get("/v1/developer", headers=headers) for _ in range(3)]

    assert [r.headers["X-RateLimit-Remaining"] for r in responses] == ["2", "1", "0"]
    # Retry-After means "you were refused"; a success must not carry it
    assert all("Retry-After" not in r.headers for r in responses)


def test_standard_tier_allows_sixty_a_minute(client, bearer, make):
    headers = bearer(make.client(developer_id=make.developer(tier="standard")))

    assert set(statuses(client, headers, 60)) == {200}
    assert client.get("/v1/developer", headers=headers).status_code == 429


def test_a_limited_request_reads_and_logs_nothing(client, conn, bearer, make, tiny):
    developer = make.developer(tier=tiny.tier)
    skill = make.skill(developer)
    user = make.user()
    make.consent(user, skill)
    make.interaction(skill, user)
    headers = bearer(make.client(developer_id=developer))
    url = f"/v1/skills/{skill}/interactions"
    assert statuses(client, headers, 3, path=url) == [200, 200, 200]
    logged = make.count("access_log")

    response = client.get(url, headers=headers)

    assert response.status_code == 429
    assert "interactions" not in response.get_json()
    assert make.count("access_log") == logged


def test_two_clients_do_not_share_a_bucket(client, bearer, tiny):
    first, second = bearer(tiny()), bearer(tiny())

    assert statuses(client, first, 4) == [200, 200, 200, 429]
    assert statuses(client, second, 3) == [200, 200, 200]


def test_forwarded_for_does_not_change_the_bucket(client, bearer, tiny):
    headers = bearer(tiny())
    spoofed = [
        client.get(
            "/v1/developer", headers={**headers, "X-Forwarded-For": f"198.51.100.{n}"}
        ).status_code
        for n in range(3)
    ]

    assert spoofed == [200, 200, 200]
    assert (
        client.get(
            "/v1/developer", headers={**headers, "X-Forwarded-For": "203.0.113.9"}
        ).status_code
        == 429
    )


def test_unauthenticated_requests_do_not_spend_a_clients_budget(client, bearer, tiny):
    headers = bearer(tiny())

    assert set(statuses(client, {"Authorization": "Bearer nope"}, 10)) == {401}
    assert set(statuses(client, {}, 10)) == {401}
    assert statuses(client, headers, 3) == [200, 200, 200]


def test_an_unparsable_tier_limit_fails_closed(client, conn, bearer, make):
    name = f"broken-{uuid.uuid4().hex[:8]}"
    add_tier(conn, name, "lots per fortnight")
    headers = bearer(make.client(developer_id=make.developer(tier=name)))

    assert statuses(client, headers, 3) == [200, 429, 429]


def test_a_strangers_wrong_secrets_never_lock_the_owner_out(make_app, make):
    # the review's attack: 45 wrong-secret requests naming a client id, then its owner
    http = make_app(TOKEN_RATE_LIMIT="30 per minute", AUTH_FAILURE_RATE_LIMIT="30 per minute")
    http = http.test_client()
    target = make.client(developer_id=make.developer())
    form = {"grant_type": "client_credentials"}
    stranger = {"REMOTE_ADDR": "198.51.100.7"}
    owner = {"REMOTE_ADDR": "203.0.113.20"}

    guesses = [
        http.post(
            "/oauth/token", data=form, auth=(target.client_id, f"guess-{n}"), environ_base=stranger
        ).status_code
        for n in range(45)
    ]
    by_basic = http.post(
        "/oauth/token", data=form, auth=(target.client_id, target.client_secret), environ_base=owner
    )
    by_post = http.post(
        "/oauth/token",
        data={**form, "client_id": target.client_id, "client_secret": target.client_secret},
        environ_base=owner,
    )

    # the stranger spent its own address's budget, and only that
    assert guesses == [401] * 30 + [429] * 15
    assert by_basic.status_code == 200, by_basic.get_json()
    assert by_post.status_code == 200, by_post.get_json()


def test_only_a_clients_own_requests_spend_its_oauth_budget(app, client, make):
    app.config["TOKEN_RATE_LIMIT"] = "3 per minute"
    target = make.client(developer_id=make.developer())
    other = make.client(developer_id=make.developer())
    form = {"grant_type": "client_credentials"}

    wrong = [
        client.post("/oauth/token", data=form, auth=(target.client_id, "x")).status_code
        for _ in range(5)
    ]
    own = [
        client.post("/oauth/token", data=form, auth=(target.client_id, target.client_secret))
        for _ in range(4)
    ]
    neighbour = client.post("/oauth/token", data=form, auth=(other.client_id, other.client_secret))

    assert wrong == [401] * 5
    assert [r.status_code for r in own] == [200, 200, 200, 429]
    refused = own[-1]
    assert refused.get_json()["error"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert neighbour.status_code == 200


def test_one_address_guessing_many_client_ids_is_capped(app, client, make):
    app.config["AUTH_FAILURE_RATE_LIMIT"] = "4 per minute"
    form = {"grant_type": "client_credentials"}

    statuses_seen = [
        client.post("/oauth/token", data=form, auth=(f"guessed-{n}", "secret")).status_code
        for n in range(6)
    ]
    elsewhere = client.post(
        "/oauth/token",
        data=form,
        auth=("guessed-x", "secret"),
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )

    assert statuses_seen == [401, 401, 401, 401, 429, 429]
    assert elsewhere.status_code == 401  # another address has its own budget


def test_every_oauth_request_of_an_address_is_capped(app, client, make):
    app.config["TOKEN_ADDRESS_RATE_LIMIT"] = "3 per minute"
    creds = make.client(developer_id=make.developer())
    form = {"grant_type": "client_credentials"}

    seen = [
        client.post(
            "/oauth/token", data=form, auth=(creds.client_id, creds.client_secret)
        ).status_code
        for _ in range(4)
    ]

    assert seen == [200, 200, 200, 429]


class CountingDatabase:
    """A Database that counts the transactions the app opens."""

    def __init__(self, inner):
        self.inner = inner
        self.opened = 0

    def transaction(self, principal=None, **modes):
        self.opened += 1
        return self.inner.transaction(**modes)

    def close(self):
        pass


def test_an_unauthenticated_flood_is_capped_before_it_costs_a_transaction(
    conn, app_settings, bearer, tiny
):
    db = CountingDatabase(SharedConnection(conn))
    http = create_app(app_settings(DATABASE=db, AUTH_FAILURE_RATE_LIMIT="5 per minute"))
    http = http.test_client()
    bogus = {"Authorization": "Bearer " + "x" * 43}

    first = statuses(http, bogus, 5)
    opened = db.opened
    flood = statuses(http, bogus, 20) + statuses(http, {}, 20)

    assert first == [401] * 5
    assert opened == 5  # each bogus token was looked up once
    assert set(flood) == {429}
    assert db.opened == opened  # the flood cost no transaction at all
    # a client elsewhere is not held up by it
    creds = tiny()
    form = {"grant_type": "client_credentials"}
    other = {"REMOTE_ADDR": "203.0.113.50"}
    token = http.post(
        "/oauth/token", data=form, auth=(creds.client_id, creds.client_secret), environ_base=other
    ).get_json()["access_token"]
    assert (
        http.get(
            "/v1/developer", headers={"Authorization": f"Bearer {token}"}, environ_base=other
        ).status_code
        == 200
    )


def test_a_request_without_a_token_costs_no_transaction(conn, app_settings):
    db = CountingDatabase(SharedConnection(conn))
    http = create_app(app_settings(DATABASE=db)).test_client()

    response = http.get("/v1/skills")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="gateway"'
    assert db.opened == 0


def test_counts_do_not_leak_from_one_app_to_the_next(make_app, make, tiny):
    creds = tiny()
    first = make_app().test_client()
    token = first.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, creds.client_secret),
    ).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert statuses(first, headers, 4) == [200, 200, 200, 429]

    second = make_app().test_client()

    assert statuses(second, headers, 1) == [200]


def test_an_app_without_limits_does_not_switch_them_off_for_the_next(make_app, tiny):
    creds = tiny()
    unlimited = make_app(RATELIMIT_ENABLED=False).test_client()
    headers = mint(unlimited, creds)
    assert statuses(unlimited, headers, 4) == [200, 200, 200, 200]

    limited = make_app().test_client()

    assert statuses(limited, headers, 4) == [200, 200, 200, 429]


# --- Redis


@pytest.fixture
def redis_client():
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        # CI has Redis and must run these; a laptop without one sees them skipped, not passed
        if os.environ.get("GATEWAY_TEST_REQUIRE_REDIS"):
            pytest.fail("GATEWAY_TEST_REQUIRE_REDIS is set but no Redis answers on 127.0.0.1:6379")
        pytest.skip("no Redis on 127.0.0.1:6379")
    created: list[str] = []
    yield connection, created
    for pattern in created:
        keys = list(connection.scan_iter(match=pattern))
        if keys:
            connection.delete(*keys)
    connection.close()


def mint(http, creds):
    response = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, creds.client_secret),
    )
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def test_redis_holds_the_count_across_app_instances(make_app, tiny, redis_client):
    connection, created = redis_client
    creds = tiny()
    created.extend([f"*{creds.client_id}*"])
    first = make_app(RATELIMIT_STORAGE_URI=REDIS_URL).test_client()
    headers = mint(first, creds)

    assert statuses(first, headers, 2) == [200, 200]
    assert list(connection.scan_iter(match=f"*client:{creds.client_id}*"))

    # a second instance starts with fresh storage objects: only Redis can know the count
    second = make_app(RATELIMIT_STORAGE_URI=REDIS_URL).test_client()
    assert statuses(second, headers, 2) == [200, 429]


def test_memory_storage_does_not_share_counts_between_instances(make_app, tiny):
    # the counterpart of the Redis test: without a shared store, each instance counts alone
    creds = tiny()
    first = make_app().test_client()
    headers = mint(first, creds)
    assert statuses(first, headers, 3) == [200, 200, 200]

    second = make_app().test_client()

    assert statuses(second, headers, 1) == [200]


@pytest.mark.parametrize(("workers", "allowed"), [(1, 6), (2, 3), (4, 1), (8, 1)])
def test_unreachable_redis_falls_back_to_a_share_of_the_limit_without_500(
    make_app, make, workers, allowed
):
    # per-process counters while the storage is down: each worker gets its share of the
    # limit (never less than one), so one server never allows more than the limit
    name = f"six-{uuid.uuid4().hex[:8]}"
    add_tier(make.conn, name, "6 per minute")
    creds = make.client(developer_id=make.developer(tier=name))
    http = make_app(RATELIMIT_STORAGE_URI=DEAD_REDIS_URL, WORKERS=workers).test_client()

    headers = mint(http, creds)
    results = statuses(http, headers, 7)

    assert results == [200] * allowed + [429] * (7 - allowed)


def test_a_dead_redis_does_not_follow_into_the_next_app(make_app, tiny, redis_client):
    connection, created = redis_client
    creds = tiny()
    created.extend([f"*{creds.client_id}*"])
    dead = make_app(RATELIMIT_STORAGE_URI=DEAD_REDIS_URL).test_client()
    headers = mint(dead, creds)
    assert statuses(dead, headers, 1) == [200]

    live = make_app(RATELIMIT_STORAGE_URI=REDIS_URL).test_client()
    assert statuses(live, headers, 1) == [200]

    assert list(connection.scan_iter(match=f"*client:{creds.client_id}*"))


def test_a_malformed_token_request_does_not_knock_out_redis(make_app, tiny, redis_client):
    connection, created = redis_client
    creds = tiny()
    created.extend([f"*{creds.client_id}*"])
    app = make_app(RATELIMIT_STORAGE_URI=REDIS_URL, MAX_CONTENT_LENGTH=1024)
    http = app.test_client()

    oversized = http.post(
        "/oauth/token",
        data="grant_type=client_credentials&pad=" + "x" * 4096,
        content_type="application/x-www-form-urlencoded",
    )
    headers = mint(http, creds)
    http.get("/v1/developer", headers=headers)

    assert oversized.status_code == 413
    # the counters still go to Redis, not to a per-process fallback
    assert list(connection.scan_iter(match=f"*client:{creds.client_id}*"))


def test_a_storage_failing_between_check_and_count_is_never_a_500(make_app, monkeypatch):
    # a failed authentication is checked before the request and counted after it: a storage
    # that dies in between must cost that one count, not the answer
    from gateway.limits import limiter

    http = make_app().test_client()

    def unreachable(*args, **kwargs):
        raise ConnectionError("storage went away")

    monkeypatch.setattr(limiter._storage, "acquire_entry", unreachable)
    response = http.get("/v1/developer", headers={"Authorization": "Bearer " + "x" * 43})

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


def test_by_default_the_counts_live_in_the_gateways_postgresql(make_app, app_url, owner_url, tiny):
    from gateway.limit_storage import PostgresStorage
    from gateway.limits import limiter

    creds = tiny()
    http = make_app(RATELIMIT_STORAGE_URI="", APP_DATABASE_URL=app_url).test_client()
    headers = mint(http, creds)

    assert isinstance(limiter.storage, PostgresStorage)
    assert statuses(http, headers, 4) == [200, 200, 200, 429]
    with psycopg.connect(owner_url) as owner:
        rows = owner.execute(
            "SELECT count(*) FROM rate_limits WHERE key LIKE %s", (f"%{creds.client_id}%",)
        ).fetchone()
    assert rows[0] >= 2  # the tier's bucket and the token endpoint's, committed on their own


def test_an_unknown_storage_scheme_is_refused_at_start(make_app):
    with pytest.raises(ValueError, match="RATELIMIT_STORAGE_URI"):
        make_app(RATELIMIT_STORAGE_URI="memcached://127.0.0.1:11211")
