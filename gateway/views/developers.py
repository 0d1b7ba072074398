"""The developer API (scope transcripts:read): who am I, my skills, their interactions and
their k-anonymous stats."""

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, current_app, request
from marshmallow import Schema

from gateway.context import RequestContext
from gateway.exceptions import InvalidInput
from gateway.models import Developer, Keyring
from gateway.security import sign_cursor, verify_cursor
from gateway.services import developers as developers_service
from gateway.services import interactions as interactions_service
from gateway.services import skills as skills_service
from gateway.services import stats as stats_service
from gateway.services import webhooks as webhooks_service
from gateway.services import whitelist as whitelist_service
from gateway.services.interactions import InteractionFilter
from gateway.views.bodies import json_body, no_body
from gateway.views.paging import no_query
from gateway.views.protection import developer_read_route, developer_route
from schemas.compiled import compile_dump
from schemas.developers import (
    DeveloperSchema,
    SkillListSchema,
    SkillSchema,
    WebhookRegistrationSchema,
    WebhookSchema,
    WebhookSecretSchema,
    WebhookUpdateSchema,
)
from schemas.interactions import (
    ConversationSchema,
    InteractionPageSchema,
    InteractionQuerySchema,
    InteractionSchema,
)
from schemas.stats import SkillStatsSchema, StatsQuerySchema

bp = Blueprint("developers", __name__, url_prefix="/v1")

_DEVELOPER = DeveloperSchema()
_SKILL = SkillSchema()
_SKILLS = SkillListSchema()
_QUERY = InteractionQuerySchema()
# the transcript reads' responses, dumped by their schemas compiled (schemas/compiled.py)
_INTERACTION = compile_dump(InteractionSchema)
_PAGE = compile_dump(InteractionPageSchema)
_CONVERSATION = compile_dump(ConversationSchema)
_WEBHOOK_UPDATE = WebhookUpdateSchema()
_WEBHOOK_REGISTRATION = WebhookRegistrationSchema()
_WEBHOOK = WebhookSchema()
_WEBHOOK_SECRET = WebhookSecretSchema()
_STATS_QUERY = StatsQuerySchema()
_STATS = SkillStatsSchema()
_FILTER_ARGS = ("since", "until", "intent", "outcome", "order_ref", "user", "session", "q")


def _keyring() -> Keyring:
    keyring: Keyring = current_app.extensions["gateway.keyring"]
    return keyring


def _cursor_key() -> bytes:
    secret: str = current_app.config["SECRET_KEY"]
    return secret.encode()


def _out(schema: Schema, data: Any) -> dict[str, Any]:
    body: dict[str, Any] = schema.dump(data)
    return body


@bp.get("/developer")
@developer_route
def who_am_i(ctx: RequestContext, developer: Developer) -> dict[str, Any]:
    no_query()
    profile = developers_service.describe_developer(
        ctx.conn, developer_id=developer.id, now=ctx.now()
    )
    tier = profile.developer.tier
    return _out(
        _DEVELOPER,
        {
            "id": developer.id,
            "name": developer.name,
            "tier": {
                **tier.__dict__,
                "expires_at": profile.developer.tier_expires_at,
                "expiry_warning": whitelist_service.expiry_warning(
                    profile.developer, now=ctx.now()
                ),
            },
            "skills": profile.skills,
        },
    )


@bp.get("/skills")
@developer_route
def list_skills(ctx: RequestContext, developer: Developer) -> dict[str, Any]:
    no_query()
    skills = skills_service.list_skills(ctx.conn, developer_id=developer.id)
    return _out(_SKILLS, {"skills": skills})


@bp.get("/skills/<uuid:skill_id>")
@developer_route
def show_skill(ctx: RequestContext, developer: Developer, skill_id: Any) -> dict[str, Any]:
    no_query()
    skill = skills_service.get_skill(ctx.conn, developer_id=developer.id, skill_id=str(skill_id))
    return _out(_SKILL, skill)


def _query_args() -> dict[str, Any]:
    repeated = [name for name, values in request.args.lists() if len(values) > 1]
    if repeated:
        raise InvalidInput(details={name: ["Give this parameter once."] for name in repeated})
    args: dict[str, Any] = _QUERY.load(request.args.to_dict())
    if "since" in args and "until" in args and args["since"] >= args["until"]:
        raise InvalidInput(details={"until": ["Must be later than since."]})
    return args


