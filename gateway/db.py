"""The connection pool and the one-transaction-per-request context that binds the caller."""

import logging
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, cast

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from gateway.exceptions import Unavailable
from gateway.models import ANONYMOUS, Conn, Principal

logger = logging.getLogger(__name__)

_BIND_PRINCIPAL = """
SELECT set_config('gateway.role', %(kind)s, true),
       set_config('gateway.developer_id', %(developer_id)s, true),
       set_config('gateway.user_id', %(user_id)s, true),
       set_config('gateway.client_id', %(client_id)s, true)
"""


def bind_principal(conn: Conn, principal: Principal) -> None:
    """Make `principal` the caller for row-level security, for this transaction only.

    Every setting is written each time ('' when absent) so nothing from an earlier
    transaction-local binding on the same connection can survive into this one.
    """
    conn.execute(
        _BIND_PRINCIPAL,
        {
            "kind": principal.kind,
            "developer_id": "" if principal.developer_id is None else str(principal.developer_id),
            "user_id": principal.user_id or "",
            "client_id": principal.client_id or "",
        },
    )


class Database(Protocol):
    """What the views need of the database: transactions bound to a caller."""

    def transaction(self, principal: Principal = ANONYMOUS) -> AbstractContextManager[Conn]: ...

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
    ) -> None:
        options = (
            f"-c statement_timeout={int(statement_timeout_ms)} "
            # a request that dies mid-transaction must not hold locks for long
            f"-c idle_in_transaction_session_timeout={int(statement_timeout_ms) * 5} "
            "-c TimeZone=UTC "
            # optional filters ("%(x)s IS NULL OR …") make generic plans sort whole windows;
            # plan every execution with its real parameters
            "-c plan_cache_mode=force_custom_plan"
        )
        self.timeout = timeout
        # no check= here: _borrow tests each connection itself (see there for why)
        self.pool = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            kwargs={"autocommit": True, "row_factory": dict_row, "options": options},
            open=False,
            name="gateway",
        )

    def open(self, wait: bool = False) -> None:
        self.pool.open(wait=wait)

    @contextmanager
    def _borrow(self) -> Iterator[psycopg.Connection]:
        """Lend a connection that answered a round trip; raise PoolTimeout past the timeout.

        A restarted server or killed backends leave dead connections in the pool. The pool's
        own `check=` sleeps a second or more after each dead one it finds, so with two dead
        connections a request waited out the whole timeout and got a 503 although a fresh
        connection was milliseconds away. Dead ones are dropped here without waiting.
        """
        deadline = time.monotonic() + self.timeout
        while True:
            raw = self.pool.getconn(timeout=max(deadline - time.monotonic(), 0.0))
            try:
                ConnectionPool.check_connection(raw)
            except psycopg.Error:
                self.pool.putconn(raw)  # the pool closes a broken connection and opens another
                continue
            break
        try:
            yield raw
        finally:
            self.pool.putconn(raw)

    @contextmanager
    def transaction(self, principal: Principal = ANONYMOUS) -> Iterator[Conn]:
        """Yield a connection inside one transaction bound to `principal`; commit on success.

        Raises `Unavailable` when no connection can be had or the server goes away.
        """
        try:
            with self._borrow() as raw, raw.transaction():
                conn = cast(Conn, raw)  # the pool's connections are opened with dict_row
                bind_principal(conn, principal)
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
    def transaction(self, principal: Principal = ANONYMOUS) -> Iterator[Conn]:
        with self.conn.transaction():
            bind_principal(self.conn, principal)
            yield self.conn

    def close(self) -> None:
        pass
