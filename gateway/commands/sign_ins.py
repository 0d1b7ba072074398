"""`skillgw admins|apps`: admin accounts for the web console (password and TOTP) and the
users' first-party app (an OAuth client with registered redirect URIs)."""

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import click

from gateway.exceptions import GatewayError
from gateway.models import SYSTEM, Conn
from gateway.services import admins as admins_service
from gateway.services import audit
from gateway.services import oauth_clients as clients_service
from gateway.web import passwords

ISSUER_LABEL = "Skill Data Gateway"


@contextmanager
def _system() -> Iterator[tuple[Conn, str]]:
    """A transaction as the app role, bound as the system caller; and the server's secret."""
    from gateway import secret_key
    from gateway.cli import _app_connection, _settings
    from gateway.db import bind_principal

    with _app_connection() as conn, conn.transaction():
        bind_principal(conn, SYSTEM)
        yield conn, secret_key(_settings())


def _operator(value: str | None) -> audit.Actor:
    name = value or getpass.getuser()
    try:
        return audit.Actor.operator(name)
    except ValueError as exc:
        raise click.BadParameter(f"{name!r} cannot name an operator in the audit log") from exc


@click.group()
def admins() -> None:
    """Admin accounts of the web console (/admin): a password and a TOTP second factor."""


@admins.command("add")
@click.argument("name")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="GATEWAY_NEW_ADMIN_PASSWORD",
    help="The password (prompted for when not given; or GATEWAY_NEW_ADMIN_PASSWORD).",
)
@click.option("--operator", help="Who is acting, for the audit log (cli:NAME).")
def admins_add(name: str, password: str, operator: str | None) -> None:
    """Create an admin account and print its TOTP provisioning URI, once."""
    actor = _operator(operator)
    try:
        with _system() as (conn, server_secret):
            created = admins_service.create_admin(
                conn, actor=actor, name=name, password=password, server_secret=server_secret
            )
    except GatewayError as error:
        raise click.ClickException(error.description) from None
    uri = passwords.totp_uri(created.totp_secret, account=created.name, issuer=ISSUER_LABEL)
    click.echo(f"Admin {created.name!r} created. Add this to an authenticator app (shown once):")
    click.echo(f"  {uri}")
    click.echo(f"  (secret {created.totp_secret}, 6 digits, 30 s, SHA-1)")
    click.echo("Then sign in at /admin/sign-in with the name, the password and the app's code.")


@admins.command("list")
def admins_list() -> None:
    """The admin accounts, by name."""
    with _system() as (conn, _):
        for admin in admins_service.list_admins(conn):
            click.echo(admin.name)


@click.group()
def apps() -> None:
    """The users' first-party app: an OAuth client for the authorization code flow (PKCE)."""


def _redirect_uri(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> list[str]:
    for value in values:
        parts = urlsplit(value)
        local = parts.hostname in ("localhost", "127.0.0.1", "::1")
        if parts.fragment or not parts.netloc and parts.scheme in ("http", "https"):
            raise click.BadParameter(f"{value!r}: an absolute URI without a fragment")
        if parts.scheme == "http" and not local:
            raise click.BadParameter(f"{value!r}: https, or http on localhost only")
        if not parts.scheme:
            raise click.BadParameter(f"{value!r}: an absolute URI")
    return list(values)


@apps.command("add")
@click.argument("name")
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    required=True,
    callback=_redirect_uri,
    help="Where the app receives codes; matched exactly. Repeat for several.",
)
@click.option("--operator", help="Who is acting, for the audit log (cli:NAME).")
def apps_add(name: str, redirect_uris: list[str], operator: str | None) -> None:
    """Register the users' app; print its client id (a public client: it has no secret)."""
    actor = _operator(operator)
    with _system() as (conn, _):
        issued = clients_service.register_client(
            conn, actor=actor, kind="app", name=name, redirect_uris=redirect_uris
        )
    click.echo(f"client_id {issued.client_id}")
    click.echo("scope     privacy")
    for uri in redirect_uris:
        click.echo(f"redirect  {uri}")


def attach(main: click.Group) -> None:
    main.add_command(admins)
    main.add_command(apps)
