"""A rate-limit storage (`limits` API) in the gateway's own PostgreSQL, shared by every process."""

import logging
import os
import threading
import time
from typing import Any

import psycopg
from limits.storage import MovingWindowSupport, Storage
from psycopg_pool import ConnectionPool

logger = logging.getLogger(__name__)

# Never typed by anyone: an empty GATEWAY_RATELIMIT_STORAGE_URI selects this storage, and the
# app hands it the URL the web app connects with (see gateway.limits.init_app).
SCHEME = "gateway+postgresql"

# Expired rows are swept at most this often per process, by whichever request comes next.
SWEEP_INTERVAL = 60.0

# Every statement takes the time from the database's clock (now() is the statement's own
# transaction start under autocommit), so instances whose clocks differ still share one
# window. Each is a single statement on one row: the row lock makes it atomic.

# Moving window, counted in buckets: a window of `expiry` seconds is cut into BUCKETS buckets
# of expiry / BUCKETS seconds, kept in a ring of BUCKETS + 1 slots (bucket number, count). A
# draw counts the current bucket and the BUCKETS before it, a span that always covers the last
# `expiry` seconds: never more than `limit` requests in any window, at the price of counting
# requests up to one bucket older (a refusal up to 1/BUCKETS of the window early). The row
# stays the same small size whatever the limit: exact timestamps (one per request, as memory
# and Redis keep) made a draw cost 0.2 ms at 300 a window, 1 ms at 1000 and 16 ms at 5000.
BUCKETS = 60
_RING = BUCKETS + 1

# Take `amount` if the live buckets hold at most `limit - amount`. When they do not, the WHERE
# keeps the row as it is and RETURNING gives no row: refused. A new row starts with its ring
# empty but for the current bucket. (`bucket` carries the statement's bucket number to the
# update, as excluded.bucket.)
_ACQUIRE = """
INSERT INTO rate_limits AS r (key, bucket, bucket_ids, bucket_counts, expires_at)
SELECT %(key)s, b.n,
       array_fill(-1::bigint, ARRAY[(b.n %% %(ring)s)::int]) || b.n
           || array_fill(-1::bigint, ARRAY[%(ring)s - 1 - (b.n %% %(ring)s)::int]),
       array_fill(0, ARRAY[(b.n %% %(ring)s)::int]) || %(amount)s
           || array_fill(0, ARRAY[%(ring)s - 1 - (b.n %% %(ring)s)::int]),
       (b.n + %(ring)s) * %(width)s
FROM (SELECT floor(extract(epoch FROM now())::float8 / %(width)s)::bigint AS n) AS b
ON CONFLICT (key) DO UPDATE
    SET bucket = excluded.bucket,
        bucket_ids[excluded.bucket %% %(ring)s + 1] = excluded.bucket,
        bucket_counts[excluded.bucket %% %(ring)s + 1] =
            CASE WHEN r.bucket_ids[excluded.bucket %% %(ring)s + 1] = excluded.bucket
                 THEN r.bucket_counts[excluded.bucket %% %(ring)s + 1] + %(amount)s
                 ELSE %(amount)s END,
        expires_at = greatest(r.expires_at, excluded.expires_at)
    WHERE (SELECT coalesce(sum(n), 0) FROM unnest(r.bucket_ids, r.bucket_counts) AS u(id, n)
           WHERE id >= excluded.bucket - %(buckets)s) + %(amount)s <= %(limit)s
RETURNING 1
"""

# The live requests and when the oldest live bucket leaves the window, less the window: what
# limits calls the window's start (now and 0 when there are none).
_MOVING_WINDOW = """
SELECT coalesce((min(u.id) + 1) * %(width)s, extract(epoch FROM now())::float8) AS start,
       coalesce(sum(u.n), 0) AS entries
FROM rate_limits CROSS JOIN LATERAL unnest(bucket_ids, bucket_counts) AS u(id, n)
WHERE key = %(key)s AND u.n > 0
  AND u.id >= floor(extract(epoch FROM now())::float8 / %(width)s)::bigint - %(buckets)s
"""

# Fixed window: count up, or start a new window when the old one has ended.
_INCR = """
INSERT INTO rate_limits AS r (key, counter, expires_at)
VALUES (%(key)s, %(amount)s, extract(epoch FROM now())::float8 + %(expiry)s)
ON CONFLICT (key) DO UPDATE
    SET counter = CASE WHEN r.expires_at > extract(epoch FROM now())::float8
                       THEN r.counter + excluded.counter ELSE excluded.counter END,
        expires_at = CASE WHEN r.expires_at > extract(epoch FROM now())::float8
                          THEN r.expires_at ELSE excluded.expires_at END
RETURNING counter
"""

_GET = """
SELECT counter FROM rate_limits
WHERE key = %(key)s AND expires_at > extract(epoch FROM now())::float8
"""

