"""`skillgw tiers|whitelist|tier-requests`: the whitelist from the command line, through the
same services as the admin API, each change audited with the operator as actor (`cli:<name>`).
Readable tables by default, JSON with --json."""

import getpass
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import click

from gateway.exceptions import GatewayError
from gateway.models import SYSTEM, Conn, Row
from gateway.services import audit, tier_catalog, tier_requests, whitelist

_DURATION = re.compile(r"^(\d{1,4})d$")


@contextmanager
def _transaction() -> Iterator[Conn]:
    """One transaction as the app role, bound as the system caller (the operator holds the
    server's secret: no more than the web app has), committed when the block ends."""
    from gateway.cli import _app_connection
    from gateway.db import bind_principal

    with _app_connection() as conn:
        with conn.transaction():
            bind_principal(conn, SYSTEM)
            yield conn


def _operator(_ctx: click.Context, _param: click.Parameter, value: str | None) -> audit.Actor:
    name = value or getpass.getuser()
    try:
        return audit.Actor.operator(name)
    except ValueError as exc:
        raise click.BadParameter(
            f"{name!r} cannot name an operator in the audit log: letters, digits and _.:/- only"
        ) from exc


def _as_operator(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--operator",
        "actor",
        callback=_operator,
        help="Who is acting, for the audit log (cli:NAME). Default: your OS user name.",
    )(fn)


def _json_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(
        fn
    )


def _failed(error: GatewayError) -> click.ClickException:
    details = "; ".join(
        f"{name}: {' '.join(map(str, messages if isinstance(messages, list) else [messages]))}"
        for name, messages in error.details.items()
    )
    return click.ClickException(f"{error.description} {details}".strip())


