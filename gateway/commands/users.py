"""`skillgw users delete`: an operator deletes a user's interactions (rule 8) through the same
service as the user's own request: every copy of the text gone on commit, a receipt the user
sees (requested by "operator"), a notice queued for each developer that read any of it, and
the audit event with the operator as actor."""

from datetime import datetime

import click

from gateway.commands.accounts import _connection, _failed, _print_lines, _transaction, _writes
from gateway.exceptions import GatewayError, NotFound
from gateway.services import audit, my_interactions
from gateway.services import deletions as deletions_service
from gateway.services import users as users_service


def _moment(_ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("an ISO 8601 time, e.g. 2026-11-30T00:00:00+00:00") from None
    if moment.tzinfo is None:
        raise click.BadParameter("give the time zone too, e.g. +00:00 or Z")
    return moment


@click.group()
def users() -> None:
    """Users' data, for operators: delete a user's interactions on their behalf."""


@users.command("delete")
@click.argument("platform_user_id")
@click.option("--since", callback=_moment, help="From this time on (ISO 8601 with zone).")
@click.option("--until", callback=_moment, help="Before this time (ISO 8601 with zone).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_writes
def users_delete(
    platform_user_id: str,
    since: datetime | None,
    until: datetime | None,
    yes: bool,
    actor: audit.Actor,
    as_json: bool,
) -> None:
    """Delete PLATFORM_USER_ID's interactions in [--since, --until) (neither: all of them).

    Asks first, saying how many; prints the receipt. The developers that had read any of it
    are notified by `skillgw worker`; the user sees the receipt on their privacy page."""
    if since is not None and until is not None and since >= until:
        raise click.BadParameter("must be later than --since", param_hint="--until")
    with _connection() as conn:
        with _transaction(conn):
            try:
                user_id = users_service.get_user_id(conn, platform_user_id)
            except NotFound:
                raise click.ClickException(f"No user {platform_user_id!r}.") from None
            count = my_interactions.count_my_interactions(
                conn, user_id=user_id, since=since, until=until
            )
        span = "all" if since is None and until is None else "the chosen range of"
        if not yes:
            click.confirm(
                f"Delete {span} {platform_user_id}'s interactions ({count})? This cannot be undone",
                abort=True,
            )
        with _transaction(conn):
            # the database carries the deletion out as the system (its receipt says
            # "operator"); who asked for it is recorded here, in the same transaction
            audit.record(
                conn,
                actor=actor,
                action="deletion.requested",
                subject=user_id,
                details={"interactions": count},
            )
            try:
                receipt = deletions_service.delete_interactions(
                    conn,
                    actor=actor,
                    user_id=user_id,
                    since=since,
                    until=until,
                    now=datetime.now().astimezone(),
                )
            except GatewayError as exc:
                raise _failed(exc) from None
    if as_json:
        _print_lines([{**receipt.__dict__, "user": platform_user_id}])
        return
    click.echo(
        f"Deleted {receipt.interactions} interactions of {platform_user_id}: receipt "
        f"{receipt.id}. {receipt.developers} developers that had read any of them will be "
        "notified by `skillgw worker`."
    )


def attach(main: click.Group) -> None:
    """Add this group to `skillgw`."""
    main.add_command(users)
