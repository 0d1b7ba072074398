"""Prometheus metrics: request counts and latency by route template, pool, limits, ingest, and
gauges read from the database at scrape time (webhook outbox, audit-chain lag)."""

import logging
import os
import shutil
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, cast

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from psycopg_pool import ConnectionPool

from gateway.db import Database, bind_principal
from gateway.models import SYSTEM, Conn
from gateway.services import audit

logger = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
MODES = ("off", "token", "port")
# gunicorn's workers write their values here; set before the workers start (deploy/gunicorn.conf.py,
# `skillgw serve`)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# A scrape waits this long for a connection and for its statements, then reports without
# the database's gauges (gateway_metrics_database_up 0) rather than failing.
SCRAPE_DB_TIMEOUT = 0.5
# How often each worker writes its pool's state (a sync worker serves one request at a time,
# so the scraping worker cannot see the others' pools: each reports its own)
POOL_SAMPLE_SECONDS = 1.0
# The route label of a request that matched no route: its path is never a label
UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class Instruments:
    """The process's metric objects (created once, on first use, after any fork)."""

    def __init__(self) -> None:
        # prometheus_client picks where values live when it is imported; a master that imported
        # it before the directory was set must not leave its workers counting in private memory
        values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
        self.multiprocess = multiprocess_mode()
        self.registry = CollectorRegistry(auto_describe=True)
        registry = None if self.multiprocess else self.registry
        self.requests = Counter(
            "gateway_http_requests_total",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "gateway_http_request_duration_seconds",
            "Time to answer a request, by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.refusals = Counter(
            "gateway_rate_limit_refusals_total",
            "Requests refused by a rate limit (429), by route template.",
            ["route"],
            registry=registry,
        )
        self.ingested = Counter(
            "gateway_ingest_rows_total",
            "Rows the platform's ingest API accepted and committed, by kind.",
            ["kind"],
            registry=registry,
        )
        pool_gauge: dict[str, Any] = {"registry": registry, "multiprocess_mode": "livesum"}
        self.pool_in_use = Gauge(
            "gateway_db_pool_in_use", "Pool connections lent out.", **pool_gauge
        )
        self.pool_waiting = Gauge(
            "gateway_db_pool_waiting", "Requests waiting for a pool connection.", **pool_gauge
        )
        self.pool_size = Gauge(
            "gateway_db_pool_size", "Connections the pools hold (lent or idle).", **pool_gauge
        )
        self.pool_max = Gauge(
            "gateway_db_pool_max", "Most connections the pools may open.", **pool_gauge
        )


@cache
def instruments() -> Instruments:
    return Instruments()


def method_label(method: str) -> str:
    # any token is a valid method to werkzeug: a label must not take whatever a caller sends
    return method if method in _METHODS else "other"


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    metrics = instruments()
    labels = (route, method_label(method), str(status))
    metrics.requests.labels(*labels).inc()
    metrics.latency.labels(*labels).observe(seconds)
    if status == 429:
        metrics.refusals.labels(route).inc()


def count_ingested(kind: str, rows: int) -> None:
    instruments().ingested.labels(kind).inc(rows)


# --- the pool ---------------------------------------------------------------------------------


def sample_pool(pool: ConnectionPool) -> None:
    """Write this process's pool state (psycopg_pool's get_stats) into the pool gauges."""
    stats = pool.get_stats()
    metrics = instruments()
    size = stats.get("pool_size", 0)
    metrics.pool_in_use.set(max(size - stats.get("pool_available", 0), 0))
    metrics.pool_waiting.set(stats.get("requests_waiting", 0))
    metrics.pool_size.set(size)
    metrics.pool_max.set(stats.get("pool_max", 0))


def pool_of(db: Database) -> ConnectionPool | None:
    pool = getattr(db, "pool", None)
    return pool if isinstance(pool, ConnectionPool) else None


