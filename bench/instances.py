"""The developer page of 50 from one gateway instance against two on the same PostgreSQL.

    python bench/instances.py [--database-url URL] [--interactions 10000] [--rounds 3]
                              [--seconds 10] [--connections 16] [--workers 4]
                              [--load wrk|python]

In one run, on the PostgreSQL server at --database-url (default the local one), with the
pieces of bench/read_vs_bare.py:

1. creates a database of its own (dropped at the end, also on Ctrl-C), migrates it and seeds
   --interactions interactions of one skill through the write path, as read_vs_bare does;
2. starts two gunicorn servers of the gateway from its real app factory with the same options
   (--workers sync workers each, no access log, each its own pool and in-memory limiter
   storage, the developer's rate limit raised so nothing is throttled): two instances;
3. mints one developer token (both instances accept it: the token lives in the database) and
   checks both serve the same 50 ids;
4. alternates, after an uncounted warm-up, rounds of `one` (all --connections on instance A)
   and `two` (half the connections on A and half on B, at the same time), --seconds each;
5. prints per round and as medians over rounds: pages/s (for two, the sum of both), p50 and
   p99, and the ratio two/one of pages/s.

For `two`, wrk reports each instance's percentiles apart, not one merged histogram: the p50
shown is the mean of the two weighted by pages served, the p99 the higher of the two.

Both instances and the load generator share this machine's CPUs with PostgreSQL: a second
instance adds workers, not cores, so on a small machine it cannot double throughput. The
figure says what a second instance buys where the first is not the only thing busy.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

import read_vs_bare as bench  # noqa: E402 - the bench folder is not a package

ROOT = bench.ROOT


def drive_split(
    servers: list[bench.Server], seconds: int, connections: int, script: Path | None
) -> bench.Result:
    """Load `servers` at the same time, `connections` split evenly; one combined result."""
    shares = [
        connections // len(servers) + (i < connections % len(servers)) for i in range(len(servers))
    ]
    with ThreadPoolExecutor(len(servers)) as pool:
        results = list(
            pool.map(
                lambda pair: bench.drive(pair[0], seconds, pair[1], script),
                zip(servers, shares, strict=True),
            )
        )
    requests = sum(r.requests for r in results)
    return bench.Result(
        requests,
        max(r.seconds for r in results),
        sum(r.p50_ms * r.requests for r in results) / max(requests, 1),
        max(r.p99_ms for r in results),
        sum(r.errors for r in results),
    )


def _row(values: list[bench.Result]) -> str:
    return (
        f"{statistics.median(r.rate for r in values):9.1f} "
        f"{statistics.median(r.p50_ms for r in values):8.1f} "
        f"{statistics.median(r.p99_ms for r in values):8.1f} "
        f"{sum(r.errors for r in values):7d}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server and a role that may create databases",
    )
    parser.add_argument("--interactions", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="counted rounds of each setup")
    parser.add_argument("--seconds", type=int, default=10, help="per setup per round")
    parser.add_argument("--warmup", type=int, default=3, help="uncounted seconds per instance")
    parser.add_argument("--connections", type=int, default=16, help="in all, split for two")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers per instance")
    parser.add_argument("--load", choices=["wrk", "python"], default=None, help="default: wrk")
    args = parser.parse_args()
    if args.interactions < bench.PAGE or args.rounds < 1 or args.seconds < 1:
        parser.error(
            f"--interactions must be at least {bench.PAGE}; --rounds, --seconds at least 1"
        )
    if args.connections < 2:
        parser.error("--connections must be at least 2: two instances get one each")
    load = args.load or ("wrk" if shutil.which("wrk") else "python")
    if load == "wrk" and not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian: apt-get install -y wrk); or use --load python")

    from gateway import migrate

    database = f"gateway_bench_instances_{os.getpid()}"
    base = args.database_url
    owner_url = make_conninfo(base, dbname=database)
    folder = Path(tempfile.mkdtemp(prefix="gateway-instances-"))
    servers: list[bench.Server] = []
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    try:
        print(f"code: {bench.checkout()}")
        key = bench.binding_key()
        if key is None:
            migrate.upgrade(owner_url)
        else:
            migrate.upgrade(owner_url, binding_key=key)
        began = time.perf_counter()
        world = bench.seed(owner_url, args.interactions)
        print(
            f"loaded {args.interactions} interactions in {time.perf_counter() - began:.0f} s "
            f"via {world.write_path}"
        )
        env = bench._clean_env()
        for name in ("a", "b"):
            servers.append(
                bench.start_server(
                    name,
                    "gateway:create_app()",
                    {
                        **env,
                        "GATEWAY_DATABASE_URL": make_conninfo(
                            owner_url, application_name=bench.application_name(name)
                        ),
                        "GATEWAY_DATA_DIR": str(folder / "instance"),
                        "GATEWAY_SECRET_KEY": bench.SECRET_KEY,
                        "GATEWAY_PSEUDONYM_KEYS": "k1:" + "ab" * 32,
                        "GATEWAY_RATELIMIT_STORAGE_URI": "memory://",
                    },
                    workers=args.workers,
                    code=ROOT,
                    folder=folder,
                )
            )
        for server in servers:
            bench.wait_ready(server, "/healthz")
        authorization = "Bearer " + bench.mint_token(
            servers[0].port, world.client_id, world.client_secret
        )
        for server in servers:
            server.path = f"/v1/skills/{world.skill_id}/interactions?limit={bench.PAGE}"
            server.authorization = authorization
        ids = [bench.page_ids(server) for server in servers]
        if len(ids[0]) != bench.PAGE or ids[0] != ids[1]:
            sys.exit(f"the instances disagree: {len(ids[0])} and {len(ids[1])} rows")
        print(f"both instances serve the same {bench.PAGE} ids")

        script: Path | None = None
        if load == "wrk":
            script = folder / "report.lua"
            script.write_text(bench.WRK_SCRIPT % bench.MARKER)
            version = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
            generator = (version.stdout or version.stderr).splitlines()[0]
        else:
            generator = "Python asyncio load generator (wrk not used)"
        print(
            f"load: {generator}; {args.connections} connections in all, {args.workers} sync "
            f"workers per instance, {args.rounds} rounds × {args.seconds} s per setup, "
            f"alternating; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
        )
        for server in servers:
            if args.warmup > 0:
                bench.drive(server, args.warmup, args.connections, script)

        setups = {"one": servers[:1], "two": servers}
        results: dict[str, list[bench.Result]] = {name: [] for name in setups}
        columns = f"{'pages/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
        print(f"\n{'round':>5} {'setup':6} {columns}")
        for number in range(1, args.rounds + 1):
            for name, group in setups.items():
                result = drive_split(group, args.seconds, args.connections, script)
                results[name].append(result)
                print(f"{number:5d} {name:6} {_row([result])}")
        print(f"\nmedian over {args.rounds} rounds ({args.workers} workers per instance)")
        print(f"{'setup':6} {columns}")
        for name, values in results.items():
            print(f"{name:6} {_row(values)}")
        rates = [b.rate / a.rate for a, b in zip(results["one"], results["two"], strict=True)]
        print(
            f"two/one pages/s: {statistics.median(rates):.3f} "
            f"(per round: {', '.join(f'{r:.3f}' for r in rates)})"
        )
        if any(r.errors for values in results.values() for r in values):
            print(f"WARNING: some requests failed: see the logs in {folder}")
    finally:
        for server in servers:
            bench.stop_server(server)
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; servers stopped, database dropped")