def _fingerprint(skill_id: str, args: dict[str, Any]) -> str:
    # binds a cursor to the query it came from: reusing it with other filters is an error
    parts = {name: str(args.get(name)) for name in _FILTER_ARGS}
    blob = json.dumps({"skill": skill_id, **parts}, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _decode_cursor(cursor: str, fingerprint: str) -> tuple[datetime, str]:
    payload = verify_cursor(cursor, key=_cursor_key())
    if payload is None or payload.get("q") != fingerprint:
        raise InvalidInput(details={"cursor": ["Not a cursor from this query; start again."]})
    try:
        return datetime.fromisoformat(payload["t"]), str(payload["i"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(details={"cursor": ["Not a cursor from this query."]}) from exc


@bp.get("/skills/<uuid:skill_id>/interactions")
@developer_read_route
def list_interactions(ctx: RequestContext, developer: Developer, skill_id: Any) -> dict[str, Any]:
    args = _query_args()
    fingerprint = _fingerprint(str(skill_id), args)
    after = _decode_cursor(args["cursor"], fingerprint) if "cursor" in args else None
    page = interactions_service.read_interactions(
        ctx.conn,
        developer=developer,
        client_id=ctx.principal.client_id or "",
        skill_id=str(skill_id),
        filters=InteractionFilter(
            since=args.get("since"),
            until=args.get("until"),
            intent=args.get("intent"),
            outcome=args.get("outcome"),
            order_ref=args.get("order_ref"),
            search=args.get("q"),
        ),
        user_pseudonym=args.get("user"),
        session_pseudonym=args.get("session"),
        after=after,
        limit=args.get("limit"),
        now=ctx.now(),
        keyring=_keyring(),
    )
    next_cursor = None
    if page.next_after is not None:
        occurred_at, interaction_id = page.next_after
        next_cursor = sign_cursor(
            {"t": occurred_at.isoformat(), "i": interaction_id, "q": fingerprint},
            key=_cursor_key(),
        )
    body: dict[str, Any] = _PAGE({"interactions": page.items, "next_cursor": next_cursor})
    return body


@bp.get("/skills/<uuid:skill_id>/interactions/<uuid:interaction_id>")
@developer_read_route
def show_interaction(
    ctx: RequestContext, developer: Developer, skill_id: Any, interaction_id: Any
) -> dict[str, Any]:
    no_query()
    item = interactions_service.read_interaction(
        ctx.conn,
        developer=developer,
        client_id=ctx.principal.client_id or "",
        skill_id=str(skill_id),
        interaction_id=str(interaction_id),
        now=ctx.now(),
        keyring=_keyring(),
    )
    body: dict[str, Any] = _INTERACTION(item)
    return body


@bp.get("/skills/<uuid:skill_id>/sessions/<string(maxlength=64):session>")
@developer_read_route
def show_conversation(
    ctx: RequestContext, developer: Developer, skill_id: Any, session: str
) -> dict[str, Any]:
    no_query()
    turns = interactions_service.read_conversation(
        ctx.conn,
        developer=developer,
        client_id=ctx.principal.client_id or "",
        skill_id=str(skill_id),
        session_pseudonym=session,
        now=ctx.now(),
        keyring=_keyring(),
    )
    body: dict[str, Any] = _CONVERSATION({"session": session, "turns": turns})
    return body


@bp.put("/developer/webhook")
@developer_route
def put_webhook(ctx: RequestContext, developer: Developer) -> dict[str, Any]:
    update = _WEBHOOK_UPDATE.load(json_body())
    registration = webhooks_service.register_webhook(
        ctx.conn,
        developer_id=developer.id,
        url=update["url"],
        server_secret=current_app.config["SECRET_KEY"],
        allow_loopback=current_app.config["WEBHOOK_ALLOW_LOOPBACK"],
    )
    return _out(_WEBHOOK_REGISTRATION, registration)


@bp.get("/developer/webhook")
@developer_route
def show_webhook(ctx: RequestContext, developer: Developer) -> dict[str, Any]:
    no_query()
    return _out(_WEBHOOK, webhooks_service.describe_webhook(ctx.conn, developer_id=developer.id))


@bp.post("/developer/webhook/secret")
@developer_route
def rotate_webhook_secret(ctx: RequestContext, developer: Developer) -> dict[str, Any]:
    no_body()
    moment = ctx.now()
    grace = timedelta(hours=current_app.config["WEBHOOK_SECRET_GRACE_HOURS"])
    secret = webhooks_service.rotate_webhook_secret(
        ctx.conn,
        developer_id=developer.id,
        server_secret=current_app.config["SECRET_KEY"],
        now=moment,
        grace=grace,
    )
    return _out(_WEBHOOK_SECRET, {"secret": secret, "previous_valid_until": moment + grace})


@bp.get("/skills/<uuid:skill_id>/stats")
@developer_route
def skill_stats(ctx: RequestContext, developer: Developer, skill_id: Any) -> dict[str, Any]:
    _STATS_QUERY.load(request.args.to_dict())  # takes no parameters: any is a 422
    stats = stats_service.read_skill_stats(
        ctx.conn,
        developer=developer,
        client_id=ctx.principal.client_id or "",
        skill_id=str(skill_id),
        now=ctx.now(),
    )
    return _out(_STATS, stats)
