"""Webhook notices through the transactional outbox and `skillgw worker`, against bare signed
POSTs of the same notices with no database, in the same run.

    python bench/webhooks.py [--database-url URL] [--notices 7000] [--rounds 7] [--poll 1]
                             [--pace 0.5] [--timeout 120]

Creates its own database on the server at --database-url (default GATEWAY_BENCH_DATABASE_URL or
the local server at 127.0.0.1:5432, else an embedded PostgreSQL; dropped at the end, also on
Ctrl-C), migrated as the owner, with one developer whose webhook (registered through
services/webhooks, so its signing secret is sealed in the database) points at a receiver on
127.0.0.1: a process of its own (ThreadingHTTPServer) that verifies every request with the
published Standard Webhooks library before answering 204, and keeps each message id with the
time it arrived.

Then --rounds rounds of both sides (outbox first, then bare first, and so on), each side
--notices / (2 × --rounds) notices a round, every notice the same `interactions.deleted` (a
pseudonym, ten interaction ids, a deletion id: about 630 bytes of body on either side):

- outbox: `skillgw worker --poll P` runs in its own process, as the app role, with its own
  settings; this process queues the notices one committed transaction each, as a deletion
  queues them (services/webhooks.queue_notice through the app's pool), and the worker claims,
  unseals the secret, signs, posts and records them. Half the round's notices are queued
  before the worker starts: its delivery rate is taken over their arrivals, from the first to
  the last (a backlog drained, the worker's start-up not counted). The other half are queued
  while it runs, at --pace times that rate, a load it keeps up with: their latency runs from
  the commit that queued a notice to its verified arrival, and includes the worker's wait of
  up to --poll seconds whenever it found nothing due. After the worker is stopped, every
  notice must be `delivered` in the database, at its first attempt;
- bare: a plain loop that builds the same body, signs it with the same function
  (services/webhooks.sign, the standardwebhooks library) and POSTs it with http.client on a new
  connection, as the worker does; no database. Latency is one request's time, signing
  included; the rate is the notices over the loop's time.

Prints per round and as medians over the rounds: deliveries/s, p50 and p99 latency per side,
and the median of the rounds' ratios outbox/bare of deliveries/s. Exits non-zero unless every
request verified, no message id arrived twice and every notice sent arrived.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from read_path import server_url  # noqa: E402

from gateway import migrate  # noqa: E402
from gateway.binding import derive_binding_key  # noqa: E402
from gateway.db import PooledDatabase, bind_principal, use_binding_key  # noqa: E402
from gateway.models import SYSTEM  # noqa: E402
from gateway.repositories import developers as developers_repo  # noqa: E402
from gateway.services import webhooks as webhooks_service  # noqa: E402

SECRET_KEY = "bench-webhooks"
KEY = derive_binding_key(SECRET_KEY)
HOST = "127.0.0.1"
EVENT = "interactions.deleted"
IDS_PER_NOTICE = 10

Arrival = tuple[str, float, bool, int]  # webhook-id, monotonic time, verified, body bytes


def notice_data() -> dict[str, object]:
    """What one deletion notice carries: a pseudonym, ten interaction ids, the receipt's id."""
    return {
        "user": "k1_" + secrets.token_urlsafe(16),
        "interaction_ids": [str(uuid.uuid4()) for _ in range(IDS_PER_NOTICE)],
        "deletion_id": str(uuid.uuid4()),
    }


# --- the developer's endpoint, in a process of its own -------------------------------------


