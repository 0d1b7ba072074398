"""The connection pool and the one-transaction-per-request context that binds the caller."""

import logging
import select
import time
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Protocol, cast

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from gateway.binding import caller_proof
from gateway.exceptions import Unavailable
from gateway.models import ANONYMOUS, Conn, Principal

logger = logging.getLogger(__name__)

_BIND_PRINCIPAL = """
SELECT set_config('gateway.role', %(kind)s, true),
       set_config('gateway.developer_id', %(developer_id)s, true),
       set_config('gateway.user_id', %(user_id)s, true),
       set_config('gateway.client_id', %(client_id)s, true),
       set_config('gateway.caller_proof', %(proof)s, true)
"""

# The binding key each connection proves its callers with. Kept beside the connection rather
# than passed to every bind_principal call, so the routes bind a caller the same way whether
# their connection comes from the pool, a test's shared connection or a CLI owner connection.
_binding_keys: "weakref.WeakKeyDictionary[psycopg.Connection[Any], bytes]" = (
    weakref.WeakKeyDictionary()
)


def use_binding_key(conn: psycopg.Connection[Any], key: bytes) -> None:
    """Make bind_principal prove callers on `conn` with `key` (see gateway.binding)."""
    _binding_keys[conn] = key


def bind_principal(conn: Conn, principal: Principal) -> None:
    """Make `principal` the caller for row-level security, for this transaction only.

    Every setting is written each time ('' when absent) so nothing from an earlier
    transaction-local binding on the same connection can survive into this one. With a binding
    key on the connection (`use_binding_key`), `gateway.caller_proof` proves the caller to the
    database, which privileged writes require; without one, reads work and such writes are
    refused.
    """
    settings = {
        "kind": principal.kind,
        "developer_id": "" if principal.developer_id is None else str(principal.developer_id),
        "user_id": principal.user_id or "",
        "client_id": principal.client_id or "",
    }
    key = _binding_keys.get(conn)
    proof = "" if key is None else caller_proof(key, list(settings.values()))
    conn.execute(_BIND_PRINCIPAL, {**settings, "proof": proof})


def binding_verified(conn: Conn) -> bool:
    """Whether the database accepts the current transaction's caller proof (its key is ours)."""
    row = conn.execute("SELECT gateway_binding_ok() AS ok").fetchone()
    return bool(row and row["ok"])


def _pipeline(conn: psycopg.Connection[Any], pipelined: bool) -> AbstractContextManager[object]:
    """psycopg's pipeline mode around a transaction, or nothing.

    In pipeline mode a statement is sent without waiting for its answer; the connection waits
    only when a result is fetched, and the pipeline's end sends the COMMIT with every write
    still queued. A read path of a dozen statements then costs the round trips of its reads:
    BEGIN, the caller's binding and the token lookup travel together, so do the access-log,
    audit and pseudonym writes and the COMMIT. The cost: a statement's error is raised when
    the next result is fetched (at the latest when the transaction ends, before the response
    exists), not by the `execute` that sent it, so only code that never catches a database
    error around a write may run pipelined.
    """
    return conn.pipeline() if pipelined else nullcontext()


# The read path's statements are rendered with only the clauses they use (no optional "%(x)s IS
# NULL OR …" filters), so a plan made once serves every execution: PostgreSQL then skips
# planning them (most of their cost: the developer-and-tier statement took 0.46 ms to plan and
# 0.06 ms to run) and prunes the interactions' monthly partitions at execution. See
# `PooledDatabase.__init__` for why every other transaction plans each execution afresh.
_GENERIC_PLANS = "SET LOCAL plan_cache_mode = force_generic_plan"


def _idle_and_open(conn: psycopg.Connection[Any]) -> bool:
    """Whether a pooled connection is still open, without a round trip.

    An idle connection has nothing to read: a server that ended it (a restart, a terminated
    backend) has sent its last error message or closed the socket, and either makes the socket
    readable. Looking costs a system call where a ping cost a round trip on every request. A
    server that dies after the look fails the request's first statement: a 503, as it would
    after a ping.
    """
    if conn.closed or conn.broken:
        return False
    return not _readable(conn.fileno())


def _readable(fd: int) -> bool:
    if hasattr(select, "poll"):  # any descriptor number, where select() stops at 1024
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    readable, _, _ = select.select([fd], [], [], 0)
    return bool(readable)


