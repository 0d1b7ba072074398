"""The voice relay (scope ingest): what a user tells the assistant about their consents and
their data, done by the platform on their behalf and audited with the platform as the actor."""

from typing import Any

from flask import Blueprint

from gateway.context import RequestContext
from gateway.services import audit
from gateway.services import consents as consents_service
from gateway.services import deletions as deletions_service
from gateway.services import users as users_service
from gateway.views.bodies import json_body, no_body
from gateway.views.me import deletion_range, keyring, out, query_args, receipt_body
from gateway.views.protection import platform_route
from schemas.consents import ConsentSchema, ConsentUpdateSchema
from schemas.deletions import DeletionQuerySchema

bp = Blueprint("relay", __name__, url_prefix="/v1/platform/users")

_CONSENT_UPDATE = ConsentUpdateSchema()
_CONSENT = ConsentSchema()
_DELETION_QUERY = DeletionQuerySchema()


def _user(ctx: RequestContext, platform_user_id: str) -> str:
    """The gateway id of the platform's user; 404 for one it never sent."""
    return users_service.get_user_id(ctx.conn, platform_user_id)


@bp.put("/<user_id>/consents/<uuid:skill_id>")
@platform_route
def grant_consent(ctx: RequestContext, user_id: str, skill_id: Any) -> dict[str, Any]:
    body = _CONSENT_UPDATE.load(json_body())
    state = consents_service.give_consent(
        ctx.conn,
        actor=audit.Actor.of(ctx.principal),
        user_id=_user(ctx, user_id),
        skill_id=str(skill_id),
        categories=body.get("categories"),
    )
    return out(_CONSENT, state)


@bp.delete("/<user_id>/consents/<uuid:skill_id>")
@platform_route
def revoke_consent(ctx: RequestContext, user_id: str, skill_id: Any) -> dict[str, Any]:
    no_body()
    state = consents_service.withdraw_consent(
        ctx.conn,
        actor=audit.Actor.of(ctx.principal),
        user_id=_user(ctx, user_id),
        skill_id=str(skill_id),
        keyring=keyring(),
    )
    return out(_CONSENT, state)


@bp.delete("/<user_id>/interactions")
@platform_route
def delete_interactions(ctx: RequestContext, user_id: str) -> dict[str, Any]:
    no_body()
    since, until = deletion_range(query_args(_DELETION_QUERY))
    receipt = deletions_service.delete_interactions(
        ctx.conn,
        actor=audit.Actor.of(ctx.principal),
        user_id=_user(ctx, user_id),
        since=since,
        until=until,
        now=ctx.now(),
    )
    return receipt_body(receipt)
