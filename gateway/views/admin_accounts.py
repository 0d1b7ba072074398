"""The admin API for accounts (scope admin): developers and their suspension, skills, and OAuth
clients with their rotation and revocation. The URL names the resource acted on; a body never
names another (ids in a body are unknown fields, refused)."""

from datetime import timedelta
from typing import Any

from flask import Blueprint
from marshmallow import Schema

from gateway.context import RequestContext
from gateway.exceptions import InvalidInput
from gateway.services import audit
from gateway.services import developers as developers_service
from gateway.services import oauth_clients as clients_service
from gateway.services import skills as skills_service
from gateway.views.bodies import json_body, no_body
from gateway.views.paging import DEFAULT_LIMIT, cursor_position, no_query, page, query_args
from gateway.views.protection import admin_route
from schemas.admin_accounts import (
    AdminClientPageSchema,
    AdminClientSchema,
    AdminDeveloperDetailSchema,
    AdminDeveloperPageSchema,
    AdminDeveloperSchema,
    AdminSkillPageSchema,
    AdminSkillSchema,
    ClientCreateSchema,
    ClientQuerySchema,
    DeveloperCreateSchema,
    DeveloperQuerySchema,
    IssuedClientSchema,
    NoFieldsSchema,
    PageQuerySchema,
    RevokedClientSchema,
    RotatedSecretSchema,
    RotationCreateSchema,
    SkillCreateSchema,
    SkillQuerySchema,
    SuspendedDeveloperSchema,
)

bp = Blueprint("admin_accounts", __name__, url_prefix="/v1/admin")

# client ids are `dev_`, `adm_` or `pla_` and 24 hex digits; anything longer is nobody's
CLIENT_ID = "<string(maxlength=64):client_id>"


def _out(schema: Schema, data: Any) -> dict[str, Any]:
    body: dict[str, Any] = schema.dump(data)
    return body


def _actor(ctx: RequestContext) -> audit.Actor:
    return audit.Actor.of(ctx.principal)


# --- developers


@bp.get("/developers")
@admin_route
def list_developers(ctx: RequestContext) -> dict[str, Any]:
    args = query_args(DeveloperQuerySchema())
    limit = args.get("limit", DEFAULT_LIMIT)
    after = cursor_position("developers", args)
    if after is not None and not isinstance(after, int):
        raise InvalidInput(details={"cursor": ["Not a cursor from this query; start again."]})
    rows = developers_service.list_developers(
        ctx.conn, after=after, limit=limit + 1, suspended=args.get("suspended"), now=ctx.now()
    )
    shown, cursor = page("developers", args, rows, limit=limit, position=lambda r: r["id"])
    return _out(AdminDeveloperPageSchema(), {"developers": shown, "next_cursor": cursor})


@bp.post("/developers")
@admin_route
def register_developer(ctx: RequestContext) -> tuple[dict[str, Any], int]:
    body = DeveloperCreateSchema().load(json_body())
    developer_id = developers_service.register_developer(
        ctx.conn, actor=_actor(ctx), name=body["name"], contact_email=body["contact_email"]
    )
    account = developers_service.get_developer_account(ctx.conn, developer_id=developer_id)
    return _out(AdminDeveloperSchema(), account), 201


def _detail(ctx: RequestContext, developer_id: int) -> dict[str, Any]:
    account = developers_service.get_developer_account(
        ctx.conn, developer_id=developer_id, now=ctx.now()
    )
    skills = skills_service.list_all_skills(ctx.conn, developer_id=developer_id, limit=1000)
    clients = clients_service.list_clients(ctx.conn, developer_id=developer_id, limit=1000)
    return _out(AdminDeveloperDetailSchema(), {**account, "skills": skills, "clients": clients})


@bp.get("/developers/<int:developer_id>")
@admin_route
def show_developer(ctx: RequestContext, developer_id: int) -> dict[str, Any]:
    no_query()
    return _detail(ctx, developer_id)


@bp.post("/developers/<int:developer_id>/suspension")
@admin_route
def suspend_developer(ctx: RequestContext, developer_id: int) -> dict[str, Any]:
    NoFieldsSchema().load(json_body())
    account = developers_service.suspend_developer(
        ctx.conn, actor=_actor(ctx), developer_id=developer_id, now=ctx.now()
    )
    return _out(SuspendedDeveloperSchema(), account)


@bp.delete("/developers/<int:developer_id>/suspension")
@admin_route
def reinstate_developer(ctx: RequestContext, developer_id: int) -> dict[str, Any]:
    no_body()
    account = developers_service.reinstate_developer(
        ctx.conn, actor=_actor(ctx), developer_id=developer_id
    )
    return _out(AdminDeveloperSchema(), account)


