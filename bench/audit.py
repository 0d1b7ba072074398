"""What audit writes cost a read-heavy load: read requests with and without the audit call.

    python bench/audit.py [--interactions 3000] [--rounds 400] [--threads 4] [--seconds 8]

Seeds a throw-away database (GATEWAY_BENCH_DATABASE_URL, default the local server at
127.0.0.1:5432, else an embedded PostgreSQL) through the platform's ingest path, then, in the
same run and interleaved batch by batch so drift hits both alike:
- one developer read (a page of 50, one interaction) over the whole stack with the audit call
  on, and with `services.audit.record` replaced by a no-op (everything else identical: the
  access log, the pseudonyms, the redacted forms);
- the same list read from several threads at once, each with its own pooled connection, with
  audit on and off: if writers serialised on a lock, throughput would collapse with audit on;
- one audit INSERT on its own, and the sealer's rate (events sealed per second).
Prints medians, p95, and the on/off ratio and difference; compare ratios, machines are noisy.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway import create_app, migrate  # noqa: E402
from gateway.binding import derive_binding_key  # noqa: E402
from gateway.db import PooledDatabase, bind_principal, use_binding_key  # noqa: E402
from gateway.models import SYSTEM, Principal  # noqa: E402
from gateway.repositories import consents as consents_repo  # noqa: E402
from gateway.services import audit, developers, ingest, oauth_clients  # noqa: E402

# one per run: two runs on one server (a test beside a bench) must not drop each other's
DATABASE = f"gateway_bench_audit_{os.getpid()}"
SECRET_KEY = "bench"
# installed with the schema, as `skillgw db upgrade` does: the database takes the seed's
# privileged writes (developers, tiers, backdated consents) only from a proven SYSTEM caller,
# and the app's reads write their access log only as a proven developer
BINDING_KEY = derive_binding_key(SECRET_KEY)
UTTERANCES = [
    "order two large pepperoni pizzas to {n} elm street and call me at five five five {d}",
    "my email is jane.doe{d}@example.com send the receipt there",
    "what is the status of order 8F3K{n}",
    "add a garlic bread and a large coke to my order",
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


def seed(owner_url: str, n_interactions: int) -> dict[str, Any]:
    rng = random.Random(7)
    now = datetime.now(UTC)
    with psycopg.connect(owner_url, autocommit=True, row_factory=dict_row) as conn:
        use_binding_key(conn, BINDING_KEY)
        with conn.transaction():
            bind_principal(conn, SYSTEM)
            developer = developers.register_developer(conn, actor=audit.SYSTEM, name="Bench")
            developers.grant_tier(
                conn, actor=audit.SYSTEM, developer_id=developer, tier="trusted", reason="bench"
            )
            row = conn.execute(
                "INSERT INTO skills (developer_id, name) VALUES (%s, 'Bench Pizza') RETURNING id",
                (developer,),
            ).fetchone()
            assert row is not None
            skill = row["id"]
            users = ingest.ingest_users(conn, [{"platform_user_id": f"u{i}"} for i in range(500)])
            # consents are history: one open period per user, as the repository writes it;
            # granted before every interaction (only the proven SYSTEM caller may backdate)
            for user in users:
                consents_repo.insert_consent(
                    conn,
                    user_id=str(user["id"]),
                    skill_id=str(skill),
                    granted_at=now - timedelta(days=400),
                )
            credentials = oauth_clients.register_client(
                conn, actor=audit.SYSTEM, kind="developer", developer_id=developer
            )
        for start in range(0, n_interactions, ingest.MAX_BATCH):
            records = [
                {
                    "interaction_id": f"bench-{i}",
                    "skill_id": skill,
                    "user_id": f"u{rng.randrange(500)}",
                    "session_id": f"s{i // 4}",
                    "occurred_at": now - timedelta(seconds=rng.randint(60, 60 * 86400)),
                    "utterance": rng.choice(UTTERANCES).format(
                        n=rng.randint(1, 99), d=rng.randint(1000, 9999)
                    ),
                    "response": "Sure, I have placed that for you.",
                    "intent": rng.choice(["OrderPizza", "TrackOrder", "AddItem"]),
                    "slots": [],
                    "outcome": rng.choice(["success", "failure"]),
                    "order_ref": f"R{i}",
                    "sensitive_category": None,
                    "device_serial": "",
                }
                for i in range(start, min(start + ingest.MAX_BATCH, n_interactions))
            ]
            with conn.transaction():
                bind_principal(conn, SYSTEM)
                ingest.ingest_interactions(conn, records, now=now)
        conn.execute("ANALYZE")
    return {"developer": developer, "skill": str(skill), "credentials": credentials}


@contextmanager
def audit_off() -> Iterator[None]:
    """Replace the audit call by a no-op, everything else unchanged."""
    real = audit.record
    audit.record = lambda *args, **kwargs: None
    try:
        yield
    finally:
        audit.record = real


def timed(fn: Callable[[], None], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def throughput(
    app: Flask, headers: dict[str, str], path: str, threads: int, seconds: float
) -> tuple[float, float, float]:
    """Requests per second and latencies of `threads` clients reading `path` for `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    stop = time.perf_counter() + seconds

    def run(slot: int) -> None:
        client = app.test_client()
        while time.perf_counter() < stop:
            start = time.perf_counter()
            response = client.get(path, headers=headers)
            assert response.status_code == 200, response.get_json()
            latencies[slot].append((time.perf_counter() - start) * 1000)

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    merged = [value for values in latencies for value in values]
    return len(merged) / seconds, statistics.median(merged), p95(merged)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--interactions", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()

    base = server_url()
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(drop)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    owner_url = make_conninfo(base, dbname=DATABASE)
    try:
        migrate.upgrade(owner_url, binding_key=BINDING_KEY)
        started = time.perf_counter()
        world = seed(owner_url, args.interactions)
        print(f"seeded {args.interactions} interactions in {time.perf_counter() - started:.1f} s")
        db = PooledDatabase(
            make_conninfo(owner_url, user=migrate.APP_ROLE),
            min_size=args.threads,
            max_size=args.threads,
            binding_key=BINDING_KEY,
        )
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
        page = f"/v1/skills/{world['skill']}/interactions?limit=50"
        first = client.get(page, headers=headers).get_json()["interactions"]
        detail = f"/v1/skills/{world['skill']}/interactions/{first[0]['id']}"

        def http(path: str) -> Callable[[], None]:
            def call() -> None:
                response = client.get(path, headers=headers)
                assert response.status_code == 200, response.get_json()

            return call

        reader = Principal("developer", client_id=creds.client_id, developer_id=world["developer"])

        def record_in_a_transaction() -> float:
            # what the read path adds: one INSERT inside its existing transaction (as the
            # developer, through its row-level security check), no commit of its own
            with db.transaction(reader) as conn:
                start = time.perf_counter()
                audit.record(
                    conn,
                    actor=audit.Actor.client(creds.client_id),
                    action="transcripts.read",
                    developer_id=world["developer"],
                    skill_id=world["skill"],
                    details={"endpoint": "list", "interactions": 50},
                )
                return (time.perf_counter() - start) * 1000

        for _ in range(50):  # warm both paths, the pool and the plan caches
            http(page)()
            with audit_off():
                http(page)()
        cases = {"list, page of 50": http(page), "one interaction": http(detail)}
        samples: dict[str, dict[str, list[float]]] = {name: {"on": [], "off": []} for name in cases}
        # paired and alternating (on, off, then off, on): load from elsewhere hits both alike
        for number in range(args.rounds):
            for name, fn in cases.items():
                for state in ("on", "off") if number % 2 else ("off", "on"):
                    if state == "on":
                        samples[name][state] += timed(fn, 1)
                    else:
                        with audit_off():
                            samples[name][state] += timed(fn, 1)
        inserts = [record_in_a_transaction() for _ in range(args.rounds)]

        print(f"\nsingle client, {args.rounds} requests each, paired and alternating")
        print(f"{'read':18} {'off ms':>8} {'on ms':>8} {'on/off':>7} {'paired +ms':>11}")
        for name, by_state in samples.items():
            on, off = statistics.median(by_state["on"]), statistics.median(by_state["off"])
            paired = statistics.median(
                a - b for a, b in zip(by_state["on"], by_state["off"], strict=True)
            )
            print(f"{name:18} {off:8.2f} {on:8.2f} {on / off:7.3f} {paired:+11.2f}")
        print(
            f"{'audit.record alone':18} {statistics.median(inserts):8.2f} ms median, "
            f"{p95(inserts):.2f} ms p95 (inside a transaction, as on the read path)"
        )

        print(f"\n{args.threads} clients at once, list page of 50, {args.seconds:.0f} s per state")
        print("(alternating on and off in 1 s phases, so load from elsewhere hits both alike)")
        totals = {"on": [0.0, []], "off": [0.0, []]}  # type: dict[str, list[Any]]
        phases = max(2, int(args.seconds))
        for number in range(2 * phases):
            state = ("on", "off")[(number + number // 2) % 2]
            if state == "off":
                with audit_off():
                    rate, median, tail = throughput(app, headers, page, args.threads, 1.0)
            else:
                rate, median, tail = throughput(app, headers, page, args.threads, 1.0)
            totals[state][0] += rate / phases
            totals[state][1].append(median)
        print(f"{'audit':>5} {'req/s':>8} {'median ms':>10}")
        for state in ("off", "on"):
            print(f"{state:>5} {totals[state][0]:8.1f} {statistics.median(totals[state][1]):10.2f}")
        print(f"{'on/off throughput':>17} {totals['on'][0] / totals['off'][0]:.3f}")

        print(f"\n{args.threads} writers at once, each event its own committed transaction")

        def write_loop(naive: bool, seconds: float) -> float:
            counts = [0] * args.threads
            stop = time.perf_counter() + seconds

            def run(slot: int) -> None:
                while time.perf_counter() < stop:
                    with db.transaction(SYSTEM) as conn:
                        if naive:
                            # chaining at insert time: every writer waits for the chain head
                            conn.execute("SELECT pg_advisory_xact_lock(hashtext('bench.head'))")
                            conn.execute(
                                "SELECT seq, row_hash FROM audit_events WHERE seq IS NOT NULL "
                                "ORDER BY seq DESC LIMIT 1"
                            )
                        audit.record(conn, actor=audit.SYSTEM, action="tier.changed")
                    counts[slot] += 1

            workers = [threading.Thread(target=run, args=(n,)) for n in range(args.threads)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            return sum(counts) / seconds

        rates = {"no lock (this design)": 0.0, "a lock per insert": 0.0}
        for number in range(phases):
            for naive in (False, True) if number % 2 else (True, False):
                name = "a lock per insert" if naive else "no lock (this design)"
                rates[name] += write_loop(naive, 1.0) / phases
        for name, rate in rates.items():
            print(f"{name:24} {rate:8.0f} events/s")

        with db.transaction(SYSTEM) as conn:
            lag = audit.lag(conn)
        start = time.perf_counter()
        sealed = 0
        while True:
            with db.transaction(SYSTEM) as conn:
                batch = audit.seal(conn)
            sealed += batch
            if batch < audit.SEAL_BATCH:
                break
        elapsed = time.perf_counter() - start
        with db.transaction(SYSTEM) as conn:
            verdict = audit.verify_audit_chain(conn, seal_first=False)
        print(
            f"\nsealer: {sealed} events (lag was {lag}) in {elapsed * 1000:.0f} ms = "
            f"{sealed / elapsed:,.0f} events/s; chain {'OK' if verdict.ok else 'BROKEN'} "
            f"({verdict.rows} rows)"
        )
        db.close()
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(drop)


if __name__ == "__main__":
    main()
