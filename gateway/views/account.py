"""The signed-in user's own account, for the first-party app (scope privacy)."""

from typing import Any

from flask import Blueprint

from gateway.context import RequestContext
from gateway.services import user_accounts as accounts_service
from gateway.views.paging import no_query
from gateway.views.protection import user_route

bp = Blueprint("account", __name__)


@bp.get("/v1/me")
@user_route
def me(ctx: RequestContext) -> dict[str, Any]:
    """Who the user token acts for."""
    no_query()
    user_id = str(ctx.principal.user_id)
    return {
        "user_id": user_id,
        "platform_user_id": accounts_service.login_of(ctx.conn, user_id=user_id),
    }