# --- skills


def _skill_page(
    ctx: RequestContext, listing: str, args: dict[str, Any], developer_id: int | None
) -> dict[str, Any]:
    limit = args.get("limit", DEFAULT_LIMIT)
    after = cursor_position(listing, args)
    if after is not None and not isinstance(after, str):
        raise InvalidInput(details={"cursor": ["Not a cursor from this query; start again."]})
    rows = skills_service.list_all_skills(
        ctx.conn, developer_id=developer_id, after=after, limit=limit + 1
    )
    shown, cursor = page(listing, args, rows, limit=limit, position=lambda r: str(r["id"]))
    return _out(AdminSkillPageSchema(), {"skills": shown, "next_cursor": cursor})


@bp.get("/skills")
@admin_route
def list_skills(ctx: RequestContext) -> dict[str, Any]:
    args = query_args(SkillQuerySchema())
    return _skill_page(ctx, "skills", args, args.get("developer"))


@bp.get("/developers/<int:developer_id>/skills")
@admin_route
def list_developer_skills(ctx: RequestContext, developer_id: int) -> dict[str, Any]:
    args = query_args(PageQuerySchema())
    developers_service.get_developer_account(ctx.conn, developer_id=developer_id)  # 404
    return _skill_page(ctx, f"skills:{developer_id}", args, developer_id)


@bp.post("/developers/<int:developer_id>/skills")
@admin_route
def register_skill(ctx: RequestContext, developer_id: int) -> tuple[dict[str, Any], int]:
    body = SkillCreateSchema().load(json_body())
    skill = skills_service.register_skill(
        ctx.conn,
        actor=_actor(ctx),
        developer_id=developer_id,
        name=body["name"],
        category=body.get("category", "general"),
    )
    return _out(AdminSkillSchema(), skill), 201


# --- OAuth clients


@bp.get("/clients")
@admin_route
def list_clients(ctx: RequestContext) -> dict[str, Any]:
    args = query_args(ClientQuerySchema())
    limit = args.get("limit", DEFAULT_LIMIT)
    after = cursor_position("clients", args)
    if after is not None and not isinstance(after, str):
        raise InvalidInput(details={"cursor": ["Not a cursor from this query; start again."]})
    rows = clients_service.list_clients(
        ctx.conn,
        developer_id=args.get("developer"),
        kind=args.get("kind"),
        after=after,
        limit=limit + 1,
    )
    shown, cursor = page("clients", args, rows, limit=limit, position=lambda r: r["client_id"])
    return _out(AdminClientPageSchema(), {"clients": shown, "next_cursor": cursor})


@bp.post("/clients")
@admin_route
def create_client(ctx: RequestContext) -> tuple[dict[str, Any], int]:
    body = ClientCreateSchema().load(json_body())
    issued = clients_service.create_client(
        ctx.conn,
        actor=_actor(ctx),
        kind=body["kind"],
        developer_id=body.get("developer_id"),
        name=body.get("name", ""),
    )
    return _out(
        IssuedClientSchema(), {**issued.__dict__, "developer_id": body.get("developer_id")}
    ), 201


@bp.get(f"/clients/{CLIENT_ID}")
@admin_route
def show_client(ctx: RequestContext, client_id: str) -> dict[str, Any]:
    no_query()
    return _out(AdminClientSchema(), clients_service.get_client(ctx.conn, client_id=client_id))


@bp.post(f"/clients/{CLIENT_ID}/rotation")
@admin_route
def rotate_client_secret(ctx: RequestContext, client_id: str) -> dict[str, Any]:
    body = RotationCreateSchema().load(json_body())
    seconds = body.get("grace_seconds", 0)
    rotated = clients_service.rotate_secret(
        ctx.conn,
        actor=_actor(ctx),
        client_id=client_id,
        grace=timedelta(seconds=seconds) if seconds else None,
        now=ctx.now(),
    )
    return _out(
        RotatedSecretSchema(),
        {**rotated.__dict__, "previous_secret_valid_until": rotated.previous_valid_until},
    )


@bp.post(f"/clients/{CLIENT_ID}/revocation")
@admin_route
def revoke_client(ctx: RequestContext, client_id: str) -> dict[str, Any]:
    NoFieldsSchema().load(json_body())
    revoked = clients_service.revoke_client(
        ctx.conn, actor=_actor(ctx), client_id=client_id, now=ctx.now()
    )
    return _out(RevokedClientSchema(), revoked)
