"""The one object a request's code shares: its transaction, caller, scopes, limit and clock."""

import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, g

from gateway.db import Database
from gateway.models import ANONYMOUS, Conn, Principal

_KEY = "gateway_context"
_STATE_KEY = "gateway_request_state"


@dataclass
class RequestContext:
    """What the views, the OAuth callbacks and the limiter need to know about one request.

    Built in one place (`transaction`) when the request's transaction opens, then handed to
    the code that can take it as an argument; authlib's and flask-limiter's callbacks take
    none, so they look it up with `current()`.
    """

    clock: Callable[[], datetime]
    request_id: str
    # the scopes the route needs (an RFC 6750 insufficient_scope challenge names them)
    required_scopes: tuple[str, ...] = ()
    # the authenticated caller: a bearer token's client on /v1 (bound for row-level security
    # there), the client whose secret checked out on /oauth/*; anonymous until then
    principal: Principal = ANONYMOUS
    # the caller's rate limit once known (a developer's tier); None: the default for its kind
    rate_limit: str | None = None
    _conn: Conn | None = field(default=None, repr=False)

    @property
    def conn(self) -> Conn:
        """The connection of the request's one transaction (only while it is open)."""
        if self._conn is None:
            raise RuntimeError("the request's transaction is not open")
        return self._conn

    def now(self) -> datetime:
        """The current time from the app's clock (tests inject one to cross an expiry)."""
        return self.clock()


@contextmanager
def transaction(
    db: Database,
    *,
    required_scopes: Sequence[str] = (),
    pipelined: bool = False,
    generic_plans: bool = False,
) -> Iterator[RequestContext]:
    """Open the request's one transaction (anonymous until bound) with its context.

    Commits when the block ends without an exception, as `Database.transaction` does;
    `pipelined` runs it in pipeline mode (`gateway.db._pipeline`), `generic_plans` from plans
    made once (`gateway.db._GENERIC_PLANS`).
    """
    ctx = RequestContext(
        clock=current_app.config["CLOCK"],
        # the id the request's telemetry already answers with (gateway.telemetry)
        request_id=request_state().get("request_id") or secrets.token_hex(8),
        required_scopes=tuple(required_scopes),
    )
    setattr(g, _KEY, ctx)
    opened = db.transaction(ANONYMOUS, pipelined=pipelined, generic_plans=generic_plans)
    with opened as conn:
        ctx._conn = conn
        try:
            yield ctx
        finally:
            ctx._conn = None


def request_state() -> dict[str, Any]:
    """Values of the request being served that live outside its transaction: when it started,
    the id it answers with, what it ingested (gateway.telemetry keeps them here)."""
    state: dict[str, Any] | None = g.get(_STATE_KEY)
    if state is None:
        state = {}
        setattr(g, _STATE_KEY, state)
    return state


def find() -> RequestContext | None:
    """The context of the request being served, or None when it opened no transaction."""
    ctx: RequestContext | None = g.get(_KEY)
    return ctx


def current() -> RequestContext:
    """The context of the request being served (for callbacks that take no arguments)."""
    ctx = find()
    if ctx is None:
        raise RuntimeError("no request context: call inside gateway.context.transaction()")
    return ctx
