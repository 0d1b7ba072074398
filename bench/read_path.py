"""Benchmark of the developer read path: one page of interactions over HTTP vs its SQL alone.

    python bench/read_path.py [--interactions 50000] [--rounds 200]

Seeds a throw-away database (on GATEWAY_BENCH_DATABASE_URL, default the local server at
127.0.0.1:5432, else an embedded PostgreSQL) through the write path (so every redacted form is
stored, as bench/read_vs_bare.py does), then times, in the same run and interleaved: the bare
keyset query for one page (the baseline), the same page through the whole stack (token check,
rules, stored redacted forms, access log, JSON), the single-interaction read, and /healthz.
Prints medians, p95 and ratios to the baseline; machines are noisy, so compare ratios.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypedDict

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from read_vs_bare import write_interactions  # noqa: E402

from gateway import create_app, migrate  # noqa: E402
from gateway.binding import derive_binding_key  # noqa: E402
from gateway.db import PooledDatabase, bind_principal, use_binding_key  # noqa: E402
from gateway.models import SYSTEM, Principal  # noqa: E402
from gateway.redaction import get_policy  # noqa: E402
from gateway.repositories import interactions as interactions_repo  # noqa: E402
from gateway.repositories.interactions import InteractionFilter  # noqa: E402
from gateway.services import (
    audit,  # noqa: E402
    redaction,  # noqa: E402
)
from gateway.services import oauth_clients as oauth_clients_service  # noqa: E402

DATABASE = "gateway_bench"
SECRET_KEY = "bench"
# installed with the schema, as `skillgw db upgrade` does: the seed's writes are proven SYSTEM's
BINDING_KEY = derive_binding_key(SECRET_KEY)
UTTERANCES = [
    "order two large pepperoni pizzas to {n} elm street and call me at five five five {d}",
    "my email is jane.doe{d}@example.com send the receipt there",
    "book a ride to the airport for seven thirty pm",
    "refill my prescription number {d}{d}",
    "pay with the card ending four one one one",
    "what is the status of order 8F3K{n}",
]


def server_url() -> str:
    url = os.environ.get(
        "GATEWAY_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    try:
        psycopg.connect(url, connect_timeout=2).close()
        return url
    except psycopg.OperationalError:
        from gateway.embedded import start_embedded

        return start_embedded(Path(tempfile.mkdtemp()) / "pg").server_url


class World(TypedDict):
    """What `seed` made: a developer, its skill and its client's credentials."""

    developer: int
    skill: str
    credentials: oauth_clients_service.IssuedClient


def seed(owner_url: str, n_interactions: int) -> World:
    rng = random.Random(7)
    now = datetime.now(UTC)
    with psycopg.connect(owner_url, autocommit=True, row_factory=dict_row) as conn:
        use_binding_key(conn, BINDING_KEY)
        with conn.transaction():
            bind_principal(conn, SYSTEM)
            row = conn.execute(
                "INSERT INTO developers (name) VALUES ('Bench Pizza') RETURNING id"
            ).fetchone()
            assert row is not None
            developer = row["id"]
            conn.execute(
                "INSERT INTO tier_grants (developer_id, tier, reason, granted_by) "
                "VALUES (%s, 'standard', 'bench', 'bench')",
                (developer,),
            )
            row = conn.execute(
                "INSERT INTO skills (developer_id, name) VALUES (%s, 'Bench Pizza') RETURNING id",
                (developer,),
            ).fetchone()
            assert row is not None
            skill = row["id"]
            users = {}
            for i in range(2000):
                row = conn.execute(
                    "INSERT INTO users (platform_user_id, is_child) VALUES (%s, %s) RETURNING id",
                    (f"bench-user-{i}", i % 50 == 0),
                ).fetchone()
                assert row is not None
                users[f"bench-user-{i}"] = row["id"]
            for i, user in enumerate(users.values()):
                if i % 10:  # nine in ten consented, long ago
                    conn.execute(
                        "INSERT INTO consents (user_id, skill_id, granted_at) VALUES (%s, %s, %s)",
                        (user, skill, now - timedelta(days=365)),
                    )
            credentials = oauth_clients_service.register_client(
                conn, actor=audit.SYSTEM, kind="developer", developer_id=developer
            )
        platform_ids = list(users)
        records = []
        for i in range(n_interactions):
            text = rng.choice(UTTERANCES).format(n=rng.randint(1, 99), d=rng.randint(1000, 9999))
            records.append(
                {
                    "interaction_id": f"bench-{i}",
                    "skill_id": str(skill),
                    "user_id": rng.choice(platform_ids),
                    "session_id": "",
                    "occurred_at": now - timedelta(seconds=rng.randint(0, 80 * 86400)),
                    "utterance": text,
                    "response": "Sure, I have placed that for you.",
                    "intent": rng.choice(["OrderPizza", "TrackOrder", "Refill"]),
                    "slots": {},
                    "outcome": rng.choice(["success", "failure"]),
                    "order_ref": f"R{i}",
                    "sensitive_category": None,
                    "device_serial": "",
                    "audio_ref": None,
                }
            )
        # the write path, so the redacted forms the read path selects exist
        write_interactions(conn, records, users={k: str(v) for k, v in users.items()}, now=now)
        conn.execute("ANALYZE")
    return {"developer": developer, "skill": str(skill), "credentials": credentials}


