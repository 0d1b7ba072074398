"""Load benchmark of the real server (`skillgw serve`, gunicorn) over loopback HTTP.

    python bench/load.py [--seconds 10] [--concurrency 8] [--workers 2] [--interactions 50000]

Seeds a throw-away database the way bench/read_path.py does (on GATEWAY_BENCH_DATABASE_URL,
default the local server at 127.0.0.1:5432, else an embedded PostgreSQL), with the developer on
a 'bench' tier whose rate limit nothing here can reach. Starts `skillgw serve` on a free port
of 127.0.0.1, mints a token through /oauth/token, then drives four cases from --concurrency
client processes, each looping on one HTTP connection (gunicorn's sync workers close it after
every response, so http.client reconnects; a loopback connect is part of each sample):

    GET /healthz                                      baseline: no database, no token
    GET /v1/skills                                    token check, tier, one tiny query
    GET /v1/skills/{id}/interactions?limit=50         the read path: rules, redaction, access log
    GET /v1/skills/{id}/interactions/{interaction}    one interaction

Cases run interleaved in --slice second slices, --seconds in all per case, so drift on a noisy
machine hits every case alike. Prints requests/s, p50/p95/p99 latency, errors (any status but
200, or a failed connection) and each case's throughput relative to the baseline in this run.
The client processes share the CPUs with the server: compare ratios, not absolute numbers.
Stops the server and drops the database at the end, also on Ctrl-C.
"""

import argparse
import base64
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

sys.path.insert(0, str(Path(__file__).resolve().parent))

from read_path import BINDING_KEY, SECRET_KEY, seed, server_url  # noqa: E402

from gateway.db import bind_principal, use_binding_key  # noqa: E402
from gateway.models import SYSTEM  # noqa: E402

DATABASE = "gateway_bench_load"
HOST = "127.0.0.1"
# per client process and slice: keeps a run bounded in count as well as in time
MAX_REQUESTS_PER_SLICE = 100_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def grant_bench_tier(owner_url: str, developer_id: int) -> None:
    # the standard tier's view of the data, with a limit no run of this script can reach, so
    # the figures measure the server and not the 429 path
    with (
        psycopg.connect(owner_url, autocommit=True, row_factory=dict_row) as conn,
        conn.transaction(),
    ):
        use_binding_key(conn, BINDING_KEY)
        bind_principal(conn, SYSTEM)  # tier grants need a proven admin or system caller
        conn.execute(
            "INSERT INTO tiers (name, transcripts_readable, fields, retention_days, "
            "redaction_policy, page_size, rate_limit, k_threshold, description) "
            "SELECT 'bench', transcripts_readable, fields, retention_days, redaction_policy, "
            "page_size, '10000000 per minute', k_threshold, 'load benchmark' "
            "FROM tiers WHERE name = 'standard'"
        )
        conn.execute(
            "INSERT INTO tier_grants (developer_id, tier, reason, granted_by) "
            "VALUES (%s, 'bench', 'bench', 'bench')",
            (developer_id,),
        )


