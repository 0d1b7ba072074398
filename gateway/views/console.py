"""The admin web console at /admin: developers, tier requests, tiers, suspension, clients, each
skill's k-anonymous stats and the audit log, through the same services as the admin API."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from gateway.context import RequestContext
from gateway.exceptions import Conflict, InvalidInput
from gateway.services import audit, skill_stats_admin, tier_catalog, tier_requests, whitelist
from gateway.services import developers as developers_service
from gateway.services import oauth_clients as clients_service
from gateway.services import skills as skills_service
from gateway.views.page_forms import Form, render_errors_as_pages, start_of
from gateway.web import csrf
from gateway.web.pages import admin_page, page

bp = Blueprint("console", __name__, url_prefix="/admin")
render_errors_as_pages(bp)

PAGE_SIZE = 50
AUDIT_PAGE_SIZE = 50
# what a done= parameter after a redirect may say (never text from the request itself)
NOTICES = {
    "approved": "The request is approved: the developer is on its tier from now on.",
    "denied": "The request is denied; the developer can read the reason.",
    "tier": "The tier is changed.",
    "suspended": "The developer is suspended: its tokens are revoked and no new ones are issued.",
    "reinstated": "The developer is reinstated: its clients may get tokens again.",
}


def _page(template: str, account: Any, *, status: int = 200, **values: Any) -> Response:
    """A console page (no cache, no framing, the strict CSP), its forms carrying the token."""
    return page(
        template,
        status=status,
        kind="admin",
        account=account,
        csrf_token=csrf.token("admin"),
        **values,
    )


def _actor(ctx: RequestContext) -> audit.Actor:
    return audit.Actor.of(ctx.principal)


def _notice() -> str | None:
    return NOTICES.get(request.args.get("done", ""))


def _pending(ctx: RequestContext, developer_id: int | None = None) -> list[Any]:
    return tier_requests.list_requests(ctx.conn, status="pending", developer_id=developer_id)


# --- developers


@bp.get("/")
@admin_page
def home(ctx: RequestContext, account: Any) -> Response:
    return redirect(url_for("console.developers"))


@bp.get("/developers")
@admin_page
def developers(ctx: RequestContext, account: Any) -> Response:
    after = request.args.get("after", type=int)
    rows = developers_service.list_developers(ctx.conn, after=after, limit=PAGE_SIZE + 1)
    pending = _pending(ctx)
    waiting: dict[int, int] = {}
    for item in pending:
        waiting[item["developer_id"]] = waiting.get(item["developer_id"], 0) + 1
    return _page(
        "console_developers.html",
        account,
        developers=rows[:PAGE_SIZE],
        next_after=rows[PAGE_SIZE - 1]["id"] if len(rows) > PAGE_SIZE else None,
        pending=pending,
        waiting=waiting,
        now=ctx.now(),
        notice=_notice(),
    )


def _developer_page(
    ctx: RequestContext,
    account: Any,
    developer_id: int,
    *,
    status: int = 200,
    form: Form | None = None,
    which: str = "",
    issued: Any = None,
) -> Response:
    developer = developers_service.get_developer_account(ctx.conn, developer_id=developer_id)
    # page() sends no-store: the one response showing a client secret is never cached
    return _page(
        "console_developer.html",
        account,
        status=status,
        developer=developer,
        pending=_pending(ctx, developer_id),
        history=whitelist.grant_history(ctx.conn, developer_id=developer_id, now=ctx.now()),
        tiers=tier_catalog.list_tiers(ctx.conn),
        skills=skills_service.list_all_skills(ctx.conn, developer_id=developer_id, limit=1000),
        clients=clients_service.list_clients(ctx.conn, developer_id=developer_id, limit=1000),
        form=form,
        which=which,
        issued=issued,
        now=ctx.now(),
        notice=_notice(),
    )


@bp.get("/developers/<int:developer_id>")
@admin_page
def developer(ctx: RequestContext, account: Any, developer_id: int) -> Any:
    return _developer_page(ctx, account, developer_id)


def _expiry(form: Form, now: datetime) -> datetime | None:
    day = form.day("expires_on")
    if day is None:
        return None
    expires_at = start_of(day)
    if expires_at <= now:
        form.errors["expires_on"] = "The expiry must be in the future."
    return expires_at


@bp.post("/developers/<int:developer_id>/tier")
@admin_page
def change_tier(ctx: RequestContext, account: Any, developer_id: int) -> Any:
    developers_service.get_developer_account(ctx.conn, developer_id=developer_id)  # 404 first
    form = Form()
    names = [tier["name"] for tier in tier_catalog.list_tiers(ctx.conn)]
    tier = form.choice("tier", names)
    reason = form.text("reason", required=True, max_length=1000)
    expires_at = _expiry(form, ctx.now())
    if form.ok:
        try:
            whitelist.grant_tier(
                ctx.conn,
                actor=_actor(ctx),
                developer_id=developer_id,
                tier=tier,
                reason=reason,
                expires_at=expires_at,
                now=ctx.now(),
            )
        except InvalidInput as error:
            _form_error(form, error, "tier")
    if not form.ok:
        return _developer_page(ctx, account, developer_id, status=422, form=form, which="tier")
    return redirect(url_for("console.developer", developer_id=developer_id, done="tier"), 303)


def _form_error(form: Form, error: InvalidInput | Conflict, field: str) -> None:
    """A service's refusal shown beside the field it concerns (or the form's first one)."""
    if error.details:
        for name, messages in error.details.items():
            form.errors[name if name in form.values else field] = " ".join(map(str, messages))
    else:
        form.errors[field] = error.description


@bp.post("/developers/<int:developer_id>/suspension")
@admin_page
def suspend(ctx: RequestContext, account: Any, developer_id: int) -> Any:
    form = Form()
    try:
        developers_service.suspend_developer(
            ctx.conn, actor=_actor(ctx), developer_id=developer_id, now=ctx.now()
        )
    except Conflict as error:
        form.errors["suspension"] = error.description
        return _developer_page(
            ctx, account, developer_id, status=409, form=form, which="suspension"
        )
    return redirect(url_for("console.developer", developer_id=developer_id, done="suspended"), 303)


@bp.post("/developers/<int:developer_id>/reinstatement")
@admin_page
def reinstate(ctx: RequestContext, account: Any, developer_id: int) -> Any:
    form = Form()
    try:
        developers_service.reinstate_developer(
            ctx.conn, actor=_actor(ctx), developer_id=developer_id
        )
    except Conflict as error:
        form.errors["suspension"] = error.description
        return _developer_page(
            ctx, account, developer_id, status=409, form=form, which="suspension"
        )
    return redirect(url_for("console.developer", developer_id=developer_id, done="reinstated"), 303)


@bp.post("/developers/<int:developer_id>/clients")
@admin_page
def create_client(ctx: RequestContext, account: Any, developer_id: int) -> Any:
    developers_service.get_developer_account(ctx.conn, developer_id=developer_id)  # 404 first
    form = Form()
    name = form.text("name", max_length=100)
    if not form.ok:
        return _developer_page(ctx, account, developer_id, status=422, form=form, which="client")
    issued = clients_service.create_client(
        ctx.conn, actor=_actor(ctx), kind="developer", developer_id=developer_id, name=name
    )
    # the secret is on this response and nowhere else: no redirect, no cache, only its hash kept
    return _developer_page(ctx, account, developer_id, status=201, issued=issued)


# --- tier requests


def _developers_of(ctx: RequestContext, rows: list[Any]) -> dict[int, Any]:
    """The accounts of the developers `rows` name, by id."""
    ids = sorted({int(row["developer_id"]) for row in rows})
    return {
        developer_id: developers_service.get_developer_account(ctx.conn, developer_id=developer_id)
        for developer_id in ids
    }


@bp.get("/requests")
@admin_page
def requests(ctx: RequestContext, account: Any) -> Response:
    return _page(
        "console_requests.html",
        account,
        pending=_pending(ctx),
        developers=_developers_of(ctx, _pending(ctx)),
        form=None,
        failed=None,
        notice=_notice(),
    )


def _requests_page(ctx: RequestContext, account: Any, form: Form, failed: int, status: int) -> Any:
    return _page(
        "console_requests.html",
        account,
        status=status,
        pending=_pending(ctx),
        developers=_developers_of(ctx, _pending(ctx)),
        form=form,
        failed=failed,
        notice=None,
    )


@bp.post("/requests/<int:request_id>/approval")
@admin_page
def approve(ctx: RequestContext, account: Any, request_id: int) -> Any:
    form = Form()
    expires_at = _expiry(form, ctx.now())
    if form.ok:
        try:
            tier_requests.approve_request(
                ctx.conn,
                actor=_actor(ctx),
                request_id=request_id,
                expires_at=expires_at,
                now=ctx.now(),
            )
        except (InvalidInput, Conflict) as error:
            _form_error(form, error, "expires_on")
    if not form.ok:
        return _requests_page(ctx, account, form, request_id, 422)
    return redirect(url_for("console.requests", done="approved"), 303)


@bp.post("/requests/<int:request_id>/denial")
@admin_page
def deny(ctx: RequestContext, account: Any, request_id: int) -> Any:
    form = Form()
    reason = form.text("reason", required=True, max_length=1000)
    if form.ok:
        try:
            tier_requests.deny_request(
                ctx.conn, actor=_actor(ctx), request_id=request_id, reason=reason, now=ctx.now()
            )
        except (InvalidInput, Conflict) as error:
            _form_error(form, error, "reason")
    if not form.ok:
        return _requests_page(ctx, account, form, request_id, 422)
    return redirect(url_for("console.requests", done="denied"), 303)


# --- skills and their stats


@bp.get("/skills")
@admin_page
def skills(ctx: RequestContext, account: Any) -> Response:
    after = request.args.get("after")
    rows = skills_service.list_all_skills(ctx.conn, after=_uuid_or_none(after), limit=PAGE_SIZE + 1)
    return _page(
        "console_skills.html",
        account,
        skills=rows[:PAGE_SIZE],
        next_after=str(rows[PAGE_SIZE - 1]["id"]) if len(rows) > PAGE_SIZE else None,
        developers=_developers_of(ctx, rows[:PAGE_SIZE]),
    )


def _uuid_or_none(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise InvalidInput("Not a page of this list; start again from the first.") from None


@bp.get("/skills/<uuid:skill_id>/stats")
@admin_page
def skill_stats(ctx: RequestContext, account: Any, skill_id: Any) -> Any:
    found = skill_stats_admin.read_skill_stats_as_admin(
        ctx.conn, actor=_actor(ctx), skill_id=str(skill_id), now=ctx.now()
    )
    return _page(
        "console_stats.html",
        account,
        skill=found.skill,
        developer=found.developer,
        stats=found.stats,
    )


# --- the audit log


def _audit_filters(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The audit query from the filter form (a GET): the service's arguments and any errors."""
    args: dict[str, Any] = {}
    errors: dict[str, str] = {}
    actor = form.get("actor", "").strip()
    if actor:
        kind, _, name = actor.partition(":")
        try:
            args["actor"] = audit.SYSTEM if actor == "system" else audit.Actor(kind, name)
        except ValueError:
            errors["actor"] = "An actor as kind:id (admin:, client:, user:, cli:) or system."
    action = form.get("action", "")
    if action:
        if action in audit.ACTIONS:
            args["action"] = action
        else:
            errors["action"] = "Please choose one of the actions."
    developer = form.get("developer", "").strip()
    if developer:
        if developer.isdigit() and 0 < int(developer) < 2**63:
            args["developer_id"] = int(developer)
        else:
            errors["developer"] = "A developer's number, e.g. 12."
    for name in ("since", "until"):
        value = form.get(name, "")
        if value:
            try:
                day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            except ValueError:
                errors[name] = "A date as YYYY-MM-DD, please."
                continue
            # "until" names the last day shown, so the bound is the start of the next day
            args[name] = day + timedelta(days=1) if name == "until" else day
    if "since" in args and "until" in args and args["since"] >= args["until"]:
        errors["until"] = "The last day must not be before the first."
    before = form.get("before", "")
    if before:
        if before.isdigit() and int(before) < 2**63:
            args["before"] = int(before)
        else:
            errors["before"] = "Not a page of this log; start again from the newest."
    return args, errors


@bp.get("/audit")
@admin_page
def audit_log(ctx: RequestContext, account: Any) -> Any:
    filters = {name: request.args.get(name, "") for name in request.args}
    args, errors = _audit_filters(filters)
    # verified (and so sealed) first: the rows shown then carry their place in the chain
    verdict = audit.verify_audit_chain(ctx.conn)
    events: list[Any] = []
    older = None
    if not errors:
        rows = audit.query_events(ctx.conn, limit=AUDIT_PAGE_SIZE + 1, **args)
        events = rows[:AUDIT_PAGE_SIZE]
        if len(rows) > AUDIT_PAGE_SIZE:
            older = {**filters, "before": str(events[-1]["id"])}
    return _page(
        "console_audit.html",
        account,
        status=422 if errors else 200,
        events=events,
        filters=filters,
        errors=errors,
        actions=sorted(audit.ACTIONS),
        older=older,
        newest={name: value for name, value in filters.items() if name != "before"},
        verdict=verdict,
    )