def start_pool_sampler(pool: ConnectionPool, interval: float = POOL_SAMPLE_SECONDS) -> None:
    """Sample `pool` every `interval` seconds in a daemon thread until the pool closes."""
    ref = weakref.ref(pool)

    def run() -> None:
        while True:
            current = ref()
            if current is None or current.closed:
                return
            try:
                sample_pool(current)
            except Exception as error:  # a metric must never take a worker down
                logger.warning("pool sampling failed: %s", error.__class__.__name__)
            del current
            time.sleep(interval)

    threading.Thread(target=run, name="gateway-pool-metrics", daemon=True).start()


# --- scrape time --------------------------------------------------------------------------------

_OUTBOX = """
SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
       count(*) FILTER (WHERE status = 'dead') AS dead,
       coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE status = 'pending')), 0)
           AS oldest_pending
  FROM webhook_deliveries
 WHERE status IN ('pending', 'dead')
"""


@contextmanager
def _counts_reader(db: Database) -> Iterator[Conn]:
    """A read-only transaction bound as the system (counts only), that waits briefly."""
    pool = pool_of(db)
    if pool is None:  # a test's shared connection: its own transaction rules
        with db.transaction(SYSTEM) as conn:
            yield conn
        return
    with pool.connection(timeout=SCRAPE_DB_TIMEOUT) as raw, raw.transaction():
        raw.execute("SET TRANSACTION READ ONLY")
        raw.execute(
            "SELECT set_config('statement_timeout', %s, true)",
            [str(int(SCRAPE_DB_TIMEOUT * 1000))],
        )
        bound = cast(Conn, raw)  # the pool's connections are opened with dict_row
        bind_principal(bound, SYSTEM)
        yield bound


class DatabaseGauges(Collector):
    """Gauges read from the database when scraped; never an error, at worst `up` 0."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "gateway_metrics_database_up",
            "1 when this scrape read the database's gauges, 0 when it could not in time.",
        )
        try:
            with _counts_reader(self.db) as conn:
                outbox = conn.execute(_OUTBOX).fetchone() or {}
                lag = audit.lag(conn)
        except Exception as error:  # the scrape answers without these gauges, never a 5xx
            logger.warning("metrics: database gauges unavailable: %s", error.__class__.__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        deliveries = GaugeMetricFamily(
            "gateway_webhook_deliveries",
            "Webhook notices by status: pending is the backlog, dead the dead letters.",
            labels=["status"],
        )
        deliveries.add_metric(["pending"], int(outbox.get("pending", 0)))
        deliveries.add_metric(["dead"], int(outbox.get("dead", 0)))
        yield deliveries
        yield GaugeMetricFamily(
            "gateway_webhook_oldest_pending_seconds",
            "Age of the oldest notice not delivered yet (0: none pending).",
            value=float(outbox.get("oldest_pending", 0)),
        )
        yield GaugeMetricFamily(
            "gateway_audit_unsealed_events",
            "Audit-chain lag: committed audit events the worker has not sealed yet.",
            value=lag,
        )


class _Forward(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Any]:
        yield from self.registry.collect()


def exposition(db: Database) -> bytes:
    """The text a scrape gets: every worker's metrics (multiprocess mode) and the database's."""
    pool = pool_of(db)
    if pool is not None:
        sample_pool(pool)
    registry = CollectorRegistry(auto_describe=False)
    if instruments().multiprocess:
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward(instruments().registry))
    registry.register(DatabaseGauges(db))
    return generate_latest(registry)


# --- gunicorn ---------------------------------------------------------------------------------


def prepare_multiprocess_dir(path: str | os.PathLike[str]) -> None:
    """Empty the folder gunicorn's workers write their values to (call in the master, first).

    Files left by an earlier run would be added to this run's counters.
    """
    folder = Path(path)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, mode=0o700)


def worker_exited(pid: int) -> None:
    """Drop a dead worker's gauges (its counters stay: they are still counts of this run)."""
    if multiprocess_mode():
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def on_metrics_port(environ: dict[str, Any], port: int) -> bool:
    """Whether the request came in on the listening socket bound to `port`.

    Read from the socket, never from Host or X-Forwarded-* (which a caller writes).
    """
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    if sock is None:
        return False
    try:
        local = sock.getsockname()
    except OSError:
        return False
    return isinstance(local, tuple) and len(local) >= 2 and local[1] == port
