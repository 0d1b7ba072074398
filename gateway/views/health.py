"""Liveness and readiness probes for load balancers and orchestrators."""

from typing import Any

from flask import Blueprint

from gateway import migrate
from gateway.exceptions import Unavailable
from gateway.models import ANONYMOUS
from gateway.views.protection import database

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> dict[str, Any]:
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> dict[str, Any]:
    """Ready when the database answers and every migration this code knows is applied."""
    with database().transaction(ANONYMOUS) as conn:
        applied = migrate.applied_versions(conn)
    missing = [m.version for m in migrate.discover() if m.version not in applied]
    if missing:
        raise Unavailable("The database schema is behind this release; run `skillgw db upgrade`.")
    return {"status": "ready", "schema_version": max(applied)}
