"""Running the app under gunicorn from Python, with one app (and one pool) per worker."""

import os
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from gateway import create_app
from gateway.models import ANONYMOUS, Principal

# Path without the query string, no referer: a token someone put in a URL (which the gateway
# refuses) or a filter value must not end up in a log file.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'


class _NoDatabase:
    """Stands in for the pool when the master builds an app only to check the settings."""

    def transaction(self, principal: Principal = ANONYMOUS) -> AbstractContextManager[Any]:
        return nullcontext()

    def close(self) -> None:
        pass


class GatewayApplication(BaseApplication):  # type: ignore[misc]
    """gunicorn with an app factory: each worker calls `create_app` after the fork.

    psycopg pools hold sockets and threads, neither of which survives a fork, so the
    master never opens one (preload_app stays off).
    """

    def __init__(self, factory: Callable[[], Flask], options: Mapping[str, Any]) -> None:
        self.factory = factory
        self.options = dict(options)
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.factory()


def prepare(settings: Mapping[str, Any]) -> None:
    """Build the app once in the master, without a database, before any worker starts.

    This fails fast on bad settings, and creates the generated secrets in DATA_DIR once:
    two workers creating them at the same moment could each keep a different key.
    """
    create_app({**settings, "DATABASE": _NoDatabase()})


def serve(
    settings: Mapping[str, Any],
    *,
    host: str,
    port: int,
    workers: int,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the gateway on host:port with `workers` processes until SIGINT or SIGTERM.

    Returns when gunicorn has stopped its workers; `on_ready` gets the URL once it listens.
    """
    prepare(settings)
    config = dict(settings)

    def when_ready(_arbiter: Any) -> None:
        if on_ready is not None:
            on_ready(f"http://{host}:{port}")

    options = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "worker_class": "sync",
        "preload_app": False,
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "loglevel": "info",
        "graceful_timeout": 10,
        "timeout": 30,
        # one shared control socket per user would collide between two running gateways
        "control_socket_disable": True,
        "when_ready": when_ready,
    }
    application = GatewayApplication(lambda: create_app(config), options)
    master = os.getpid()
    try:
        application.run()
    except SystemExit as exc:
        # gunicorn's master leaves through sys.exit even on a clean Ctrl-C; a worker's exit
        # unwinds through here too (it was forked inside run()) and must stay an exit
        if os.getpid() != master or exc.code not in (0, None):
            raise
