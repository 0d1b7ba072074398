"""Liveness and readiness probes for load balancers and orchestrators."""

import logging
from typing import Any

from flask import Blueprint

from gateway import migrate
from gateway.db import binding_verified
from gateway.exceptions import Unavailable
from gateway.models import ANONYMOUS
from gateway.views.protection import database

logger = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> dict[str, Any]:
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> dict[str, Any]:
    """Ready when the database answers, has every migration applied and verifies our callers.

    A database holding another binding key refuses this instance's privileged writes, so an
    instance started with a different GATEWAY_SECRET_KEY must not take traffic.
    """
    with database().transaction(ANONYMOUS) as conn:
        applied = migrate.applied_versions(conn)
        missing = [m.version for m in migrate.discover() if m.version not in applied]
        verified = not missing and binding_verified(conn)
    if missing:
        raise Unavailable("The database schema is behind this release; run `skillgw db upgrade`.")
    if not verified:
        logger.error(
            "not ready: the database does not verify this instance's caller proofs; its binding "
            "key is missing or was derived from another GATEWAY_SECRET_KEY. Every instance and "
            "`skillgw db upgrade` need the same GATEWAY_SECRET_KEY."
        )
        raise Unavailable("This instance is not ready to serve.")
    return {"status": "ready", "schema_version": max(applied)}