@contextmanager
def _services() -> Iterator[Conn]:
    """A transaction for the services; their errors become a message and exit status 1."""
    try:
        with _transaction() as conn:
            yield conn
    except GatewayError as error:
        raise _failed(error) from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {name: _jsonable(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(_jsonable(value), sort_keys=True))


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _table(title: str, headers: list[str], rows: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


def _expiry(value: str | None) -> datetime | None:
    """`--expires`: an RFC 3339 time, a date (midnight UTC), or a number of days (`90d`)."""
    if value is None:
        return None
    days = _DURATION.match(value)
    if days:
        return datetime.now(UTC) + timedelta(days=int(days.group(1)))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            "Give a date (2027-06-30), a time with an offset (2027-06-30T12:00:00+00:00) or "
            "a number of days (90d).",
            param_hint="--expires",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _developer_id(conn: Conn, developer: str) -> int:
    """A developer named by id, or by its exact name."""
    if developer.isdigit():
        return int(developer)
    found = whitelist.find_developer_id(conn, name=developer)
    if found is None:
        raise click.ClickException(f"No developer named {developer!r}.")
    return found


# --- skillgw tiers


@click.group()
def tiers() -> None:
    """List tiers and change or create them (rule 3)."""


def _tier_row(tier: Row) -> list[str]:
    return [
        tier["name"],
        "yes" if tier["transcripts_readable"] else "no",
        ", ".join(tier["fields"]) or "-",
        str(tier["retention_days"]),
        tier["redaction_policy"],
        str(tier["page_size"]),
        tier["rate_limit"],
        str(tier["k_threshold"]),
        "-" if tier["recertify_days"] is None else f"{tier['recertify_days']} days",
    ]


_TIER_HEADERS = [
    "tier",
    "transcripts",
    "fields",
    "retention days",
    "policy",
    "page size",
    "rate limit",
    "k",
    "re-certify",
]


@tiers.command("list")
@_json_option
def tiers_list(as_json: bool) -> None:
    """Every tier and its settings."""
    with _services() as conn:
        rows = tier_catalog.list_tiers(conn)
    if as_json:
        for row in rows:
            _echo_json(row)
        return
    _table("Tiers", _TIER_HEADERS, [_tier_row(row) for row in rows])


@tiers.command("set")
@click.argument("name")
@click.option(
    "--transcripts/--no-transcripts",
    "transcripts_readable",
    default=None,
    help="Whether the tier reads transcripts at all.",
)
@click.option("--fields", help="Comma-separated fields shown, e.g. utterance,intent,outcome.")
@click.option("--retention-days", type=int, help="How far back transcripts reach.")
@click.option("--policy", "redaction_policy", help="Redaction policy (skillgw redact --help).")
@click.option("--page-size", type=int, help="Largest page a developer gets.")
@click.option("--rate-limit", help="Per client, e.g. '60 per minute'.")
@click.option("--k", "k_threshold", type=int, help="Fewest distinct users a stats bucket shows.")
@click.option("--stats-weeks", type=int, help="Complete weeks of stats shown.")
@click.option(
    "--recertify-days",
    help="A top tier: grants end at most this many days after they are made ('none': not).",
)
@click.option("--description", help="What the tier is for.")
@_as_operator
@_json_option
def tiers_set(name: str, actor: audit.Actor, as_json: bool, **options: Any) -> None:
    """Change tier NAME's settings, or create it when it does not exist (then
    --transcripts/--no-transcripts, --retention-days, --policy, --page-size and --rate-limit
    are required). Audited as tier.changed / tier.created."""
    settings = {key: value for key, value in options.items() if value is not None}
    if "fields" in settings:
        settings["fields"] = [f.strip() for f in settings["fields"].split(",") if f.strip()]
    if "recertify_days" in settings:
        text = settings["recertify_days"].strip().lower()
        if text in ("none", "off", ""):
            settings["recertify_days"] = None
        elif text.isdigit():
            settings["recertify_days"] = int(text)
        else:
            raise click.BadParameter("A number of days, or 'none'.", param_hint="--recertify-days")
    if not settings:
        raise click.UsageError("Name at least one setting to change.")
    with _services() as conn:
        if tier_catalog.find_tier(conn, name=name) is None:
            tier = tier_catalog.create_tier(conn, actor=actor, name=name, **settings)
            verb = "Created"
        else:
            tier = tier_catalog.update_tier(conn, actor=actor, name=name, **settings)
            verb = "Changed"
    if as_json:
        _echo_json(tier)
        return
    click.echo(f"{verb} tier {name!r}; it holds from every developer's next request.")
    _table(f"Tier {name}", _TIER_HEADERS, [_tier_row(tier)])


# --- skillgw whitelist


@click.group("whitelist")
def whitelist_group() -> None:
    """Grant developers a tier, revoke it, and read the history (rule 3)."""


@whitelist_group.command("grant")
@click.argument("developer")
@click.argument("tier")
@click.option("--reason", required=True, help="Why (required; kept in the grant's history).")
@click.option(
    "--expires",
    help="When it ends: a date, a time with an offset, or days (90d). A top tier's grant "
    "without one ends after its re-certification period (trusted: 365 days).",
)
@_as_operator
@_json_option
def whitelist_grant(
    developer: str, tier: str, reason: str, expires: str | None, actor: audit.Actor, as_json: bool
) -> None:
    """Move DEVELOPER (id or exact name) to TIER from now on. Audited as grant.made."""
    expires_at = _expiry(expires)
    with _services() as conn:
        developer_id = _developer_id(conn, developer)
        now = datetime.now(UTC)
        grant_id = whitelist.grant_tier(
            conn,
            actor=actor,
            developer_id=developer_id,
            tier=tier,
            reason=reason,
            expires_at=expires_at,
            now=now,
        )
        grant = whitelist.get_grant(conn, developer_id=developer_id, grant_id=grant_id, now=now)
    if as_json:
        _echo_json(grant)
        return
    until = "with no expiry" if grant["ends_at"] is None else f"until {_when(grant['ends_at'])} UTC"
    click.echo(f"Granted developer {developer_id} tier {tier!r} {until} (grant {grant_id}).")


@whitelist_group.command("revoke")
@click.argument("developer")
@click.option("--reason", required=True, help="Why (required).")
@_as_operator
@_json_option
def whitelist_revoke(developer: str, reason: str, actor: audit.Actor, as_json: bool) -> None:
    """Put DEVELOPER back on tier 'none' from its next request. Audited as grant.revoked."""
    with _services() as conn:
        developer_id = _developer_id(conn, developer)
        revocation = whitelist.revoke_grant(
            conn, actor=actor, developer_id=developer_id, reason=reason, now=datetime.now(UTC)
        )
    if as_json:
        _echo_json({"developer_id": developer_id, "revocation": revocation, "tier": "none"})
        return
    click.echo(
        f"Revoked: developer {developer_id} is on tier 'none' (recorded as grant {revocation})."
    )


@whitelist_group.command("history")
@click.argument("developer")
@_json_option
def whitelist_history(developer: str, as_json: bool) -> None:
    """Every grant of DEVELOPER, newest first."""
    with _services() as conn:
        developer_id = _developer_id(conn, developer)
        now = datetime.now(UTC)
        grants = whitelist.grant_history(conn, developer_id=developer_id, now=now)
        current = whitelist.current_tier_name(conn, developer_id=developer_id, now=now)
    if as_json:
        for grant in grants:
            _echo_json(grant)
        return
    _table(
        f"Grants of developer {developer_id} (now on {current!r})",
        ["grant", "tier", "state", "granted", "by", "ends", "reason"],
        [
            [
                str(g["id"]),
                g["tier"],
                g["state"],
                _when(g["granted_at"]),
                g["granted_by"],
                _when(g["ends_at"]),
                g["reason"],
            ]
            for g in grants
        ],
    )


# --- skillgw tier-requests


@click.group("tier-requests")
def tier_requests_group() -> None:
    """Developers' requests for a tier: list, approve (a grant), deny (with a reason)."""


def _request_rows(rows: list[Row]) -> list[list[str]]:
    return [
        [
            str(r["id"]),
            str(r["developer_id"]),
            r["tier"],
            r["status"],
            _when(r["requested_at"]),
            r["purpose"],
            r["decision_reason"] or "-",
        ]
        for r in rows
    ]


_REQUEST_HEADERS = ["request", "developer", "tier", "status", "requested", "purpose", "reason"]


@tier_requests_group.command("list")
@click.option(
    "--status",
    type=click.Choice(["pending", "approved", "denied", "all"]),
    default="pending",
    show_default=True,
)
@_json_option
def tier_requests_list(status: str, as_json: bool) -> None:
    """Tier requests, oldest first."""
    with _services() as conn:
        rows = tier_requests.list_requests(conn, status=None if status == "all" else status)
    if as_json:
        for row in rows:
            _echo_json(row)
        return
    _table(f"Tier requests ({status})", _REQUEST_HEADERS, _request_rows(rows))


@tier_requests_group.command("approve")
@click.argument("request_id", type=int)
@click.option("--expires", help="When the grant ends: a date, a time with an offset, or 90d.")
@click.option("--reason", help="The grant's reason (default: names the request).")
@_as_operator
@_json_option
def tier_requests_approve(
    request_id: int, expires: str | None, reason: str | None, actor: audit.Actor, as_json: bool
) -> None:
    """Approve request REQUEST_ID: the developer is granted the tier it asked for."""
    expires_at = _expiry(expires)
    with _services() as conn:
        decided = tier_requests.approve_request(
            conn,
            actor=actor,
            request_id=request_id,
            expires_at=expires_at,
            reason=reason,
            now=datetime.now(UTC),
        )
    if as_json:
        _echo_json(decided)
        return
    click.echo(
        f"Approved request {request_id}: developer {decided['developer_id']} is on tier "
        f"{decided['tier']!r} (grant {decided['grant_id']})."
    )


@tier_requests_group.command("deny")
@click.argument("request_id", type=int)
@click.option("--reason", required=True, help="Why (required: the developer reads it).")
@_as_operator
@_json_option
def tier_requests_deny(request_id: int, reason: str, actor: audit.Actor, as_json: bool) -> None:
    """Deny request REQUEST_ID with a reason the developer reads."""
    with _services() as conn:
        decided = tier_requests.deny_request(
            conn, actor=actor, request_id=request_id, reason=reason, now=datetime.now(UTC)
        )
    if as_json:
        _echo_json(decided)
        return
    click.echo(f"Denied request {request_id} of developer {decided['developer_id']}.")


def attach(main: click.Group) -> None:
    """Register the commands on `skillgw`."""
    main.add_command(tiers)
    main.add_command(whitelist_group)
    main.add_command(tier_requests_group)
