"""`skillgw developers|skills|clients`: the operators' side of the admin API, through the same
services, each change audited with the operator as actor (`cli:<name>`)."""

import getpass
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import click
from marshmallow import ValidationError

from gateway.exceptions import GatewayError
from gateway.models import SYSTEM, Conn, Row
from gateway.services import audit
from gateway.services import developers as developers_service
from gateway.services import oauth_clients as clients_service
from gateway.services import skills as skills_service
from gateway.services import whitelist as whitelist_service
from schemas.admin_accounts import CLIENT_KINDS, DeveloperCreateSchema, SkillCreateSchema

PAGE = 500


@contextmanager
def _connection() -> Iterator[Conn]:
    """The app role, bound as the system caller in each transaction (what the audit commands
    use: an operator needs no more than the web app has)."""
    from gateway.cli import _app_connection

    with _app_connection() as conn:
        yield conn


@contextmanager
def _transaction(conn: Conn) -> Iterator[Conn]:
    from gateway.db import bind_principal

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


def _writes(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(fn)
    return click.option(
        "--operator",
        "actor",
        callback=_operator,
        help="Who is acting, for the audit log (cli:NAME). Default: your OS user name.",
    )(fn)


def _reads(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")(fn)


def _failed(error: GatewayError) -> click.ClickException:
    details = "; ".join(
        f"{name}: {' '.join(map(str, messages))}" for name, messages in error.details.items()
    )
    return click.ClickException(f"{error.description} {details}".strip())


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {name: _jsonable(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _when(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _table(title: str, headers: list[str], rows: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


def _print_lines(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        click.echo(json.dumps(_jsonable(row), sort_keys=True))


def _load(schema: Any, data: dict[str, Any]) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"": exc.messages}
        text = "; ".join(f"{name}: {' '.join(map(str, m))}" for name, m in messages.items())
        raise click.UsageError(text) from None
    return loaded


def _developer_id(conn: Conn, developer: str) -> int:
    """A developer named by id, or by its exact name."""
    if developer.isdigit():
        return int(developer)
    found = whitelist_service.find_developer_id(conn, name=developer)
    if found is None:
        raise click.ClickException(f"No developer named {developer!r}.")
    return found


def _all_pages(fetch: Callable[[Any], list[Row]], key: Callable[[Row], Any]) -> list[Row]:
    rows: list[Row] = []
    after = None
    while True:
        page = fetch(after)
        rows += page
        if len(page) < PAGE:
            return rows
        after = key(page[-1])


# --- skillgw developers


@click.group()
def developers() -> None:
    """Register, list, suspend and reinstate skill developers."""


@developers.command("add")
@click.argument("name")
@click.option("--email", "contact_email", required=True, help="The developer's contact e-mail.")
@_writes
def developers_add(name: str, contact_email: str, actor: audit.Actor, as_json: bool) -> None:
    """Register a developer (on tier `none` until granted another)."""
    body = _load(DeveloperCreateSchema(), {"name": name, "contact_email": contact_email})
    with _connection() as conn, _transaction(conn):
        try:
            developer_id = developers_service.register_developer(conn, actor=actor, **body)
        except GatewayError as exc:
            raise _failed(exc) from None
        account = developers_service.get_developer_account(conn, developer_id=developer_id)
    if as_json:
        _print_lines([account])
    else:
        click.echo(f"Registered developer {developer_id} ({account['name']}), tier none.")


@developers.command("list")
@click.option("--suspended/--active", default=None, help="Only suspended, or only active, ones.")
@_reads
def developers_list(suspended: bool | None, as_json: bool) -> None:
    """List developers with their tier, grant expiry and suspension."""
    with _connection() as conn, _transaction(conn):
        rows = _all_pages(
            lambda after: developers_service.list_developers(
                conn, after=after, limit=PAGE, suspended=suspended
            ),
            lambda row: row["id"],
        )
    if as_json:
        _print_lines(rows)
        return
    _table(
        f"{len(rows)} developers",
        ["id", "name", "contact", "tier", "grant expires (UTC)", "suspended since (UTC)"],
        [
            [
                str(row["id"]),
                row["name"],
                row["contact_email"],
                row["tier"],
                _when(row["tier_expires_at"]),
                _when(row["suspended_at"]),
            ]
            for row in rows
        ],
    )


@developers.command("suspend")
@click.argument("developer")
@_writes
def developers_suspend(developer: str, actor: audit.Actor, as_json: bool) -> None:
    """Suspend DEVELOPER (id or name): its live tokens die now, no new ones until reinstated."""
    with _connection() as conn, _transaction(conn):
        developer_id = _developer_id(conn, developer)
        try:
            account = developers_service.suspend_developer(
                conn, actor=actor, developer_id=developer_id, now=datetime.now(UTC)
            )
        except GatewayError as exc:
            raise _failed(exc) from None
    if as_json:
        _print_lines([account])
    else:
        count = account["tokens_revoked"]
        click.echo(
            f"Suspended developer {developer_id} ({account['name']}); revoked {count} live "
            f"token{'s' if count != 1 else ''}."
        )


@developers.command("reinstate")
@click.argument("developer")
@_writes
def developers_reinstate(developer: str, actor: audit.Actor, as_json: bool) -> None:
    """Lift the suspension of DEVELOPER (id or name)."""
    with _connection() as conn, _transaction(conn):
        developer_id = _developer_id(conn, developer)
        try:
            account = developers_service.reinstate_developer(
                conn, actor=actor, developer_id=developer_id
            )
        except GatewayError as exc:
            raise _failed(exc) from None
    if as_json:
        _print_lines([account])
    else:
        click.echo(f"Reinstated developer {developer_id} ({account['name']}).")


# --- skillgw skills


@click.group()
def skills() -> None:
    """Register and list developers' skills."""


@skills.command("add")
@click.argument("developer")
@click.argument("name")
@click.option("--category", default="general", show_default=True, help="A lower-case label.")
@_writes
def skills_add(developer: str, name: str, category: str, actor: audit.Actor, as_json: bool) -> None:
    """Register skill NAME for DEVELOPER (id or name)."""
    body = _load(SkillCreateSchema(), {"name": name, "category": category})
    with _connection() as conn, _transaction(conn):
        developer_id = _developer_id(conn, developer)
        try:
            skill = skills_service.register_skill(
                conn, actor=actor, developer_id=developer_id, **body
            )
        except GatewayError as exc:
            raise _failed(exc) from None
    if as_json:
        _print_lines([skill])
    else:
        click.echo(
            f"Registered skill {skill['id']} ({skill['name']}) for developer {developer_id}."
        )


@skills.command("list")
@click.option("--developer", help="Only this developer's skills (id or name).")
@_reads
def skills_list(developer: str | None, as_json: bool) -> None:
    """List skills, every developer's or one's."""
    with _connection() as conn, _transaction(conn):
        developer_id = _developer_id(conn, developer) if developer else None
        rows = _all_pages(
            lambda after: skills_service.list_all_skills(
                conn, developer_id=developer_id, after=after, limit=PAGE
            ),
            lambda row: str(row["id"]),
        )
    if as_json:
        _print_lines(rows)
        return
    _table(
        f"{len(rows)} skills",
        ["id", "developer", "name", "category", "created (UTC)"],
        [
            [str(r["id"]), str(r["developer_id"]), r["name"], r["category"], _when(r["created_at"])]
            for r in rows
        ],
    )


# --- skillgw clients

_DURATION = re.compile(r"(\d+)([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _grace(_ctx: click.Context, _param: click.Parameter, value: str) -> timedelta | None:
    match = _DURATION.fullmatch(value.strip())
    if match is None:
        raise click.BadParameter("a duration: 0, 90, 90s, 15m, 2h or 7d")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds > clients_service.MAX_GRACE.total_seconds():
        raise click.BadParameter("at most 30 days")
    return timedelta(seconds=seconds) if seconds else None


@click.group()
def clients() -> None:
    """Create, rotate, revoke and list OAuth clients (secrets are shown once)."""


@clients.command("create")
@click.option("--kind", type=click.Choice(CLIENT_KINDS), default="developer", show_default=True)
@click.option("--developer", help="The developer a developer client belongs to (id or name).")
@click.option("--name", default="", help="A label for the client.")
@_writes
def clients_create(
    kind: str, developer: str | None, name: str, actor: audit.Actor, as_json: bool
) -> None:
    """Create a client; its secret is printed now and never again."""
    with _connection() as conn, _transaction(conn):
        developer_id = _developer_id(conn, developer) if developer else None
        try:
            issued = clients_service.create_client(
                conn, actor=actor, kind=kind, developer_id=developer_id, name=name
            )
        except GatewayError as exc:
            raise _failed(exc) from None
    if as_json:
        _print_lines([{**issued.__dict__, "developer_id": developer_id}])
        return
    click.echo(f"client_id:     {issued.client_id}")
    click.echo(f"client_secret: {issued.client_secret}")
    click.echo(f"scopes:        {' '.join(issued.scopes)}")
    click.echo("The secret is shown once: the gateway keeps only a hash of it.", err=True)


@clients.command("rotate")
@click.argument("client_id")
@click.option(
    "--grace",
    default="0",
    show_default=True,
    callback=_grace,
    help="How long the old secret keeps working: 0, 90s, 15m, 2h, 7d (at most 30d).",
)
@_writes
def clients_rotate(
    client_id: str, grace: timedelta | None, actor: audit.Actor, as_json: bool
) -> None:
    """Give CLIENT_ID a new secret (printed once)."""
    with _connection() as conn, _transaction(conn):
        try:
            rotated = clients_service.rotate_secret(
                conn, actor=actor, client_id=client_id, grace=grace, now=datetime.now(UTC)
            )
        except GatewayError as exc:
            raise _failed(exc) from None
    if as_json:
        _print_lines([rotated.__dict__])
        return
    click.echo(f"client_id:     {rotated.client_id}")
    click.echo(f"client_secret: {rotated.client_secret}")
    until = rotated.previous_valid_until
    click.echo(
        f"The old secret works until {_when(until)} UTC."
        if until
        else "The old secret, and tokens issued with it, stopped working now.",
        err=True,
    )


@clients.command("revoke")
@click.argument("client_id")
@_writes
def clients_revoke(client_id: str, actor: audit.Actor, as_json: bool) -> None:
    """Revoke CLIENT_ID for good, and every token it holds."""
    with _connection() as conn, _transaction(conn):
        try:
            revoked = clients_service.revoke_client(
                conn, actor=actor, client_id=client_id, now=datetime.now(UTC)
            )
        except GatewayError as exc:
            raise _failed(exc) from None
    if as_json:
        _print_lines([revoked])
        return
    count = revoked["tokens_revoked"]
    click.echo(f"Revoked {client_id} and {count} live token{'s' if count != 1 else ''}.")


@clients.command("list")
@click.option("--developer", help="Only this developer's clients (id or name).")
@click.option("--kind", type=click.Choice(CLIENT_KINDS))
@click.option("--revoked/--live", "revoked", default=None, help="Only revoked, or only live, ones.")
@_reads
def clients_list(
    developer: str | None, kind: str | None, revoked: bool | None, as_json: bool
) -> None:
    """List clients (never a secret)."""
    with _connection() as conn, _transaction(conn):
        developer_id = _developer_id(conn, developer) if developer else None
        rows = _all_pages(
            lambda after: clients_service.list_clients(
                conn, developer_id=developer_id, kind=kind, after=after, limit=PAGE
            ),
            lambda row: row["client_id"],
        )
    if revoked is not None:
        rows = [row for row in rows if (row["revoked_at"] is not None) == revoked]
    if as_json:
        _print_lines(rows)
        return
    _table(
        f"{len(rows)} clients",
        ["client_id", "kind", "developer", "name", "secret v.", "old secret until", "revoked"],
        [
            [
                r["client_id"],
                r["kind"],
                "" if r["developer_id"] is None else str(r["developer_id"]),
                r["name"],
                str(r["secret_version"]),
                _when(r["previous_secret_expires_at"]),
                _when(r["revoked_at"]),
            ]
            for r in rows
        ],
    )


def attach(main: click.Group) -> None:
    """Add these groups to `skillgw`."""
    for group in (developers, skills, clients):
        main.add_command(group)
