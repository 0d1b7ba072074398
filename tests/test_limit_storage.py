"""The PostgreSQL rate-limit storage: atomic under concurrency, exact windows, the app role only."""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from limits import parse
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from gateway.limit_storage import PostgresStorage


@pytest.fixture
def storage(app_url):
    store = PostgresStorage(conninfo=app_url, pool_size=8)
    yield store
    store.close()


@pytest.fixture
def key():
    return f"test:{uuid.uuid4().hex}"


def test_moving_window_allows_exactly_the_limit(storage, key):
    results = [storage.acquire_entry(key, 3, 60) for _ in range(5)]

    assert results == [True, True, True, False, False]
    start, entries = storage.get_moving_window(key, 3, 60)
    assert entries == 3
    assert time.time() - 5 < start <= time.time() + 1


def test_moving_window_frees_entries_as_they_leave_the_window(storage, key):
    assert [storage.acquire_entry(key, 2, 1) for _ in range(3)] == [True, True, False]

    time.sleep(1.1)

    assert storage.acquire_entry(key, 2, 1) is True
    assert storage.get_moving_window(key, 2, 1)[1] == 1


def test_no_window_ever_holds_more_than_the_limit(storage, key):
    allowed = []
    deadline = time.monotonic() + 3.2
    while time.monotonic() < deadline:
        if storage.acquire_entry(key, 5, 2):
            allowed.append(time.monotonic())
        time.sleep(0.01)

    # any two seconds hold at most five; and the window does move on. The counts are timed by
    # the database's clock and these times by ours, a round trip apart: on a loaded machine the
    # two can differ by a few hundred milliseconds, so look at windows that much shorter.
    slack = 0.3
    assert all(sum(1 for t in allowed if start <= t < start + 2 - slack) <= 5 for start in allowed)
    assert len(allowed) > 5


def test_a_big_limit_keeps_the_row_small(storage, key, owner_url):
    for _ in range(400):
        assert storage.acquire_entry(key, 5000, 3600)

    with psycopg.connect(owner_url) as conn:
        ids, total = conn.execute(
            "SELECT cardinality(bucket_ids), (SELECT sum(n) FROM unnest(bucket_counts) AS n)"
            " FROM rate_limits WHERE key = %s",
            (key,),
        ).fetchone()
    # one ring of 61 buckets whatever the limit: a draw costs the same at 30 or 5000 a window
    assert ids == 61
    assert total == 400
    assert storage.get_moving_window(key, 5000, 3600)[1] == 400


def test_a_cost_larger_than_what_is_left_is_refused_whole(storage, key):
    assert storage.acquire_entry(key, 5, 60, amount=3) is True
    assert storage.acquire_entry(key, 5, 60, amount=3) is False
    assert storage.acquire_entry(key, 5, 60, amount=2) is True
    assert storage.acquire_entry(key, 5, 60, amount=6) is False
    assert storage.get_moving_window(key, 5, 60)[1] == 5


def test_an_empty_window_starts_now(storage, key):
    start, entries = storage.get_moving_window(key, 3, 60)

    assert entries == 0
    assert abs(start - time.time()) < 2


def test_concurrent_acquires_from_many_connections_allow_exactly_the_limit(storage, key):
    barrier = threading.Barrier(16, timeout=30)

    def hit(_: int) -> bool:
        barrier.wait()
        return storage.acquire_entry(key, 10, 60)

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(hit, range(48)))

    assert results.count(True) == 10


def test_two_storages_share_one_count(app_url, storage, key):
    # what two workers or two instances are: separate objects, separate pools, one table
    other = PostgresStorage(conninfo=app_url)
    try:
        assert storage.acquire_entry(key, 2, 60) is True
        assert other.acquire_entry(key, 2, 60) is True
        assert storage.acquire_entry(key, 2, 60) is False
        assert other.acquire_entry(key, 2, 60) is False
    finally:
        other.close()


def test_fixed_window_counts_and_restarts(storage, key):
    assert [storage.incr(key, 1) for _ in range(3)] == [1, 2, 3]
    assert storage.get(key) == 3
    assert time.time() < storage.get_expiry(key) <= time.time() + 1.5

    time.sleep(1.1)

    assert storage.get(key) == 0
    assert storage.incr(key, 1, amount=2) == 2


def test_the_limits_strategies_run_on_it(storage, key):
    item = parse("2 per minute")
    for strategy in (MovingWindowRateLimiter(storage), FixedWindowRateLimiter(storage)):
        name = f"{key}:{type(strategy).__name__}"
        assert [strategy.hit(item, name) for _ in range(3)] == [True, True, False]
        assert strategy.test(item, name) is False
        assert strategy.get_window_stats(item, name).remaining == 0


def test_clear_forgets_a_key(storage, key):
    storage.acquire_entry(key, 1, 60)
    assert storage.acquire_entry(key, 1, 60) is False

    storage.clear(key)

    assert storage.acquire_entry(key, 1, 60) is True


def test_expired_rows_are_swept(storage, key, owner_url):
    storage.acquire_entry(key, 1, 1)
    time.sleep(1.1)
    storage._next_sweep = 0.0  # as if the sweep interval had passed

    storage.acquire_entry(f"{key}:other", 1, 60)

    with psycopg.connect(owner_url) as conn:
        left = conn.execute("SELECT count(*) FROM rate_limits WHERE key = %s", (key,)).fetchone()
    assert left == (0,)


def test_an_unreachable_database_is_reported_not_hung(key):
    dead = PostgresStorage(conninfo="postgresql://gateway_app@127.0.0.1:1/x?connect_timeout=1")
    try:
        started = time.monotonic()
        assert dead.check() is False
        with pytest.raises(psycopg.Error):
            dead.acquire_entry(key, 1, 60)
        assert time.monotonic() - started < 3
    finally:
        dead.close()


def test_the_app_role_has_exactly_the_privileges_it_needs(conn):
    granted = conn.execute(
        """
        SELECT privilege_type FROM information_schema.role_table_grants
        WHERE grantee = 'gateway_app' AND table_name = 'rate_limits'
        """
    ).fetchall()
    persistence = conn.execute(
        "SELECT relpersistence FROM pg_class WHERE relname = 'rate_limits'"
    ).fetchone()

    assert {row["privilege_type"] for row in granted} == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert persistence == {"relpersistence": "u"}  # UNLOGGED
