"""Soak: an hour's worth of mixed traffic against the real server, memory per worker over time.

    python bench/soak.py [--minutes 60] [--rate 10] [--concurrency 4] [--workers 2]
                         [--samples 12] [--interactions 5000]

Bounded and loopback only. The run is a fixed number of requests, --minutes × 60 × --rate (an
hour at 10 requests a second: 36,000), sent as fast as the machine allows from --concurrency
client threads, so an hour-equivalent takes minutes. Seeds a throw-away database as
bench/load.py does (GATEWAY_BENCH_DATABASE_URL, default the local server at 127.0.0.1:5432),
starts `skillgw serve` on a free port of 127.0.0.1 with its default rate-limit storage (the
gateway's PostgreSQL) and drives a mix that touches every layer:

    55%  GET /v1/skills/{id}/interactions?limit=50   the read path (access log, audit row)
    20%  GET /v1/skills/{id}/interactions/{id}       one interaction
    10%  GET /v1/skills
     5%  POST /oauth/token                            a token issued (row + audit row)
     5%  POST /v1/ingest/interactions                 one new interaction, redacted on write
     5%  GET /healthz

--samples times during the run (and once after warm-up) it reads each gunicorn worker's resident
memory (RSS, from /proc), the app role's connections in pg_stat_activity and the latency of the
segment. It prints a table and, per worker, the growth from the first sample to the last. A
worker that gunicorn replaced (a crash, a timeout) shows as a new pid. Drops the database and
stops the server at the end, also on Ctrl-C.
"""

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import DictRow, dict_row

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import (  # noqa: E402
    HOST,
    free_port,
    grant_bench_tier,
    mint_token,
    request,
    start_server,
    stop_server,
    wait_ready,
)
from read_path import BINDING_KEY, seed, server_url  # noqa: E402

from gateway.db import bind_principal, use_binding_key  # noqa: E402
from gateway.models import SYSTEM  # noqa: E402
from gateway.services import audit  # noqa: E402
from gateway.services import oauth_clients as oauth_clients_service  # noqa: E402

DATABASE = "gateway_bench_soak"
# one in 20 requests: (weight, kind)
MIX = [(11, "page"), (4, "one"), (2, "skills"), (1, "token"), (1, "ingest"), (1, "healthz")]
PLAN = [kind for weight, kind in MIX for _ in range(weight)]
# what one request of the mix sends: method, path, headers and body
Call = tuple[str, str, dict[str, str], str | None]

_APP_CONNECTIONS = """
SELECT count(*) AS n,
       -- a request's transaction between two statements is idle for a moment; a stuck one
       -- stays so
       count(*) FILTER (WHERE state LIKE 'idle in transaction%%'
                        AND now() - state_change > interval '5 seconds') AS idle_in_transaction
FROM pg_stat_activity WHERE datname = %s AND usename = 'gateway_app'
"""


def platform_client(owner_url: str) -> oauth_clients_service.IssuedClient:
    with psycopg.connect(owner_url, autocommit=True, row_factory=dict_row) as conn:
        use_binding_key(conn, BINDING_KEY)
        with conn.transaction():
            bind_principal(conn, SYSTEM)
            return oauth_clients_service.register_client(conn, actor=audit.SYSTEM, kind="platform")


