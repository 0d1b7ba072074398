"""GET /metrics: Prometheus text, on its own port or behind a bearer token (never open)."""

import hashlib
import hmac

from flask import Blueprint, Response, current_app, request

from gateway import metrics
from gateway.exceptions import GatewayError, NotFound
from gateway.views.protection import database

bp = Blueprint("metrics", __name__)


class MetricsUnauthorized(GatewayError):
    status = 401
    code = "unauthorized"
    description = "This endpoint needs the metrics bearer token."

    def __init__(self) -> None:
        super().__init__()
        self.headers = {"WWW-Authenticate": 'Bearer realm="metrics"'}


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


@bp.get("/metrics")
def metrics_view() -> Response:
    mode = current_app.config["METRICS"]
    if mode == "port" and not metrics.on_metrics_port(
        request.environ, int(current_app.config["METRICS_PORT"])
    ):
        raise NotFound()
    if mode == "token":
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        expected = str(current_app.config["METRICS_TOKEN"])
        # equal-length digests: the comparison's time says nothing about the token
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            _digest(presented.strip()), _digest(expected)
        ):
            raise MetricsUnauthorized()
    return Response(metrics.exposition(database()), headers={"Content-Type": metrics.CONTENT_TYPE})
