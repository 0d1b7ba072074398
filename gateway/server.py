"""Running the app under gunicorn from Python, with one app (and one pool) per worker."""

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from flask import Flask
from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.workers.sync import SyncWorker

from gateway import create_app, logs, metrics
from gateway.models import ANONYMOUS, Principal

# The worker class `skillgw serve` and deploy/gunicorn.conf.py both run.
WORKER_CLASS = "gateway.server.JsonErrorWorker"
# A request line or header block this large is an attack or a bug, not a transcript query.
LIMIT_REQUEST_LINE = 8190
LIMIT_REQUEST_FIELDS = 100

# The envelope of the errors gunicorn answers itself, before the app sees the request. The
# description is ours: gunicorn's message quotes the request line, which may carry a token.
_GUNICORN_ERRORS = {
    400: ("invalid_request", "The request is not valid HTTP."),
    403: ("forbidden", "The request was refused."),
    414: ("request_too_large", "The request line (method, path and query) is too long."),
    417: ("invalid_request", "The expectation given cannot be met."),
    431: ("request_too_large", "The request's header fields are too large or too many."),
    500: ("server_error", "The server could not complete the request."),
    501: ("invalid_request", "The transfer coding is not supported."),
}


def refuse_unshared_limits(settings: Mapping[str, Any], workers: int) -> None:
    """Raise ValueError for rate-limit counters that each worker would keep apart.

    memory:// counts in one process: with N workers every limit would allow N times as many
    requests.
    """
    if workers > 1 and settings.get("RATELIMIT_STORAGE_URI") == "memory://":
        raise ValueError(
            f"GATEWAY_RATELIMIT_STORAGE_URI=memory:// keeps a separate count in each of the "
            f"{workers} workers, so every rate limit would allow {workers} times as many "
            "requests. Leave it empty (the gateway's own PostgreSQL), point it at a "
            "redis:// URL, or run one worker."
        )


class _Written:
    """A stand-in socket that keeps what gunicorn writes (everything else goes to `real`)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.data = b""

    def gettimeout(self) -> float:
        return 0.0

    def setblocking(self, flag: bool) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.data += data

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class JsonErrorWorker(SyncWorker):  # type: ignore[misc]
    """gunicorn's sync worker, with the errors gunicorn answers itself in the JSON envelope.

    A request line or header block over gunicorn's limits (414, 431), or one it cannot parse
    (400), is refused before the app sees it, with an HTML page. `handle_error` is the worker's
    hook for those answers: gunicorn still decides the status, logs and writes the access log;
    only the body it would send is replaced.
    """

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        written = _Written(client)
        super().handle_error(req, written, addr, exc)
        status_line = written.data.split(b"\r\n", 1)[0].decode("latin-1")
        parts = status_line.split(" ", 2)
        if len(parts) < 3 or not parts[1].isdigit():
            return  # gunicorn wrote nothing (the client had gone): nothing to answer
        status, reason = int(parts[1]), parts[2]
        code, description = _GUNICORN_ERRORS.get(status, ("invalid_request", reason))
        body = json.dumps({"error": code, "error_description": description, "details": {}})
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            "Connection: close\r\n"
            "Content-Type: application/json\r\n"
            "Cache-Control: no-store\r\n"
            # every answer carries an id, these too (the app never saw the request)
            f"X-Request-Id: {secrets.token_hex(8)}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        try:
            util.write_nonblock(client, (head + body).encode("latin-1"))
        except OSError:
            self.log.debug("Failed to send error message.")


class _NoDatabase:
    """Stands in for the pool when the master builds an app only to check the settings."""

    def transaction(
        self,
        principal: Principal = ANONYMOUS,
        *,
        pipelined: bool = False,
        generic_plans: bool = False,
    ) -> AbstractContextManager[Any]:
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


def gunicorn_telemetry(settings: Mapping[str, Any]) -> dict[str, Any]:
    """gunicorn settings for the logs and metrics (`skillgw serve`, deploy/gunicorn.conf.py).

    JSON log lines on stdout, gunicorn's error log included; no gunicorn access log (the app's
    request line replaces it, and holds no address, path or query). Workers keep their metric
    values in PROMETHEUS_MULTIPROC_DIR (a fresh temporary folder unless set), emptied when the
    master starts; a worker's gauges go with it.
    """
    made = metrics.MULTIPROC_ENV not in os.environ
    if made:
        os.environ[metrics.MULTIPROC_ENV] = tempfile.mkdtemp(prefix="gateway-metrics-")

    def on_starting(_arbiter: Any) -> None:
        metrics.prepare_multiprocess_dir(os.environ[metrics.MULTIPROC_ENV])

    def on_exit(_arbiter: Any) -> None:
        if made:
            shutil.rmtree(os.environ[metrics.MULTIPROC_ENV], ignore_errors=True)

    def child_exit(_arbiter: Any, worker: Any) -> None:
        metrics.worker_exited(worker.pid)

    return {
        "accesslog": None,
        "errorlog": "-",
        "loglevel": str(settings.get("LOG_LEVEL", "info")),
        "logconfig_dict": logs.config_dict(str(settings.get("LOG_LEVEL", "info"))),
        "on_starting": on_starting,
        "child_exit": child_exit,
        "on_exit": on_exit,
    }


def metrics_bind(settings: Mapping[str, Any], host: str) -> list[str]:
    """The extra address to bind when /metrics has a port of its own (else none)."""
    if settings.get("METRICS") != "port":
        return []
    port = int(settings["METRICS_PORT"])
    return [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]


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
    refuse_unshared_limits(settings, workers)
    prepare(settings)
    config = {**settings, "WORKERS": workers}

    def when_ready(_arbiter: Any) -> None:
        if on_ready is not None:
            on_ready(f"http://{host}:{port}")

    options = {
        **gunicorn_telemetry(settings),
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
        + metrics_bind(settings, host),
        "workers": workers,
        "worker_class": WORKER_CLASS,
        "limit_request_line": LIMIT_REQUEST_LINE,
        "limit_request_fields": LIMIT_REQUEST_FIELDS,
        "preload_app": False,
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