def worker_rss(master: int) -> dict[int, float]:
    """Resident memory (MiB) of each gunicorn worker of the server whose master is `master`."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    rss = {}
    for pid in map(int, children):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            continue  # gone between the two reads
        kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
        rss[pid] = int(kib) / 1024
    return rss


class Driver:
    """Client threads taking request numbers from one counter until `total` are sent."""

    def __init__(
        self, port: int, total: int, calls: dict[str, Callable[[str], Call]], name: str
    ) -> None:
        self.name = name
        self.port = port
        self.total = total
        self.calls = calls
        self.sent = 0
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}

    def next_number(self) -> int | None:
        with self.lock:
            if self.sent >= self.total:
                return None
            self.sent += 1
            return self.sent

    def run(self) -> None:
        while (number := self.next_number()) is not None:
            kind = PLAN[number % len(PLAN)]
            method, path, headers, body = self.calls[kind](f"{self.name}-{number}")
            started = time.perf_counter()
            try:
                status, _ = request(self.port, method, path, headers, body)
            except OSError:
                status = 0
            elapsed = (time.perf_counter() - started) * 1000
            with self.lock:
                self.latencies.append(elapsed)
                self.statuses[status] = self.statuses.get(status, 0) + 1

    def take_latencies(self) -> list[float]:
        with self.lock:
            taken, self.latencies = self.latencies, []
            return taken


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="traffic to send, in minutes")
    parser.add_argument("--rate", type=float, default=10.0, help="requests/s the minutes stand for")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--samples", type=int, default=12, help="memory samples during the run")
    parser.add_argument("--interactions", type=int, default=5000, help="seeded interactions")
    args = parser.parse_args()
    total = int(args.minutes * 60 * args.rate)
    if not (1 <= total <= 2_000_000 and 1 <= args.concurrency <= 64 and args.samples >= 2):
        parser.error("--minutes × 60 × --rate must be in [1, 2,000,000] requests")

    base = server_url()
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    owner_url = make_conninfo(base, dbname=DATABASE)
    folder = Path(tempfile.mkdtemp(prefix="gateway-soak-"))
    server = None
    try:
        from gateway import migrate

        migrate.upgrade(owner_url, binding_key=BINDING_KEY)
        world = seed(owner_url, args.interactions)
        grant_bench_tier(owner_url, world["developer"])
        platform = platform_client(owner_url)
        with psycopg.connect(owner_url) as conn:
            row = conn.execute("SELECT platform_user_id FROM users LIMIT 1").fetchone()
            assert row is not None
            platform_user = row[0]

        port = free_port()
        server = start_server(owner_url, port, args.workers, folder)
        wait_ready(server, port, folder)
        creds = world["credentials"]
        reader = {
            "Authorization": f"Bearer {mint_token(port, creds.client_id, creds.client_secret)}"
        }
        platform_token = mint_token(port, platform.client_id, platform.client_secret)
        ingester = {
            "Authorization": f"Bearer {platform_token}",
            "Content-Type": "application/json",
        }
        skill = world["skill"]
        status, body = request(port, "GET", f"/v1/skills/{skill}/interactions?limit=50", reader)
        if status != 200:
            sys.exit(f"read path failed: {status} {body[:300]!r}")
        first = json.loads(body)["interactions"][0]["id"]
        token_form = (
            f"grant_type=client_credentials&client_id={creds.client_id}"
            f"&client_secret={creds.client_secret}"
        )

        def ingest(n: str) -> Call:
            record = {
                "interaction_id": f"soak-{n}",
                "skill_id": skill,
                "user_id": platform_user,
                "occurred_at": datetime.now(UTC).isoformat(),
                "utterance": f"reorder the usual for order {n}, call me on 555 0100",
                "response": "Done.",
                "intent": "Reorder",
                "outcome": "success",
            }
            return (
                "POST",
                "/v1/ingest/interactions",
                ingester,
                json.dumps({"interactions": [record]}),
            )

        calls: dict[str, Callable[[str], Call]] = {
            "page": lambda n: ("GET", f"/v1/skills/{skill}/interactions?limit=50", reader, None),
            "one": lambda n: ("GET", f"/v1/skills/{skill}/interactions/{first}", reader, None),
            "skills": lambda n: ("GET", "/v1/skills", reader, None),
            "token": lambda n: (
                "POST",
                "/oauth/token",
                {"Content-Type": "application/x-www-form-urlencoded"},
                token_form,
            ),
            "ingest": ingest,
            "healthz": lambda n: ("GET", "/healthz", {}, None),
        }

        # warm-up: every worker imports, connects and fills its caches before the first sample
        warm = Driver(port, 40 * args.workers, calls, "warm")
        warm.run()
        driver = Driver(port, total, calls, "run")
        print(
            f"{total} requests ({args.minutes:g} min at {args.rate:g}/s), "
            f"{args.concurrency} clients, {args.workers} workers, server on {HOST}:{port}"
        )
        threads = [
            threading.Thread(target=driver.run, daemon=True) for _ in range(args.concurrency)
        ]
        began = time.monotonic()
        samples: list[tuple[int, float, dict[int, float], DictRow, float, float]] = []

        def sample() -> None:
            with psycopg.connect(owner_url, row_factory=dict_row) as conn:
                connections = conn.execute(_APP_CONNECTIONS, (DATABASE,)).fetchone()
            assert connections is not None
            latencies = driver.take_latencies()
            samples.append(
                (
                    driver.sent,
                    time.monotonic() - began,
                    worker_rss(server.pid),
                    connections,
                    statistics.median(latencies) if latencies else 0.0,
                    percentile(latencies, 0.99),
                )
            )

        sample()
        for thread in threads:
            thread.start()
        step = total / args.samples
        for k in range(1, args.samples + 1):
            while driver.sent < min(total, int(k * step)) and any(t.is_alive() for t in threads):
                time.sleep(0.05)
            if k == args.samples:
                for thread in threads:
                    thread.join()
            sample()

        pids = sorted({pid for s in samples for pid in s[2]})
        print(
            f"\n{'requests':>9} {'equiv min':>9} {'real s':>7} "
            + " ".join(f"{'rss ' + str(pid) + ' MiB':>15}" for pid in pids)
            + f" {'app conns':>9} {'idle tx>5s':>10} {'p50 ms':>7} {'p99 ms':>7}"
        )
        for sent, real, rss, conns, p50, p99 in samples:
            cells = " ".join(f"{rss[pid]:15.2f}" if pid in rss else f"{'-':>15}" for pid in pids)
            print(
                f"{sent:9d} {sent / args.rate / 60:9.1f} {real:7.1f} {cells} "
                f"{conns['n']:9d} {conns['idle_in_transaction']:10d} {p50:7.2f} {p99:7.2f}"
            )
        print()
        # growth over the run: from the sample after warm-up, and from the end of the first
        # segment (by then every code path has run and every cache is filled)
        for pid in pids:
            if any(pid not in s[2] for s in samples):
                print(f"worker {pid}: not alive for the whole run (replaced by gunicorn)")
                continue
            mib = [s[2][pid] for s in samples]
            print(
                f"worker {pid}: {mib[0]:.2f} MiB after warm-up, {mib[1]:.2f} after the first "
                f"segment, {mib[-1]:.2f} at the end: {(mib[-1] - mib[0]) / mib[0] * 100:+.1f}% "
                f"overall, {(mib[-1] - mib[1]) / mib[1] * 100:+.1f}% after the first segment"
            )
        errors = {s: n for s, n in driver.statuses.items() if s != 200}
        seconds = samples[-1][1]
        print(
            f"\n{driver.sent} requests in {seconds:.1f} s ({driver.sent / seconds:.0f}/s); "
            f"statuses other than 200: {errors or 'none'}"
        )
    finally:
        if server is not None:
            stop_server(server)
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
            )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; server stopped, database dropped")
