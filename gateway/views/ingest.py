"""The platform's API (scope ingest): push users and interactions in."""

from typing import Any

from flask import Blueprint

from gateway.context import RequestContext
from gateway.services import ingest as ingest_service
from gateway.views.bodies import json_body
from gateway.views.protection import platform_route
from schemas.ingest import (
    IngestedInteractionsSchema,
    IngestedUsersSchema,
    IngestInteractionsSchema,
    IngestUsersSchema,
)

bp = Blueprint("ingest", __name__, url_prefix="/v1/ingest")

_USERS_IN = IngestUsersSchema()
_USERS_OUT = IngestedUsersSchema()
_INTERACTIONS_IN = IngestInteractionsSchema()
_INTERACTIONS_OUT = IngestedInteractionsSchema()


@bp.post("/users")
@platform_route
def ingest_users(ctx: RequestContext) -> dict[str, Any]:
    batch = _USERS_IN.load(json_body())
    rows = ingest_service.ingest_users(ctx.conn, batch["users"])
    body: dict[str, Any] = _USERS_OUT.dump({"accepted": len(rows)})
    return body


@bp.post("/interactions")
@platform_route
def ingest_interactions(ctx: RequestContext) -> dict[str, Any]:
    batch = _INTERACTIONS_IN.load(json_body())
    results = ingest_service.ingest_interactions(ctx.conn, batch["interactions"], now=ctx.now())
    body: dict[str, Any] = _INTERACTIONS_OUT.dump(
        {
            "accepted": len(results),
            "interactions": [
                {"interaction_id": r.platform_interaction_id, "id": r.id} for r in results
            ],
        }
    )
    return body
