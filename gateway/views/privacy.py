"""The privacy page at /privacy: a signed-in user's consents (grant or revoke in one click), what
they said, who read it, and deletion with a confirmation step, its receipt and propagation."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, redirect, request, url_for

from gateway.context import RequestContext
from gateway.exceptions import InvalidInput, NotFound
from gateway.services import access_log, audit, consents, deletions, my_interactions
from gateway.services.consents import SENSITIVE_CATEGORIES
from gateway.views.page_forms import Form, render_errors_as_pages, start_of
from gateway.views.paging import cursor_position, next_cursor
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


def _my_skill(ctx: RequestContext, skill_id: str) -> str:
    """One of the skills I use; a skill I never used, another's, or an unknown one is a 404."""
    for row in consents.list_my_consents(ctx.conn, user_id=_user_id(ctx)):
        if row["skill"]["id"] == skill_id:
            return skill_id
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
    consents.withdraw_consent(
        ctx.conn,
        actor=audit.Actor.user(_user_id(ctx)),
        user_id=_user_id(ctx),
        skill_id=_my_skill(ctx, str(skill_id)),
        keyring=current_app.extensions["gateway.keyring"],
    )
    return redirect(url_for("privacy.home", done="revoked"), 303)


@bp.post("/consents/<uuid:skill_id>/grant")
@user_page
def grant(ctx: RequestContext, account: Any, skill_id: Any) -> Any:
    mine = _my_skill(ctx, str(skill_id))
    chosen = request.form.getlist("categories")
    unknown = [name for name in chosen if name not in SENSITIVE_CATEGORIES]
    if unknown:
        raise InvalidInput("Please choose among the categories shown.")
    consents.give_consent(
        ctx.conn,
        actor=audit.Actor.user(_user_id(ctx)),
        user_id=_user_id(ctx),
        skill_id=mine,
        categories=sorted(set(chosen)),
    )
    return redirect(url_for("privacy.home", done="granted"), 303)


def _older_than(listing: str, parse_id: Callable[[Any], Any], problem: str) -> Any:
    """Where a page of `listing` starts: after the keyset in ?cursor=, or None (the newest)."""
    if not request.args.get("cursor"):
        return None
    position = cursor_position(listing, {"cursor": request.args["cursor"]})
    try:
        return (datetime.fromisoformat(position[0]), parse_id(position[1]))
    except (TypeError, ValueError, IndexError):
        raise InvalidInput(problem) from None


def _older_link(listing: str, next_after: tuple[datetime, Any] | None) -> str | None:
    """The cursor of the next (older) page, when there is one."""
    if next_after is None:
        return None
    at, last = next_after
    return next_cursor(listing, {}, [at.isoformat(), last])


@bp.get("/interactions")
@user_page
def said(ctx: RequestContext, account: Any) -> Any:
    after = _older_than(
        "my-interactions", str, "Not a page of your conversations; start from the newest."
    )
    found = my_interactions.list_my_interactions(
        ctx.conn, user_id=_user_id(ctx), after=after, limit=LOG_PAGE_SIZE
    )
    return _page(
        "privacy_interactions.html",
        account,
        interactions=found.items,
        older=_older_link("my-interactions", found.next_after),
        paged=after is not None,
    )


@bp.get("/access-log")
@user_page
def reads(ctx: RequestContext, account: Any) -> Any:
    after = _older_than("my-reads", int, "Not a page of your access log; start from the newest.")
    found = access_log.list_my_reads(
        ctx.conn, user_id=_user_id(ctx), after=after, limit=LOG_PAGE_SIZE
    )
    return _page(
        "privacy_access_log.html",
        account,
        reads=found.items,
        older=_older_link("my-reads", found.next_after),
        paged=after is not None,
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
    rows = deletions.list_deletions(ctx.conn, user_id=_user_id(ctx))
    return _page("privacy_receipts.html", account, receipts=rows)


@bp.get("/deletions/<uuid:deletion_id>")
@user_page
def receipt(ctx: RequestContext, account: Any, deletion_id: Any) -> Any:
    deletion = deletions.deletion_status(
        ctx.conn, user_id=_user_id(ctx), deletion_id=str(deletion_id)
    )
    return _page("privacy_receipt.html", account, deletion=deletion)