class Database(Protocol):
    """What the views need of the database: transactions bound to a caller."""

    def transaction(
        self,
        principal: Principal = ANONYMOUS,
        *,
        pipelined: bool = False,
        generic_plans: bool = False,
    ) -> AbstractContextManager[Conn]: ...

    def close(self) -> None: ...


class PooledDatabase:
    """A psycopg pool of app-role connections; each `transaction()` is one database transaction."""

    def __init__(
        self,
        conninfo: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 2.0,
        statement_timeout_ms: int = 2000,
        binding_key: bytes | None = None,
    ) -> None:
        options = (
            f"-c statement_timeout={int(statement_timeout_ms)} "
            # a request that dies mid-transaction must not hold locks for long
            f"-c idle_in_transaction_session_timeout={int(statement_timeout_ms) * 5} "
            "-c TimeZone=UTC "
            # optional filters ("%(x)s IS NULL OR …") make generic plans sort whole windows;
            # plan every execution with its real parameters
            "-c plan_cache_mode=force_custom_plan "
            # the developer page is planned over every monthly partition, so its estimated
            # cost passes jit_above_cost once a skill has a year of history, and PostgreSQL
            # then compiles the plan on every execution: at 5,000,000 interactions a page cost
            # PostgreSQL 73 ms of CPU with JIT and 4.3 ms without, its p50 856 ms against 138 ms
            # under the same load (README "Performance of the read path")
            "-c jit=off"
        )
        self.conninfo = conninfo  # for a connection of its own, as the worker's LISTEN needs
        self.timeout = timeout
        self.binding_key = binding_key
        # no check= here: _borrow tests each connection itself (see there for why)
        self.pool = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            kwargs={"autocommit": True, "row_factory": dict_row, "options": options},
            configure=self._configure,
            open=False,
            name="gateway",
        )

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        if self.binding_key is not None:
            use_binding_key(conn, self.binding_key)

    def open(self, wait: bool = False) -> None:
        self.pool.open(wait=wait)

    @contextmanager
    def _borrow(self) -> Iterator[psycopg.Connection]:
        """Lend a connection that looks alive; raise PoolTimeout past the timeout.

        A restarted server or killed backends leave dead connections in the pool. The pool's
        own `check=` sleeps a second or more after each dead one it finds, so with two dead
        connections a request waited out the whole timeout and got a 503 although a fresh
        connection was milliseconds away. Dead ones are dropped here without waiting.
        """
        deadline = time.monotonic() + self.timeout
        while True:
            raw = self.pool.getconn(timeout=max(deadline - time.monotonic(), 0.0))
            if _idle_and_open(raw):
                break
            raw.close()
            self.pool.putconn(raw)  # the pool drops a closed connection and opens another
        try:
            yield raw
        finally:
            self.pool.putconn(raw)

    @contextmanager
    def transaction(
        self,
        principal: Principal = ANONYMOUS,
        *,
        pipelined: bool = False,
        generic_plans: bool = False,
    ) -> Iterator[Conn]:
        """Yield a connection inside one transaction bound to `principal`; commit on success.

        `pipelined`: the whole transaction runs in psycopg's pipeline mode (see `_pipeline`).
        `generic_plans`: its prepared statements run from plans made once (`_GENERIC_PLANS`),
        for transactions whose every statement has a fixed shape.
        Raises `Unavailable` when no connection can be had or the server goes away.
        """
        try:
            with self._borrow() as raw, _pipeline(raw, pipelined), raw.transaction():
                conn = cast(Conn, raw)  # the pool's connections are opened with dict_row
                bind_principal(conn, principal)
                if generic_plans:
                    conn.execute(_GENERIC_PLANS)
                yield conn
        except PoolTimeout as exc:
            raise Unavailable("The database is busy; retry shortly.") from exc
        except psycopg.OperationalError as exc:
            logger.warning("database unavailable: %s", exc.__class__.__name__)
            raise Unavailable() from exc

    def close(self) -> None:
        self.pool.close()


class SharedConnection:
    """One caller-owned connection whose transactions become savepoints (tests, CLI scripts)."""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    @contextmanager
    def transaction(
        self,
        principal: Principal = ANONYMOUS,
        *,
        pipelined: bool = False,
        generic_plans: bool = False,
    ) -> Iterator[Conn]:
        with _pipeline(self.conn, pipelined), self.conn.transaction():
            bind_principal(self.conn, principal)
            if generic_plans:
                self.conn.execute(_GENERIC_PLANS)
            yield self.conn

    def close(self) -> None:
        pass
