"""The admin API for the whitelist (scope admin): tiers, a developer's grants and their
history, and the developers' tier requests. The URL names what is acted on; a body never
names another (ids in a body are unknown fields, refused)."""

from typing import Any

from flask import Blueprint, request
from marshmallow import Schema

from gateway.context import RequestContext
from gateway.exceptions import InvalidInput, NotFound
from gateway.services import audit, tier_catalog, tier_requests, whitelist
from gateway.views.bodies import json_body
from gateway.views.paging import no_query
from gateway.views.protection import admin_route
from schemas.whitelist import (
    AdminTierListSchema,
    AdminTierRequestPageSchema,
    AdminTierRequestSchema,
    AdminTierSchema,
    GrantCreateSchema,
    GrantHistorySchema,
    GrantRevokeSchema,
    GrantSchema,
    TierCreateSchema,
    TierRequestApproveSchema,
    TierRequestDenySchema,
    TierRequestQuerySchema,
    TierUpdateSchema,
)

bp = Blueprint("admin_whitelist", __name__, url_prefix="/v1/admin")

TIER = "<string(maxlength=32):name>"
DEVELOPER = "<int:developer_id>"
REQUEST = "<int:request_id>"
BIGINT = 2**63 - 1
DEFAULT_LIMIT = 50


def _out(schema: Schema, data: Any) -> dict[str, Any]:
    body: dict[str, Any] = schema.dump(data)
    return body


def _actor(ctx: RequestContext) -> audit.Actor:
    return audit.Actor.of(ctx.principal)


def _id(value: int) -> int:
    """An id from the URL: one no bigint can hold names nothing (a 404, as a missing one)."""
    if value > BIGINT:
        raise NotFound()
    return value


def _query(schema: Schema) -> dict[str, Any]:
    repeated = [name for name, values in request.args.lists() if len(values) > 1]
    if repeated:
        raise InvalidInput(details={name: ["Give this parameter once."] for name in repeated})
    args: dict[str, Any] = schema.load(request.args.to_dict())
    return args


# --- tiers


@bp.get("/tiers")
@admin_route
def list_tiers(ctx: RequestContext) -> dict[str, Any]:
    no_query()
    return _out(AdminTierListSchema(), {"tiers": tier_catalog.list_tiers(ctx.conn)})


@bp.post("/tiers")
@admin_route
def create_tier(ctx: RequestContext) -> tuple[dict[str, Any], int]:
    body = TierCreateSchema().load(json_body())
    tier = tier_catalog.create_tier(ctx.conn, actor=_actor(ctx), **body)
    return _out(AdminTierSchema(), tier), 201


@bp.get(f"/tiers/{TIER}")
@admin_route
def show_tier(ctx: RequestContext, name: str) -> dict[str, Any]:
    no_query()
    return _out(AdminTierSchema(), tier_catalog.get_tier(ctx.conn, name=name))


@bp.patch(f"/tiers/{TIER}")
@admin_route
def change_tier(ctx: RequestContext, name: str) -> dict[str, Any]:
    changes = TierUpdateSchema().load(json_body())
    tier = tier_catalog.update_tier(ctx.conn, actor=_actor(ctx), name=name, **changes)
    return _out(AdminTierSchema(), tier)


# --- grants


def _history(ctx: RequestContext, developer_id: int) -> dict[str, Any]:
    return {
        "developer_id": developer_id,
        "current_tier": whitelist.current_tier_name(
            ctx.conn, developer_id=developer_id, now=ctx.now()
        ),
        "grants": whitelist.grant_history(ctx.conn, developer_id=developer_id, now=ctx.now()),
    }


@bp.post(f"/developers/{DEVELOPER}/grants")
@admin_route
def grant_tier(ctx: RequestContext, developer_id: int) -> tuple[dict[str, Any], int]:
    developer_id = _id(developer_id)
    body = GrantCreateSchema().load(json_body())
    grant_id = whitelist.grant_tier(
        ctx.conn,
        actor=_actor(ctx),
        developer_id=developer_id,
        tier=body["tier"],
        reason=body["reason"],
        expires_at=body["expires_at"],
        now=ctx.now(),
    )
    grant = whitelist.get_grant(
        ctx.conn, developer_id=developer_id, grant_id=grant_id, now=ctx.now()
    )
    return _out(GrantSchema(), grant), 201


@bp.get(f"/developers/{DEVELOPER}/grants")
@admin_route
def list_grants(ctx: RequestContext, developer_id: int) -> dict[str, Any]:
    no_query()
    developer_id = _id(developer_id)
    return _out(GrantHistorySchema(), _history(ctx, developer_id))


@bp.delete(f"/developers/{DEVELOPER}/grants/current")
@admin_route
def revoke_grant(ctx: RequestContext, developer_id: int) -> dict[str, Any]:
    developer_id = _id(developer_id)
    body = GrantRevokeSchema().load(json_body())
    whitelist.revoke_grant(
        ctx.conn,
        actor=_actor(ctx),
        developer_id=developer_id,
        reason=body["reason"],
        now=ctx.now(),
    )
    return _out(GrantHistorySchema(), _history(ctx, developer_id))


# --- tier requests


@bp.get("/tier-requests")
@admin_route
def list_tier_requests(ctx: RequestContext) -> dict[str, Any]:
    args = _query(TierRequestQuerySchema())
    limit = args.get("limit", DEFAULT_LIMIT)
    rows = tier_requests.list_requests(
        ctx.conn,
        status=args.get("status"),
        developer_id=args.get("developer"),
        after=args.get("after"),
        limit=limit + 1,
    )
    shown = rows[:limit]
    next_after = shown[-1]["id"] if len(rows) > limit else None
    return _out(AdminTierRequestPageSchema(), {"requests": shown, "next_after": next_after})


@bp.post(f"/tier-requests/{REQUEST}/approve")
@admin_route
def approve_tier_request(ctx: RequestContext, request_id: int) -> dict[str, Any]:
    request_id = _id(request_id)
    body = TierRequestApproveSchema().load(json_body())
    decided = tier_requests.approve_request(
        ctx.conn,
        actor=_actor(ctx),
        request_id=request_id,
        expires_at=body["expires_at"],
        reason=body["reason"],
        now=ctx.now(),
    )
    return _out(AdminTierRequestSchema(), decided)


@bp.post(f"/tier-requests/{REQUEST}/deny")
@admin_route
def deny_tier_request(ctx: RequestContext, request_id: int) -> dict[str, Any]:
    request_id = _id(request_id)
    body = TierRequestDenySchema().load(json_body())
    decided = tier_requests.deny_request(
        ctx.conn, actor=_actor(ctx), request_id=request_id, reason=body["reason"], now=ctx.now()
    )
    return _out(AdminTierRequestSchema(), decided)