def start_server(owner_url: str, port: int, workers: int, folder: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "GATEWAY_DATABASE_URL": owner_url,
        "GATEWAY_DATA_DIR": str(folder),
        "GATEWAY_SECRET_KEY": SECRET_KEY,
        "GATEWAY_PSEUDONYM_KEYS": "k1:" + "ab" * 32,
        # the default storage (the gateway's PostgreSQL): what a server pays to count, with
        # limits nothing here reaches (memory:// is refused with more than one worker)
        "GATEWAY_TOKEN_RATE_LIMIT": "10000000 per minute",
        "GATEWAY_AUTH_FAILURE_RATE_LIMIT": "10000000 per minute",
        "GATEWAY_TOKEN_ADDRESS_RATE_LIMIT": "10000000 per minute",
    }
    skillgw = Path(sys.executable).parent / "skillgw"
    log = (folder / "server.log").open("wb")  # gunicorn's access log: one line per request
    return subprocess.Popen(
        [str(skillgw), "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # so Ctrl-C here reaches the server only through stop_server
    )


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def request(
    port: int, method: str, path: str, headers: dict[str, str], body: str | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_ready(server: subprocess.Popen[bytes], port: int, folder: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("the server exited:\n" + (folder / "server.log").read_text()[-3000:])
        try:
            if request(port, "GET", "/healthz", {})[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit("the server did not answer /healthz within 60 s")


def mint_token(port: int, client_id: str, client_secret: str) -> str:
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    status, body = request(
        port,
        "POST",
        "/oauth/token",
        {
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        "grant_type=client_credentials",
    )
    if status != 200:
        sys.exit(f"token request failed: {status} {body[:200]!r}")
    return str(json.loads(body)["access_token"])


def ignore_interrupts() -> None:
    # Ctrl-C reaches every client process too: let only the parent handle it, and clean up
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def drive(port: int, path: str, headers: dict[str, str], seconds: float) -> tuple[list[float], int]:
    """One client: request `path` until `seconds` pass; return latencies (ms) and errors."""
    latencies: list[float] = []
    errors = 0
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(latencies) < MAX_REQUESTS_PER_SLICE:
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()  # the next request opens a fresh connection
        latencies.append((time.perf_counter() - started) * 1000)
        errors += not ok
    conn.close()
    return latencies, errors


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per case, in all")
    parser.add_argument("--slice", type=float, default=2.0, help="seconds per interleaved slice")
    parser.add_argument("--concurrency", type=int, default=8, help="client processes")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--interactions", type=int, default=50_000)
    args = parser.parse_args()
    if not (0 < args.seconds <= 600 and 1 <= args.concurrency <= 64):
        parser.error("--seconds must be in (0, 600] and --concurrency in [1, 64]")

    base = server_url()
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    owner_url = make_conninfo(base, dbname=DATABASE)
    folder = Path(tempfile.mkdtemp(prefix="gateway-load-"))
    server = None
    try:
        from gateway import migrate

        migrate.upgrade(owner_url, binding_key=BINDING_KEY)
        started = time.perf_counter()
        world = seed(owner_url, args.interactions)
        grant_bench_tier(owner_url, world["developer"])
        print(f"seeded {args.interactions} interactions in {time.perf_counter() - started:.1f} s")

        port = free_port()
        server = start_server(owner_url, port, args.workers, folder)
        wait_ready(server, port, folder)
        creds = world["credentials"]
        headers = {
            "Authorization": f"Bearer {mint_token(port, creds.client_id, creds.client_secret)}"
        }
        page_path = f"/v1/skills/{world['skill']}/interactions?limit=50"
        status, body = request(port, "GET", page_path, headers)
        if status != 200:
            sys.exit(f"read path failed: {status} {body[:300]!r}")
        first = json.loads(body)["interactions"][0]["id"]
        cases = {
            "GET /healthz (baseline)": ("/healthz", {}),
            "GET /v1/skills": ("/v1/skills", headers),
            "GET interactions?limit=50": (page_path, headers),
            "GET one interaction": (f"/v1/skills/{world['skill']}/interactions/{first}", headers),
        }
        latencies: dict[str, list[float]] = {name: [] for name in cases}
        errors = dict.fromkeys(cases, 0)
        elapsed = dict.fromkeys(cases, 0.0)
        slices = max(1, round(args.seconds / args.slice))
        print(
            f"{args.concurrency} clients, {args.workers} workers, "
            f"{slices} × {args.seconds / slices:.1f} s per case, interleaved"
        )
        with ProcessPoolExecutor(args.concurrency, initializer=ignore_interrupts) as clients:
            for _ in range(slices):
                for name, (path, case_headers) in cases.items():
                    begun = time.perf_counter()
                    futures = [
                        clients.submit(drive, port, path, case_headers, args.seconds / slices)
                        for _ in range(args.concurrency)
                    ]
                    for future in futures:
                        values, failed = future.result()
                        latencies[name] += values
                        errors[name] += failed
                    elapsed[name] += time.perf_counter() - begun

        baseline = len(latencies["GET /healthz (baseline)"]) / elapsed["GET /healthz (baseline)"]
        print(
            f"\n{'case':28} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
            f"{'errors':>7} {'× baseline':>11}"
        )
        for name, values in latencies.items():
            rate = len(values) / elapsed[name]
            print(
                f"{name:28} {rate:8.0f} {statistics.median(values):8.2f} "
                f"{percentile(values, 0.95):8.2f} {percentile(values, 0.99):8.2f} "
                f"{errors[name]:7d} {rate / baseline:11.2f}"
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