def receive(control: Connection) -> None:
    """Serve the webhook on 127.0.0.1 until told to stop; answer "take" with what arrived.

    Sends its port first, then waits for the signing secret (made when the webhook is
    registered at that port) before it serves. An arrival is verified when its signature checks
    out with the published library (which also refuses a stale timestamp) and its body names
    the same id as its webhook-id header. Arrival times are taken after verification, on the
    system's monotonic clock, so they compare with the bench process's own.
    """
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    arrivals: list[Arrival] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {k.lower(): v for k, v in self.headers.items()}
            message_id = headers.get("webhook-id", "")
            try:
                verified = hook.verify(body, headers)["id"] == message_id
            except WebhookVerificationError:
                verified = False
            arrived = time.monotonic()
            with lock:
                arrivals.append((message_id, arrived, verified, len(body)))
            self.send_response(204 if verified else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((HOST, 0), Handler)
    server.daemon_threads = True
    control.send(server.server_address[1])
    hook = Webhook(control.recv())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    while (message := control.recv()) != "stop":
        with lock:
            if message == "count":
                control.send(len(arrivals))
            else:
                control.send(arrivals)
                arrivals = []
    server.shutdown()
    server.server_close()


class Receiver:
    """The receiving process, seen from the bench."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")  # no copy of this process's threads
        self.control, theirs = context.Pipe()
        self.process = context.Process(target=receive, args=(theirs,), daemon=True)
        self.process.start()
        if not self.control.poll(60):
            sys.exit("the receiver did not start within 60 s")
        self.port = int(self.control.recv())
        self.url = f"http://{HOST}:{self.port}/hooks/gateway"

    def verify_with(self, secret: str) -> None:
        self.control.send(secret)

    def count(self) -> int:
        self.control.send("count")
        return int(self.control.recv())

    def take(self) -> list[Arrival]:
        self.control.send("take")
        return list(self.control.recv())

    def close(self) -> None:
        try:
            self.control.send("stop")
        except OSError:
            pass  # already gone (Ctrl-C reaches it too)
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


# --- the two sides --------------------------------------------------------------------------


@dataclass
class Result:
    """One side's round: its delivery rate, the latencies behind its p50 and p99, its bodies."""

    rate: float  # deliveries/s
    latencies: list[float]  # ms
    body_bytes: float
    pace: float = 0.0  # outbox: notices/s queued while its latencies were measured

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Failed(Exception):
    """A round that broke a promise: unverified, duplicated, lost or unrecorded notices."""


def check_arrivals(sent: dict[str, float], arrivals: list[Arrival], side: str) -> None:
    """Raise `Failed` unless each notice sent arrived exactly once, verified, and nothing else."""
    unverified = sum(1 for _, _, verified, _ in arrivals if not verified)
    ids = [message_id for message_id, _, _, _ in arrivals]
    duplicated = len(ids) - len(set(ids))
    missing = len(set(sent) - set(ids))
    unknown = len(set(ids) - set(sent))
    if unverified or duplicated or missing or unknown:
        raise Failed(
            f"{side}: {unverified} unverified, {duplicated} arrived twice, {missing} never "
            f"arrived, {unknown} not sent by this round"
        )


def start_worker(owner_url: str, folder: Path, poll: float) -> subprocess.Popen[bytes]:
    """`skillgw worker` with its own settings, once its delivery loop has started."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")},
        "GATEWAY_DATABASE_URL": owner_url,
        "GATEWAY_DATA_DIR": str(folder),
        "GATEWAY_SECRET_KEY": SECRET_KEY,
        "GATEWAY_PSEUDONYM_KEYS": "k1:" + "ab" * 32,
        "GATEWAY_WEBHOOK_ALLOW_LOOPBACK": "1",
    }
    log = folder / "worker.log"
    log.unlink(missing_ok=True)
    with log.open("ab") as out:  # what it prints, shown when it fails
        worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "skillgw"), "worker", "--poll", str(poll)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C here reaches it only through stop_worker
        )
    deadline = time.monotonic() + 60
    while b"Delivering webhook notices" not in log.read_bytes():
        if worker.poll() is not None or time.monotonic() > deadline:
            stop_worker(worker)
            sys.exit(f"the worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)
    return worker


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)  # finishes the batch in flight, then exits 0
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def queue(db: PooledDatabase, developer: int, n: int, *, interval: float) -> dict[str, float]:
    """Queue n notices, one committed transaction each, one every `interval` seconds (0: as
    fast as they commit); each id with the time its transaction committed."""
    sent: dict[str, float] = {}
    began = time.monotonic()
    for k in range(n):
        time.sleep(max(0.0, began + k * interval - time.monotonic()))
        with db.transaction(SYSTEM) as conn:
            message_id = webhooks_service.queue_notice(
                conn, developer_id=developer, event_type=EVENT, data=notice_data()
            )
        sent[message_id] = time.monotonic()  # committed: the notice exists
    return sent


def collect(
    receiver: Receiver, worker: subprocess.Popen[bytes], sent: dict[str, float], timeout: float
) -> list[Arrival]:
    """Wait until as many requests as notices `sent` arrived (or `timeout`); check them."""
    deadline = time.monotonic() + timeout
    while receiver.count() < len(sent) and time.monotonic() < deadline:
        if worker.poll() is not None:
            raise Failed(f"outbox: the worker exited ({worker.returncode})")
        time.sleep(0.01)
    arrivals = receiver.take()
    check_arrivals(sent, arrivals, "outbox")
    return arrivals


def outbox_round(
    db: PooledDatabase,
    owner_url: str,
    developer: int,
    receiver: Receiver,
    n: int,
    *,
    folder: Path,
    poll: float,
    pace: float,
    timeout: float,
) -> Result:
    """Half the notices queued before the worker starts, for the rate at which it drains a
    backlog; then half at `pace` × that rate, for the latency from commit to arrival."""
    backlog_sent = queue(db, developer, n // 2, interval=0.0)
    worker = start_worker(owner_url, folder, poll)
    try:
        backlog = sorted(
            arrived for _, arrived, _, _ in collect(receiver, worker, backlog_sent, timeout)
        )
        # from its first arrival to its last: the worker's start-up is not its delivery rate
        rate = (len(backlog) - 1) / (backlog[-1] - backlog[0])
        paced_sent = queue(db, developer, n - n // 2, interval=1 / (pace * rate))
        paced = collect(receiver, worker, paced_sent, timeout)
    finally:
        stop_worker(worker)
    if worker.returncode != 0:
        log = (folder / "worker.log").read_text()[-3000:]
        raise Failed(f"outbox: the worker exited {worker.returncode}, not 0:\n{log}")
    with psycopg.connect(owner_url, row_factory=dict_row) as conn:
        states = conn.execute(
            """
            SELECT status, attempts, count(*) AS n FROM webhook_deliveries
            WHERE id = ANY(%(ids)s) GROUP BY status, attempts
            """,
            {"ids": [*backlog_sent, *paced_sent]},
        ).fetchall()
    if [(s["status"], s["attempts"], s["n"]) for s in states] != [("delivered", 1, n)]:
        raise Failed(f"outbox: not every notice recorded delivered at its first attempt: {states}")
    return Result(
        rate,
        [(arrived - paced_sent[message_id]) * 1000 for message_id, arrived, _, _ in paced],
        statistics.fmean(size for _, _, _, size in paced),
        pace=len(paced_sent) / (max(paced_sent.values()) - min(paced_sent.values())),
    )


def bare_round(secret: str, receiver: Receiver, n: int) -> Result:
    """n notices built, signed and POSTed one after another, each on a new connection."""
    sent: dict[str, float] = {}
    latencies = []
    started = time.monotonic()
    for _ in range(n):
        begun = time.monotonic()
        message_id = "msg_" + secrets.token_hex(16)
        now = datetime.now(UTC)
        payload = {"type": EVENT, "data": notice_data(), "id": message_id}
        payload["created_at"] = now.isoformat()
        body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        headers = webhooks_service.sign(message_id, now, body, [secret])
        connection = http.client.HTTPConnection(HOST, receiver.port, timeout=5)
        try:
            connection.request("POST", "/hooks/gateway", body=body.encode(), headers=headers)
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        latencies.append((time.monotonic() - begun) * 1000)
        sent[message_id] = begun
        if response.status != 204:
            raise Failed(f"bare: the receiver answered {response.status}")
    seconds = time.monotonic() - started
    arrivals = receiver.take()
    check_arrivals(sent, arrivals, "bare")
    return Result(n / seconds, latencies, statistics.fmean(s for _, _, _, s in arrivals))


# --- set-up and the run ---------------------------------------------------------------------


def make_database(server: str) -> str:
    name = f"gateway_bench_webhooks_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_conninfo(server, dbname=name)
    migrate.upgrade(url, binding_key=KEY)
    return url


def drop_database(server: str, url: str) -> None:
    name = str(conninfo_to_dict(url)["dbname"])
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def register(owner_url: str, url: str) -> tuple[int, str]:
    """A developer with a webhook at `url`; its id and the signing secret (shown once)."""
    with psycopg.connect(owner_url, row_factory=dict_row) as conn:
        use_binding_key(conn, KEY)
        bind_principal(conn, SYSTEM)
        developer = developers_repo.insert_developer(conn, name="Bench Webhooks")
        registration = webhooks_service.register_webhook(
            conn, developer_id=developer, url=url, server_secret=SECRET_KEY, allow_loopback=True
        )
        conn.commit()
    assert registration.secret is not None
    return developer, registration.secret


def median_of(rounds: list[Result]) -> tuple[float, float, float]:
    """The medians over rounds of deliveries/s, p50 and p99."""
    return (
        statistics.median(r.rate for r in rounds),
        statistics.median(r.percentile(0.5) for r in rounds),
        statistics.median(r.percentile(0.99) for r in rounds),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a superuser URL (default: the local server)")
    parser.add_argument("--notices", type=int, default=7000, help="notices in all, both sides")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--poll", type=float, default=1.0, help="the worker's --poll (its default: 1 s)"
    )
    parser.add_argument(
        "--pace",
        type=float,
        default=0.5,
        help="the outbox's latency is measured at this fraction of its delivery rate",
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for a batch's notices"
    )
    args = parser.parse_args()
    if args.rounds < 1 or args.notices < 8 * args.rounds or not 0 < args.pace <= 1:
        parser.error("--rounds at least 1, --notices at least 8 × --rounds, --pace in (0, 1]")
    n = args.notices // (2 * args.rounds)

    base = args.database_url or server_url()
    owner_url = make_database(base)
    folder = Path(tempfile.mkdtemp(prefix="gateway-bench-webhooks-"))
    receiver = db = None
    try:
        receiver = Receiver()
        developer, secret = register(owner_url, receiver.url)
        receiver.verify_with(secret)
        db = PooledDatabase(
            make_conninfo(owner_url, user=migrate.APP_ROLE), max_size=1, binding_key=KEY
        )
        db.open(wait=True)
        print(
            f"{n} notices per side per round, {args.rounds} rounds; receiver {receiver.url}; "
            f"worker polling every {args.poll:g} s when idle"
        )
        outbox: list[Result] = []
        bare: list[Result] = []
        for k in range(args.rounds):
            if k % 2:  # alternate which side goes first, so neither always follows the other
                bare.append(bare_round(secret, receiver, n))
            outbox.append(
                outbox_round(
                    db,
                    owner_url,
                    developer,
                    receiver,
                    n,
                    folder=folder,
                    poll=args.poll,
                    pace=args.pace,
                    timeout=args.timeout,
                )
            )
            if not k % 2:
                bare.append(bare_round(secret, receiver, n))
            o, b = outbox[-1], bare[-1]
            print(
                f"round {k + 1}: outbox {o.rate:6.1f}/s, at {o.pace:5.1f}/s p50 "
                f"{o.percentile(0.5):6.1f} ms p99 {o.percentile(0.99):6.1f} ms | "
                f"bare {b.rate:6.1f}/s p50 {b.percentile(0.5):5.2f} ms "
                f"p99 {b.percentile(0.99):5.2f} ms | ratio {o.rate / b.rate:.3f}"
            )
        rate, p50, p99 = median_of(outbox)
        pace = statistics.median(r.pace for r in outbox)
        print(
            f"outbox: {rate:.1f} deliveries/s; queued at {pace:.1f}/s, commit to arrival "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
            f"{statistics.fmean(r.body_bytes for r in outbox):.0f}-byte bodies"
        )
        rate, p50, p99 = median_of(bare)
        print(
            f"bare:   {rate:.1f} deliveries/s; request p50 {p50:.2f} ms, p99 {p99:.2f} ms; "
            f"{statistics.fmean(r.body_bytes for r in bare):.0f}-byte bodies"
        )
        ratio = statistics.median(o.rate / b.rate for o, b in zip(outbox, bare, strict=True))
        print(f"outbox/bare deliveries/s: {ratio:.3f} (median of the rounds' ratios)")
        print(
            f"verdict: all {2 * n * args.rounds} deliveries verified, none arrived twice, "
            "none lost, every outbox notice recorded delivered"
        )
    except Failed as exc:
        print(f"FAILED {exc}")
        sys.exit(1)
    finally:
        if db is not None:
            db.close()
        if receiver is not None:
            receiver.close()
        drop_database(base, owner_url)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; worker stopped, database dropped")
