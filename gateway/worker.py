"""The background worker: drains the webhook outbox (signed notices, retried with backoff),
records grants that expired in the audit log, and seals committed audit events into the hash
chain."""

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import psycopg

from gateway import webhook_delivery
from gateway.db import Database
from gateway.models import SYSTEM
from gateway.repositories import webhooks as webhooks_repo
from gateway.services import audit as audit_service
from gateway.services import webhooks as webhooks_service
from gateway.services import whitelist as whitelist_service

logger = logging.getLogger(__name__)

Poster = Callable[..., webhook_delivery.Outcome]


def deliver_due(
    db: Database,
    settings: Mapping[str, Any],
    *,
    now: Callable[[], datetime],
    post: Poster = webhook_delivery.post,
    limit: int = 50,
) -> dict[str, int]:
    """Claim due notices, send each, record each outcome; return the count per new state.

    Claiming, sending and recording are three steps on purpose: no database transaction stays
    open while a developer's server takes its time, and a crash between sending and recording
    only means the same notice (same id) is sent again when its lease ends.
    """
    timeout = float(settings["WEBHOOK_TIMEOUT"])
    with db.transaction(SYSTEM) as conn:
        attempts = webhooks_service.claim_attempts(
            conn,
            now=now(),
            lease=timedelta(seconds=timeout * 3 + 30),
            limit=limit,
            server_secret=str(settings["SECRET_KEY"]),
            allow_loopback=bool(settings["WEBHOOK_ALLOW_LOOPBACK"]),
        )
    counts = {"delivered": 0, "pending": 0, "dead": 0}
    for attempt in attempts:
        if attempt.target is None:
            outcome = webhook_delivery.Outcome(None, attempt.refusal)
        else:
            outcome = post(
                attempt.target,
                attempt.body,
                attempt.headers,
                timeout=timeout,
                ca_file=str(settings["WEBHOOK_CA_FILE"]),
            )
        with db.transaction(SYSTEM) as conn:
            state = webhooks_service.record_attempt(
                conn,
                attempt,
                status=outcome.status,
                error=outcome.error,
                now=now(),
                max_attempts=int(settings["WEBHOOK_MAX_ATTEMPTS"]),
                backoff_base=float(settings["WEBHOOK_BACKOFF_SECONDS"]),
            )
        counts[state] += 1
        logger.info(
            "webhook %s to developer %s: attempt %d, %s",
            attempt.delivery_id,
            attempt.developer_id,
            attempt.attempts,
            state if outcome.status is None else f"{state} ({outcome.status})",
        )
    return counts


def record_expired_grants(db: Database, *, now: Callable[[], datetime]) -> int:
    """Write `grant.expired` for each grant that ran out since the last round; how many.

    Only the audit log waits on this: a developer's tier is resolved at read time, so an
    expiry holds whether or not any worker runs.
    """
    with db.transaction(SYSTEM) as conn:
        return whitelist_service.record_expired_grants(conn, now=now())


def drain(
    db: Database,
    settings: Mapping[str, Any],
    *,
    now: Callable[[], datetime],
    post: Poster = webhook_delivery.post,
    batch: int = 50,
) -> dict[str, int]:
    """One whole round, for `skillgw worker --once`: every notice due now (batch after batch,
    until a claim comes back short), the grants that expired, the audit rows to seal.

    A notice that fails is due again only after its backoff, so the loop ends.
    """
    totals = {"delivered": 0, "pending": 0, "dead": 0}
    while True:
        counts = deliver_due(db, settings, now=now, post=post, limit=batch)
        for state, count in counts.items():
            totals[state] += count
        if sum(counts.values()) < batch:
            break
    totals["expired"] = record_expired_grants(db, now=now)
    with db.transaction(SYSTEM) as conn:
        totals["sealed"] = audit_service.seal_all(conn)
    return totals


class Wakeup:
    """Waits between idle rounds: until a notice is queued (LISTEN on the outbox's channel) or
    `seconds` pass, whichever comes first, so a notice leaves within milliseconds of its
    commit instead of a poll interval later. Without a listening connection (the server away)
    it is a plain sleep, and it listens again on the next wait."""

    def __init__(self, conninfo: str | None, stop: threading.Event) -> None:
        self.conninfo = conninfo
        self.stop = stop
        self.conn: psycopg.Connection[Any] | None = None

    def _listen(self) -> psycopg.Connection[Any] | None:
        if self.conn is None and self.conninfo is not None:
            try:
                self.conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
                webhooks_repo.listen_for_notices(self.conn)
            except psycopg.Error:
                self.close()
        return self.conn

    def wait(self, seconds: float) -> None:
        conn = self._listen()
        if conn is None:
            self.stop.wait(seconds)
            return
        deadline = time.monotonic() + seconds
        try:
            # in short slices: a SIGTERM (the stop event) ends the wait within half a second
            while not self.stop.is_set() and (left := deadline - time.monotonic()) > 0:
                for _ in conn.notifies(timeout=min(left, 0.5), stop_after=1):
                    return
        except psycopg.Error:
            self.close()
            self.stop.wait(seconds)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None


def run(
    db: Database,
    settings: Mapping[str, Any],
    *,
    stop: threading.Event,
    now: Callable[[], datetime],
    poll_seconds: float = 1.0,
    wakeup: Wakeup | None = None,
) -> None:
    """Deliver until `stop` is set; when nothing was due, wait `poll_seconds` or until
    `wakeup` hears of a new notice."""
    wait = stop.wait if wakeup is None else wakeup.wait
    while not stop.is_set():
        try:
            counts = deliver_due(db, settings, now=now)
            counts["expired"] = record_expired_grants(db, now=now)
            with db.transaction(SYSTEM) as conn:
                counts["sealed"] = audit_service.seal(conn)
        except Exception:  # a database outage must not end the worker: log and retry
            logger.exception("worker round failed")
            counts = {}
        if not any(counts.values()):
            wait(poll_seconds)
