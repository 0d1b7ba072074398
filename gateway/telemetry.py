"""Per-request telemetry: the request id every response carries, the JSON request line, the
request metrics; and the /metrics exposure the settings choose (off, a port, a token)."""

import secrets
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, request

from gateway import context, logs, metrics

REQUEST_ID_HEADER = "X-Request-Id"


def check_settings(settings: Mapping[str, Any]) -> None:
    """Raise ValueError for a metrics exposure that would be open by mistake."""
    mode = settings["METRICS"]
    if mode not in metrics.MODES:
        raise ValueError(f"METRICS must be one of {', '.join(metrics.MODES)}")
    if mode == "token" and len(str(settings["METRICS_TOKEN"])) < 16:
        raise ValueError("METRICS=token needs METRICS_TOKEN of at least 16 characters")
    if mode == "port" and int(settings["METRICS_PORT"]) == int(settings["PORT"]):
        raise ValueError("METRICS_PORT must differ from PORT")


def request_id() -> str:
    """This request's id: the one its transaction's context took, else one made now."""
    ctx = context.find()
    if ctx is not None:
        return ctx.request_id
    value: str = context.request_state().setdefault("request_id", secrets.token_hex(8))
    return value


def _start() -> Response | None:
    state = context.request_state()
    state["started"] = time.perf_counter()
    state["request_id"] = secrets.token_hex(8)
    if (
        current_app.config["METRICS"] == "port"
        and request.endpoint != "metrics.metrics_view"
        and metrics.on_metrics_port(request.environ, int(current_app.config["METRICS_PORT"]))
    ):
        # the metrics port answers /metrics and nothing else: the API is not served there
        from gateway.exceptions import NotFound
        from gateway.views.errors import envelope

        return envelope(404, NotFound.code, NotFound.description)
    return None


def _finish(response: Response) -> Response:
    rid = request_id()
    response.headers[REQUEST_ID_HEADER] = rid
    rule = request.url_rule
    route = rule.rule if rule is not None else metrics.UNMATCHED
    started = context.request_state().get("started")
    seconds = time.perf_counter() - started if started is not None else 0.0
    status = response.status_code
    ctx = context.find()
    metrics.observe_request(route, request.method, status, seconds)
    if status < 400:
        for kind, rows in context.request_state().get("ingested", {}).items():
            metrics.count_ingested(kind, rows)
    logs.log_request(
        {
            "request_id": rid,
            "method": metrics.method_label(request.method),
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
            "client_id": ctx.principal.client_id if ctx is not None else None,
        }
    )
    return response


def ingested(kind: str, rows: int) -> None:
    """Count `rows` of `kind` as ingested once the request's answer is a success."""
    counts: dict[str, int] = context.request_state().setdefault("ingested", {})
    counts[kind] = counts.get(kind, 0) + rows


def init_app(app: Flask) -> None:
    """Install the hooks: first before any other, last after every other."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    # Flask runs the after-request functions last registered first: this one sees the final
    # status and headers
    app.after_request_funcs.setdefault(None, []).insert(0, _finish)
    if app.config["METRICS"] != "off":
        from gateway.views import metrics as metrics_views

        app.register_blueprint(metrics_views.bp)
        pool = metrics.pool_of(app.extensions["gateway.db"])
        if pool is not None:
            metrics.start_pool_sampler(pool)
