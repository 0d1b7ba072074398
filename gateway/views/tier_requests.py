"""The developer's side of the whitelist (scope transcripts:read): asking for a tier, and
reading the decisions."""

from typing import Any

from flask import Blueprint

from gateway.context import RequestContext
from gateway.models import Developer
from gateway.services import audit, tier_requests
from gateway.views.bodies import json_body
from gateway.views.paging import no_query
from gateway.views.protection import developer_route
from schemas.whitelist import TierRequestCreateSchema, TierRequestListSchema, TierRequestSchema

bp = Blueprint("tier_requests", __name__, url_prefix="/v1")


@bp.post("/developer/tier-requests")
@developer_route
def request_tier(ctx: RequestContext, developer: Developer) -> tuple[dict[str, Any], int]:
    body = TierRequestCreateSchema().load(json_body())
    filed = tier_requests.submit_request(
        ctx.conn,
        actor=audit.Actor.of(ctx.principal),
        developer_id=developer.id,
        tier=body["tier"],
        purpose=body["purpose"],
        accepted_terms=body["accepted_terms"],
    )
    body_out: dict[str, Any] = TierRequestSchema().dump(filed)
    return body_out, 201


@bp.get("/developer/tier-requests")
@developer_route
def list_my_tier_requests(ctx: RequestContext, developer: Developer) -> dict[str, Any]:
    no_query()
    mine = tier_requests.list_requests(ctx.conn, developer_id=developer.id)
    body: dict[str, Any] = TierRequestListSchema().dump({"requests": mine})
    return body
