"""Database faults on a real pool, real commits: killed backends, slow statements, a full pool."""

import re
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from tokens import bearer_headers

from gateway import create_app

pytestmark = pytest.mark.committed

LEAKS = re.compile(r'Traceback|psycopg|SQLSTATE|File "/|QueryCanceled|PoolTimeout|statement')

_APP_BACKENDS = """
SELECT pid, state FROM pg_stat_activity
WHERE datname = current_database() AND usename = 'gateway_app'
"""


@pytest.fixture
def gateway(app_settings, app_url, owner_conn):  # type: ignore[no-untyped-def]
    """Build apps through create_app's own pool settings (POOL_*, STATEMENT_TIMEOUT_MS)."""
    apps = []

    def build(**extra: object):  # type: ignore[no-untyped-def]
        app = create_app(app_settings(APP_DATABASE_URL=app_url, **extra))
        app.extensions["gateway.db"].pool.wait(timeout=5)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["gateway.db"].close()


@pytest.fixture
def developer(committed_make):  # type: ignore[no-untyped-def]
    developer_id = committed_make.developer(tier="standard")
    committed_make.skill(developer_id)
    return committed_make.client(developer_id=developer_id)


def assert_unavailable(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503, response.get_data()
    assert int(response.headers["Retry-After"]) > 0
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error", "error_description", "details"}
    assert body["error"] == "temporarily_unavailable"
    assert not LEAKS.search(response.get_data(as_text=True))


def app_backends(owner_url: str) -> list[dict]:
    # a fresh connection: the owner's own session must not be in a transaction while we look
    with psycopg.connect(owner_url, autocommit=True) as conn:
        rows = conn.execute(_APP_BACKENDS).fetchall()
    return [{"pid": pid, "state": state} for pid, state in rows]


def test_killed_backends_are_replaced_without_an_error(gateway, developer, owner_conn, owner_url):
    app = gateway(POOL_MIN_SIZE=3, POOL_MAX_SIZE=3)
    client = app.test_client()
    headers = bearer_headers(client, developer)
    assert client.get("/v1/skills", headers=headers).status_code == 200
    killed = {backend["pid"] for backend in app_backends(owner_url)}
    assert len(killed) == 3  # every pooled connection is about to go stale

    owner_conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND usename = 'gateway_app'"
    )
    deadline = time.monotonic() + 5
    while killed & {b["pid"] for b in app_backends(owner_url)} and time.monotonic() < deadline:
        time.sleep(0.02)

    # each dead connection is dropped on checkout and replaced, without a backoff sleep
    started = time.monotonic()
    statuses = [client.get("/v1/skills", headers=headers).status_code for _ in range(6)]
    assert statuses == [200] * 6
    assert time.monotonic() - started < 1.0
    alive = {backend["pid"] for backend in app_backends(owner_url)}
    assert alive and not alive & killed


def test_a_statement_past_the_timeout_is_a_503_and_leaves_no_transaction_open(
    gateway, developer, owner_url
):
    app = gateway(STATEMENT_TIMEOUT_MS=300, POOL_MAX_SIZE=2)
    client = app.test_client()
    headers = bearer_headers(client, developer)
    assert client.get("/v1/skills", headers=headers).status_code == 200

    with psycopg.connect(owner_url) as locker:
        locker.execute("LOCK TABLE skills IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        response = client.get("/v1/skills", headers=headers)
        elapsed = time.monotonic() - started
        locker.rollback()
    assert_unavailable(response)
    assert 0.25 < elapsed < 1.0  # the server cancelled the wait; nothing client-side did

    assert client.get("/v1/skills", headers=headers).status_code == 200
    backends = app_backends(owner_url)
    assert backends
    assert all(backend["state"] == "idle" for backend in backends), backends


def test_a_full_pool_is_a_prompt_503_and_recovers(gateway, developer, owner_url):
    app = gateway(POOL_MIN_SIZE=1, POOL_MAX_SIZE=1, POOL_TIMEOUT=0.3, STATEMENT_TIMEOUT_MS=5000)
    headers = bearer_headers(app.test_client(), developer)

    with psycopg.connect(owner_url) as locker, ThreadPoolExecutor(max_workers=1) as executor:
        locker.execute("LOCK TABLE skills IN ACCESS EXCLUSIVE MODE")
        # this request takes the only connection and waits on the lock
        stuck = executor.submit(lambda: app.test_client().get("/v1/skills", headers=headers))
        deadline = time.monotonic() + 3
        while not any(b["state"] == "active" for b in app_backends(owner_url)):
            assert time.monotonic() < deadline, "the first request never reached the database"
            time.sleep(0.02)

        started = time.monotonic()
        response = app.test_client().get("/v1/skills", headers=headers)
        elapsed = time.monotonic() - started
        locker.rollback()
        assert stuck.result(timeout=5).status_code == 200
    assert_unavailable(response)
    assert 0.25 < elapsed < 1.0

    assert app.test_client().get("/v1/skills", headers=headers).status_code == 200
    assert len(app_backends(owner_url)) == 1  # max_size holds: no connection opened past it


def test_a_connection_held_outside_a_request_makes_the_next_one_wait_then_503(gateway, developer):
    app = gateway(POOL_MIN_SIZE=1, POOL_MAX_SIZE=1, POOL_TIMEOUT=0.3)
    client = app.test_client()
    headers = bearer_headers(client, developer)
    pool = app.extensions["gateway.db"].pool

    held = pool.getconn()
    try:
        started = time.monotonic()
        response = client.get("/v1/skills", headers=headers)
        elapsed = time.monotonic() - started
    finally:
        pool.putconn(held)
    assert_unavailable(response)
    assert elapsed < 1.0
    assert client.get("/v1/skills", headers=headers).status_code == 200
