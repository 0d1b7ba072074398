"""Benchmark of the rate-limit storages: what counting in PostgreSQL costs next to memory and Redis.

    python bench/rate_limit_storage.py [--rounds 2000] [--requests 600]

Seeds a throw-away database (on GATEWAY_BENCH_DATABASE_URL, default the local server at
127.0.0.1:5432, else an embedded PostgreSQL) and times, in the same run:

1. One moving-window draw (`acquire_entry`, a limit of 300 a minute, keys in rotation like
   clients' buckets) and one read of a window (`get_moving_window`, what the headers and the
   failed-authentication check cost), in memory, in PostgreSQL (the gateway's own storage, as
   the app role) and in Redis (127.0.0.1:6379, when one answers), taking turns.
2. A whole request (GET /v1/developer through the WSGI app, token check and tier included) with
   limits off, memory://, PostgreSQL and Redis, in slices that take turns so that drift hits
   every case alike.

Prints medians and p95 in milliseconds. Machines are noisy: compare within one run.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import redis
from flask.testing import FlaskClient
from limits.storage import MemoryStorage, MovingWindowSupport, RedisStorage
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from read_path import BINDING_KEY, SECRET_KEY, seed, server_url  # noqa: E402

from gateway import create_app, migrate  # noqa: E402
from gateway.db import PooledDatabase, bind_principal, use_binding_key  # noqa: E402
from gateway.limit_storage import PostgresStorage  # noqa: E402
from gateway.models import SYSTEM  # noqa: E402
from gateway.services import audit  # noqa: E402
from gateway.services import oauth_clients as oauth_clients_service  # noqa: E402

# one per run: two runs on one server (a test beside a bench) must not drop each other's
DATABASE = f"gateway_bench_limits_{os.getpid()}"
REDIS_URL = "redis://127.0.0.1:6379"
LIMIT = 300
KEYS = 50
CLIENTS = 10
SLICE = 50


def redis_up() -> bool:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
        return True
    except redis.exceptions.ConnectionError:
        return False


def timed(fn: Callable[[], object], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def row(name: str, values: list[float]) -> str:
    p95 = statistics.quantiles(values, n=20)[18]
    return f"{name:44} {statistics.median(values):9.3f} {p95:9.3f}"


def storage_ops(app_url: str, rounds: int, with_redis: bool) -> None:
    prefix = f"bench:{uuid.uuid4().hex}"
    storages: dict[str, MovingWindowSupport] = {
        "memory": MemoryStorage(),
        "PostgreSQL": PostgresStorage(conninfo=app_url),
    }
    if with_redis:
        storages["Redis"] = RedisStorage(REDIS_URL)
    samples: dict[str, list[float]] = {}
    for step in range(-50, rounds):  # the first 50 warm the connections
        key = f"{prefix}:{step % KEYS}"
        # one of each in turn, so that the machine's drift hits every storage alike
        for name, storage in storages.items():
            start = time.perf_counter()
            storage.acquire_entry(key, LIMIT, 60)
            middle = time.perf_counter()
            storage.get_moving_window(key, LIMIT, 60)
            end = time.perf_counter()
            if step >= 0:
                samples.setdefault(f"{name}: acquire_entry", []).append((middle - start) * 1000)
                samples.setdefault(f"{name}: get_moving_window", []).append((end - middle) * 1000)
    print(f"\n{'storage operation':44} {'median ms':>9} {'p95 ms':>9}")
    for name, values in samples.items():
        print(row(name, values))
    for storage in storages.values():
        if isinstance(storage, RedisStorage):
            for n in range(KEYS):
                storage.clear(f"{prefix}:{n}")
        if isinstance(storage, PostgresStorage):
            storage.close()


def add_clients(owner_url: str, developer: int) -> list[oauth_clients_service.IssuedClient]:
    with (
        psycopg.connect(owner_url, autocommit=True, row_factory=dict_row) as conn,
        conn.transaction(),
    ):
        # a tier grant and new credentials are taken only from a proven SYSTEM caller
        use_binding_key(conn, BINDING_KEY)
        bind_principal(conn, SYSTEM)
        conn.execute(
            "INSERT INTO tier_grants (developer_id, tier, reason, granted_by) "
            "VALUES (%s, 'trusted', 'bench', 'bench')",
            (developer,),
        )
        return [
            oauth_clients_service.register_client(
                conn, actor=audit.SYSTEM, kind="developer", developer_id=developer
            )
            for _ in range(CLIENTS)
        ]


def requests(owner_url: str, app_url: str, developer: int, n: int, with_redis: bool) -> None:
    clients = add_clients(owner_url, developer)
    db = PooledDatabase(app_url, min_size=2, max_size=2, binding_key=BINDING_KEY)
    db.open(wait=True)
    base = {
        "DATABASE": db,
        "DATABASE_URL": owner_url,
        "SECRET_KEY": SECRET_KEY,
        "PSEUDONYM_KEYS": "k1:" + "ab" * 32,
        "DATA_DIR": tempfile.mkdtemp(),
        "TOKEN_RATE_LIMIT": "100000 per minute",
    }
    cases: dict[str, dict[str, object]] = {
        "limits off": {"RATELIMIT_ENABLED": False},
        "memory://": {"RATELIMIT_STORAGE_URI": "memory://"},
        "PostgreSQL (the default)": {"RATELIMIT_STORAGE_URI": ""},
    }
    if with_redis:
        cases["Redis"] = {"RATELIMIT_STORAGE_URI": REDIS_URL}
    tokens = []
    minting = create_app({**base, "RATELIMIT_ENABLED": False}).test_client()
    for creds in clients:
        response = minting.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(creds.client_id, creds.client_secret),
        )
        tokens.append({"Authorization": f"Bearer {response.get_json()['access_token']}"})
    samples: dict[str, list[float]] = {name: [] for name in cases}
    turn = iter(range(10**9))
    for _ in range(n // SLICE):
        for name, extra in cases.items():
            # the limiter is one per process, so each slice binds it to its case's storage
            http = create_app({**base, **extra}).test_client()
            for _ in range(5):  # warm the storage's connection
                http.get("/healthz")

            def call(http: FlaskClient = http) -> None:
                response = http.get("/v1/developer", headers=tokens[next(turn) % CLIENTS])
                assert response.status_code == 200, response.get_json()

            samples[name] += timed(call, SLICE)
    db.close()
    print(f"\n{'GET /v1/developer, whole request':44} {'median ms':>9} {'p95 ms':>9}")
    off = statistics.median(samples["limits off"])
    for name, values in samples.items():
        extra_ms = statistics.median(values) - off
        print(row(name, values) + ("" if name == "limits off" else f"   +{extra_ms:.3f} ms"))
    if with_redis:
        connection = redis.Redis.from_url(REDIS_URL)
        for creds in clients:
            keys = list(connection.scan_iter(match=f"*{creds.client_id}*"))
            if keys:
                connection.delete(*keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=600)
    args = parser.parse_args()

    base = server_url()
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    owner_url = make_conninfo(base, dbname=DATABASE)
    try:
        # the key read_path.seed proves its SYSTEM writes with, as `skillgw db upgrade` does
        migrate.upgrade(owner_url, binding_key=BINDING_KEY)
        world = seed(owner_url, 100)
        app_url = make_conninfo(owner_url, user=migrate.APP_ROLE)
        with_redis = redis_up()
        if not with_redis:
            print("no Redis on 127.0.0.1:6379: its rows are left out")
        storage_ops(app_url, args.rounds, with_redis)
        requests(owner_url, app_url, world["developer"], args.requests, with_redis)
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
            )


if __name__ == "__main__":
    main()
