"""The users' API (scope privacy): my consents, every read of my data, deleting it."""

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, request
from marshmallow import Schema

from gateway.context import RequestContext
from gateway.exceptions import InvalidInput
from gateway.models import Keyring
from gateway.security import sign_cursor, verify_cursor
from gateway.services import access_log as access_log_service
from gateway.services import audit
from gateway.services import consents as consents_service
from gateway.services import deletions as deletions_service
from gateway.services import my_interactions as my_interactions_service
from gateway.views.bodies import json_body, no_body
from gateway.views.paging import cursor_position, next_cursor, no_query
from gateway.views.protection import user_route
from schemas.access_log import AccessLogPageSchema, AccessLogQuerySchema
from schemas.consents import ConsentListSchema, ConsentSchema, ConsentUpdateSchema
from schemas.deletions import (
    DeletionListSchema,
    DeletionQuerySchema,
    DeletionReceiptSchema,
    DeletionStatusSchema,
)
from schemas.my_interactions import MyInteractionPageSchema, MyInteractionsQuerySchema

bp = Blueprint("me", __name__, url_prefix="/v1/me")

_CONSENT_UPDATE = ConsentUpdateSchema()
_CONSENT = ConsentSchema()
_CONSENTS = ConsentListSchema()
_LOG_QUERY = AccessLogQuerySchema()
_LOG_PAGE = AccessLogPageSchema()
_DELETION_QUERY = DeletionQuerySchema()
_MINE_QUERY = MyInteractionsQuerySchema()
_MINE_PAGE = MyInteractionPageSchema()
_RECEIPT = DeletionReceiptSchema()
_RECEIPTS = DeletionListSchema()
_STATUS = DeletionStatusSchema()


def out(schema: Schema, data: Any) -> dict[str, Any]:
    body: dict[str, Any] = schema.dump(data)
    return body


def keyring() -> Keyring:
    found: Keyring = current_app.extensions["gateway.keyring"]
    return found


def query_args(schema: Schema) -> dict[str, Any]:
    """The query string through `schema`: each parameter once, else a clear 422."""
    repeated = [name for name, values in request.args.lists() if len(values) > 1]
    if repeated:
        raise InvalidInput(details={name: ["Give this parameter once."] for name in repeated})
    args: dict[str, Any] = schema.load(request.args.to_dict())
    return args


def deletion_range(args: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    since, until = args.get("since"), args.get("until")
    if since is not None and until is not None and since >= until:
        raise InvalidInput(details={"until": ["Must be later than since."]})
    return since, until


def receipt_body(receipt: deletions_service.Receipt) -> dict[str, Any]:
    return out(_RECEIPT, receipt.__dict__)


def _me(ctx: RequestContext) -> str:
    return str(ctx.principal.user_id)


@bp.get("/consents")
@user_route
def list_consents(ctx: RequestContext) -> dict[str, Any]:
    no_query()
    found = consents_service.list_my_consents(ctx.conn, user_id=_me(ctx))
    return out(_CONSENTS, {"consents": found})


@bp.put("/consents/<uuid:skill_id>")
@user_route
def grant_consent(ctx: RequestContext, skill_id: Any) -> dict[str, Any]:
    body = _CONSENT_UPDATE.load(json_body())
    state = consents_service.give_consent(
        ctx.conn,
        actor=audit.Actor.of(ctx.principal),
        user_id=_me(ctx),
        skill_id=str(skill_id),
        categories=body.get("categories"),
    )
    return out(_CONSENT, state)


@bp.delete("/consents/<uuid:skill_id>")
@user_route
def revoke_consent(ctx: RequestContext, skill_id: Any) -> dict[str, Any]:
    no_body()
    state = consents_service.withdraw_consent(
        ctx.conn,
        actor=audit.Actor.of(ctx.principal),
        user_id=_me(ctx),
        skill_id=str(skill_id),
        keyring=keyring(),
    )
    return out(_CONSENT, state)


def _cursor_key() -> bytes:
    secret: str = current_app.config["SECRET_KEY"]
    return secret.encode()


@bp.get("/access-log")
@user_route
def access_log(ctx: RequestContext) -> dict[str, Any]:
    args = query_args(_LOG_QUERY)
    after = None
    if "cursor" in args:
        payload = verify_cursor(args["cursor"], key=_cursor_key())
        try:
            if payload is None or payload.get("log") != _me(ctx):
                raise ValueError
            after = (datetime.fromisoformat(payload["t"]), int(payload["i"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(
                details={"cursor": ["Not a cursor from this log; start again."]}
            ) from exc
    page = access_log_service.list_my_reads(
        ctx.conn, user_id=_me(ctx), after=after, limit=args.get("limit", 50)
    )
    cursor = None
    if page.next_after is not None:
        at, last = page.next_after
        cursor = sign_cursor({"log": _me(ctx), "t": at.isoformat(), "i": last}, key=_cursor_key())
    return out(_LOG_PAGE, {"reads": page.items, "next_cursor": cursor})


@bp.get("/interactions")
@user_route
def list_interactions(ctx: RequestContext) -> dict[str, Any]:
    args = query_args(_MINE_QUERY)
    since, until = deletion_range(args)
    # the cursor is bound to this user and to the same filters (views/paging.py)
    listing = f"my-interactions:{_me(ctx)}"
    position = cursor_position(listing, args)
    try:
        after = None if position is None else (datetime.fromisoformat(position[0]), position[1])
    except (TypeError, ValueError, IndexError) as exc:
        raise InvalidInput(
            details={"cursor": ["Not a cursor from this query; start again."]}
        ) from exc
    skill_id = args.get("skill_id")
    page = my_interactions_service.list_my_interactions(
        ctx.conn,
        user_id=_me(ctx),
        skill_id=None if skill_id is None else str(skill_id),
        since=since,
        until=until,
        after=after,
        limit=args.get("limit", 50),
    )
    cursor = None
    if page.next_after is not None:
        at, last = page.next_after
        cursor = next_cursor(listing, args, [at.isoformat(), last])
    return out(_MINE_PAGE, {"interactions": page.items, "next_cursor": cursor})


@bp.delete("/interactions")
@user_route
def delete_interactions(ctx: RequestContext) -> dict[str, Any]:
    no_body()
    since, until = deletion_range(query_args(_DELETION_QUERY))
    receipt = deletions_service.delete_interactions(
        ctx.conn,
        actor=audit.Actor.of(ctx.principal),
        user_id=_me(ctx),
        since=since,
        until=until,
        now=ctx.now(),
    )
    return receipt_body(receipt)


@bp.get("/deletions")
@user_route
def list_deletions(ctx: RequestContext) -> dict[str, Any]:
    no_query()
    found = deletions_service.list_deletions(ctx.conn, user_id=_me(ctx))
    return out(_RECEIPTS, {"deletions": found})


@bp.get("/deletions/<uuid:deletion_id>")
@user_route
def show_deletion(ctx: RequestContext, deletion_id: Any) -> dict[str, Any]:
    no_query()
    status = deletions_service.deletion_status(
        ctx.conn, user_id=_me(ctx), deletion_id=str(deletion_id)
    )
    return out(_STATUS, status)