def timed(fn: Callable[[], None], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    base = server_url()
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    owner_url = make_conninfo(base, dbname=DATABASE)
    try:
        migrate.upgrade(owner_url, binding_key=BINDING_KEY)
        started = time.perf_counter()
        world = seed(owner_url, args.interactions)
        print(f"seeded {args.interactions} interactions in {time.perf_counter() - started:.1f} s")
        app_url = make_conninfo(owner_url, user=migrate.APP_ROLE)
        db = PooledDatabase(app_url, min_size=2, max_size=2, binding_key=BINDING_KEY)
        db.open(wait=True)
        app = create_app(
            {
                "DATABASE": db,
                "DATABASE_URL": owner_url,
                "RATELIMIT_ENABLED": False,
                "SECRET_KEY": SECRET_KEY,
                "PSEUDONYM_KEYS": "k1:" + "ab" * 32,
                "DATA_DIR": tempfile.mkdtemp(),
            }
        )
        client = app.test_client()
        creds = world["credentials"]
        token = client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(creds.client_id, creds.client_secret),
        ).get_json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        page_path = f"/v1/skills/{world['skill']}/interactions?limit=50"
        first = client.get(page_path, headers=headers).get_json()["interactions"]
        detail_path = f"/v1/skills/{world['skill']}/interactions/{first[0]['id']}"
        principal = Principal(
            "developer", client_id=creds.client_id, developer_id=world["developer"]
        )

        policy = get_policy("standard")

        def sql_page() -> None:
            with db.transaction(principal) as conn:
                interactions_repo.list_readable(
                    conn,
                    developer_id=world["developer"],
                    skill_id=world["skill"],
                    not_before=datetime.now(UTC) - timedelta(days=30),
                    policy=policy.name,
                    version=redaction.form_version(policy),
                    filters=InteractionFilter(),
                    after=None,
                    limit=51,
                )

        def http(path: str) -> Callable[[], None]:
            def call() -> None:
                response = client.get(path, headers=headers)
                assert response.status_code == 200, response.get_json()

            return call

        cases = {
            "SQL: one page of 50 (baseline)": sql_page,
            "HTTP: list, page of 50": http(page_path),
            "HTTP: one interaction": http(detail_path),
            "HTTP: /healthz": http("/healthz"),
        }
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.rounds // 20):  # interleaved, so drift hits every case alike
            for name, fn in cases.items():
                samples[name] += timed(fn, 20)
        baseline = statistics.median(samples["SQL: one page of 50 (baseline)"])
        print(f"\n{'case':36} {'median ms':>10} {'p95 ms':>8} {'× baseline':>11}")
        for name, values in samples.items():
            median = statistics.median(values)
            p95 = statistics.quantiles(values, n=20)[18]
            print(f"{name:36} {median:10.2f} {p95:8.2f} {median / baseline:11.2f}")
        db.close()
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
            )


if __name__ == "__main__":
    main()
