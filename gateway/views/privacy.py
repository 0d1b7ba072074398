"""The privacy page at /privacy: a signed-in user's consents (grant or revoke in one click), who
read their interactions, and deletion with a confirmation step, its receipt and propagation."""

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, redirect, request, url_for

from gateway.context import RequestContext
from gateway.exceptions import InvalidInput, NotFound
from gateway.repositories.protected_groups import SENSITIVE_CATEGORIES
from gateway.services import access_log, audit, consents, deletions
from gateway.views.page_forms import Form, render_errors_as_pages, start_of
from gateway.web import csrf
from gateway.web.pages import page, user_page

bp = Blueprint("privacy", __name__, url_prefix="/privacy")
render_errors_as_pages(bp)

LOG_PAGE_SIZE = 50
SCOPES = ("today", "range", "everything")
NOTICES = {
    "revoked": "Done: that skill's developer can no longer read your conversations.",
    "granted": "Done: that skill's developer may read your conversations from now on.",
}


def _page(template: str, account: Any, *, status: int = 200, **values: Any) -> Response:
    """A privacy page (no cache, no framing, the strict CSP), its forms carrying the token."""
    return page(
        template,
        status=status,
        kind="user",
        account=account,
        csrf_token=csrf.token("user"),
        **values,
    )


def _user_id(ctx: RequestContext) -> str:
    user_id = ctx.principal.user_id
    assert user_id is not None  # user_page binds a signed-in user
    return user_id


def _my_skill(ctx: RequestContext, skill_id: str) -> dict[str, Any]:
    """One of the skills I use; another's, or an unknown one, is a 404 (rule 1)."""
    for row in consents.list_my_consents(ctx.conn, user_id=_user_id(ctx)):
        if str(row["skill_id"]) == skill_id:
            return dict(row)
    raise NotFound()


@bp.get("/")
@user_page
def home(ctx: RequestContext, account: Any) -> Any:
    rows = consents.list_my_consents(ctx.conn, user_id=_user_id(ctx))
    return _page(
        "privacy_home.html",
        account,
        consents=rows,
        categories=SENSITIVE_CATEGORIES,
        notice=NOTICES.get(request.args.get("done", "")),
    )


@bp.post("/consents/<uuid:skill_id>/revocation")
@user_page
def revoke(ctx: RequestContext, account: Any, skill_id: Any) -> Any:
    skill = _my_skill(ctx, str(skill_id))
    consents.revoke_consent(
        ctx.conn,
        actor=audit.Actor.user(_user_id(ctx)),
        user_id=_user_id(ctx),
        skill_id=str(skill["skill_id"]),
        revoked_at=ctx.now(),
    )
    return redirect(url_for("privacy.home", done="revoked"), 303)


@bp.post("/consents/<uuid:skill_id>/grant")
@user_page
def grant(ctx: RequestContext, account: Any, skill_id: Any) -> Any:
    skill = _my_skill(ctx, str(skill_id))
    chosen = request.form.getlist("categories")
    unknown = [name for name in chosen if name not in SENSITIVE_CATEGORIES]
    if unknown:
        raise InvalidInput("Please choose among the categories shown.")
    consents.grant_consent(
        ctx.conn,
        actor=audit.Actor.user(_user_id(ctx)),
        user_id=_user_id(ctx),
        skill_id=str(skill["skill_id"]),
        categories=sorted(set(chosen)),
        granted_at=ctx.now(),
    )
    return redirect(url_for("privacy.home", done="granted"), 303)


@bp.get("/access-log")
@user_page
def reads(ctx: RequestContext, account: Any) -> Any:
    before = request.args.get("before", "")
    if before and not (before.isdigit() and int(before) < 2**63):
        raise InvalidInput("Not a page of your access log; start again from the newest.")
    rows = access_log.list_my_reads(
        ctx.conn,
        user_id=_user_id(ctx),
        before=int(before) if before else None,
        limit=LOG_PAGE_SIZE + 1,
    )
    shown = rows[:LOG_PAGE_SIZE]
    return _page(
        "privacy_access_log.html",
        account,
        reads=shown,
        older=shown[-1]["id"] if len(rows) > LOG_PAGE_SIZE else None,
    )


def _deletion_range(form: Form, ctx: RequestContext) -> tuple[str, Any, Any]:
    """The scope chosen and its [since, until) in UTC (None: unbounded)."""
    scope = form.choice("scope", list(SCOPES))
    if scope == "today":
        return scope, start_of(ctx.now().date()), None
    if scope == "range":
        first = form.day("since", required=True)
        last = form.day("until", required=True)
        if first and last and last < first:
            form.errors["until"] = "The last day must not be before the first."
        if first and last and form.ok:
            # the last day is included: the range ends at the start of the day after it
            return scope, start_of(first), start_of(last) + timedelta(days=1)
    return scope, None, None


@bp.get("/deletion")
@user_page
def deletion_form(ctx: RequestContext, account: Any) -> Any:
    return _page(
        "privacy_delete.html",
        account,
        form=None,
        today=ctx.now().date(),
        confirm=None,
    )


@bp.post("/deletion")
@user_page
def delete(ctx: RequestContext, account: Any) -> Any:
    """Two steps: the choice is shown back for confirmation; only `confirm=yes` deletes."""
    form = Form()
    scope, since, until = _deletion_range(form, ctx)
    if not form.ok:
        return _page(
            "privacy_delete.html",
            account,
            status=422,
            form=form,
            today=ctx.now().date(),
            confirm=None,
        )
    if form.values.get("confirm") != "yes":
        confirm = {"scope": scope, "since": since, "until": until}
        return _page(
            "privacy_delete.html",
            account,
            form=form,
            today=ctx.now().date(),
            confirm=confirm,
        )
    receipt = deletions.delete_interactions(
        ctx.conn,
        actor=audit.Actor.user(_user_id(ctx)),
        user_id=_user_id(ctx),
        since=since,
        until=until,
        now=ctx.now(),
    )
    return redirect(url_for("privacy.receipt", deletion_id=receipt.id), 303)


@bp.get("/deletions")
@user_page
def receipts(ctx: RequestContext, account: Any) -> Any:
    rows = deletions.list_my_deletions(ctx.conn, user_id=_user_id(ctx))
    return _page("privacy_receipts.html", account, receipts=rows)


@bp.get("/deletions/<deletion_id>")
@user_page
def receipt(ctx: RequestContext, account: Any, deletion_id: str) -> Any:
    deletion = deletions.deletion_status(
        ctx.conn, user_id=_user_id(ctx), deletion_id=deletion_id
    )
    return _page("privacy_receipt.html", account, deletion=deletion)
