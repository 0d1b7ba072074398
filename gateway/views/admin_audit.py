"""The admin API for the audit log (scope admin): query it, and verify its hash chain."""

from dataclasses import asdict
from typing import Any

from flask import Blueprint

from gateway.context import RequestContext
from gateway.exceptions import InvalidInput
from gateway.models import Row
from gateway.services import audit
from gateway.views.paging import DEFAULT_LIMIT, cursor_position, no_query, page, query_args
from gateway.views.protection import admin_route
from schemas.admin_audit import AuditPageSchema, AuditQuerySchema, AuditVerdictSchema

bp = Blueprint("admin_audit", __name__, url_prefix="/v1/admin")


def _actor(text: str) -> audit.Actor:
    kind, _, name = text.partition(":")
    try:
        return audit.SYSTEM if text == "system" else audit.Actor(kind, name)
    except ValueError as exc:
        raise InvalidInput(details={"actor": ["Not an actor the log could name."]}) from exc


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_value(item) for item in value)
    return str(value)


def _event(row: Row) -> dict[str, Any]:
    details = row["details"] or {}
    return {
        **row,
        "actor": f"{row['actor_kind']}:{row['actor_id']}" if row["actor_id"] else "system",
        "details": [{"name": name, "value": _value(details[name])} for name in sorted(details)],
    }


@bp.get("/audit")
@admin_route
def query_audit(ctx: RequestContext) -> dict[str, Any]:
    args = query_args(AuditQuerySchema())
    limit = args.get("limit", DEFAULT_LIMIT)
    before = cursor_position("audit", args)
    if before is not None and not isinstance(before, int):
        raise InvalidInput(details={"cursor": ["Not a cursor from this query; start again."]})
    rows = audit.query_events(
        ctx.conn,
        actor=_actor(args["actor"]) if "actor" in args else None,
        action=args.get("action"),
        developer_id=args.get("developer"),
        skill_id=str(args["skill"]) if "skill" in args else None,
        since=args.get("since"),
        until=args.get("until"),
        before=before,
        limit=limit + 1,
    )
    shown, cursor = page("audit", args, rows, limit=limit, position=lambda r: r["id"])
    body: dict[str, Any] = AuditPageSchema().dump(
        {"events": [_event(row) for row in shown], "next_cursor": cursor}
    )
    return body


@bp.get("/audit/verify")
@admin_route
def verify_audit(ctx: RequestContext) -> dict[str, Any]:
    no_query()
    verdict = audit.verify_audit_chain(ctx.conn)
    body: dict[str, Any] = AuditVerdictSchema().dump(asdict(verdict))
    return body