_GET_EXPIRY = """
SELECT coalesce(max(expires_at), extract(epoch FROM now())::float8) AS expires_at
FROM rate_limits
WHERE key = %(key)s AND expires_at > extract(epoch FROM now())::float8
"""

_CLEAR = "DELETE FROM rate_limits WHERE key = %(key)s"
_RESET = "DELETE FROM rate_limits"
_SWEEP = "DELETE FROM rate_limits WHERE expires_at < extract(epoch FROM now())::float8"


class PostgresStorage(Storage, MovingWindowSupport):
    """Counters in the UNLOGGED table `rate_limits` (migration 0003), reached as the app role.

    It has its own small pool of autocommit connections, apart from the request's transaction:
    a draw is committed the moment it is made, so a refused or failed request still counts,
    and a request's open transaction never holds a counter's row lock.
    """

    STORAGE_SCHEME = [SCHEME]

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        *,
        conninfo: str = "",
        pool_size: int = 4,
        timeout: float = 0.5,
        statement_timeout_ms: int = 1000,
        **options: Any,
    ) -> None:
        if not conninfo:
            raise ValueError("the PostgreSQL rate-limit storage needs the app's conninfo")
        self.conninfo = conninfo
        self.pool_size = int(pool_size)
        self.timeout = float(timeout)
        self.statement_timeout_ms = int(statement_timeout_ms)
        self._lock = threading.Lock()
        self._pool: ConnectionPool | None = None
        self._pid = 0
        self._next_sweep = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return psycopg.Error

    def _connections(self) -> ConnectionPool:
        """The pool of this process, opened on first use.

        The gunicorn master builds an app (to check settings) before it forks: a pool opened
        there would hand its sockets and threads to every worker, so nothing opens until a
        request needs it, and a process that finds another process's pool makes its own.
        """
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = ConnectionPool(
                    self.conninfo,
                    min_size=1,
                    max_size=self.pool_size,
                    timeout=self.timeout,
                    kwargs={
                        "autocommit": True,
                        "options": f"-c statement_timeout={self.statement_timeout_ms}",
                    },
                    open=False,
                    name="gateway-limits",
                )
                self._pool.open(wait=False)
                self._pid = os.getpid()
            return self._pool

    def _run(self, query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run one statement; its rows ([] for none). One retry when the connection was dead."""
        pool = self._connections()
        for attempt in (1, 2):
            with pool.connection() as conn:
                try:
                    cursor = conn.execute(query, params)
                    return cursor.fetchall() if cursor.description else []
                except psycopg.OperationalError:
                    # a pooled connection the server closed (a restart, a killed backend): the
                    # pool drops it; one more try on a fresh one. A timeout is not retried.
                    if attempt == 2 or not conn.broken:
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _count(self, query: str, params: dict[str, Any]) -> int:
        with self._connections().connection() as conn:
            return conn.execute(query, params).rowcount

    def _sweep_now_and_then(self) -> None:
        if time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + SWEEP_INTERVAL
        try:
            self._count(_SWEEP, {})
        except psycopg.Error as exc:
            # the count itself succeeded; a sweep can wait for the next interval
            logger.warning("sweeping expired rate-limit rows failed: %s", exc.__class__.__name__)

    # --- moving window

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        rows = self._run(
            _ACQUIRE,
            {
                "key": key,
                "limit": limit,
                "amount": amount,
                "width": expiry / BUCKETS,
                "buckets": BUCKETS,
                "ring": _RING,
            },
        )
        self._sweep_now_and_then()
        return bool(rows)

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        ((start, entries),) = self._run(
            _MOVING_WINDOW, {"key": key, "width": expiry / BUCKETS, "buckets": BUCKETS}
        )
        return float(start), int(entries)

    # --- fixed window

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        ((counter,),) = self._run(_INCR, {"key": key, "expiry": expiry, "amount": amount})
        self._sweep_now_and_then()
        return int(counter)

    def get(self, key: str) -> int:
        rows = self._run(_GET, {"key": key})
        return int(rows[0][0]) if rows else 0

    def get_expiry(self, key: str) -> float:
        ((expires_at,),) = self._run(_GET_EXPIRY, {"key": key})
        return float(expires_at)

    # --- housekeeping

    def check(self) -> bool:
        """Whether the database answers (flask-limiter asks while it runs on its fallback)."""
        try:
            self._run("SELECT 1", {})
        except psycopg.Error:  # PoolTimeout included
            return False
        return True

    def clear(self, key: str) -> None:
        self._count(_CLEAR, {"key": key})

    def reset(self) -> int | None:
        return self._count(_RESET, {})

    def close(self) -> None:
        """Close this process's pool (a pool inherited through a fork is left alone)."""
        with self._lock:
            if self._pool is not None and self._pid == os.getpid():
                self._pool.close()
            self._pool = None
