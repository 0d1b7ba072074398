"""Sign-ins for the demo: an admin account with a known password and TOTP secret, and known
passwords for the demo users the banner shows. The passwords are new at every run (random,
printed once), so a demo left running somewhere has no password anyone could look up."""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.db import bind_principal
from gateway.models import SYSTEM, Conn
from gateway.services import admins as admins_service
from gateway.services import audit
from gateway.services import user_accounts as accounts_service
from gateway.web import passwords

ADMIN_NAME = "demo-admin"


@dataclass(frozen=True)
class DemoSignIns:
    admin_name: str
    admin_password: str
    totp_secret: str
    totp_uri: str
    user_password: str
    users: list[str]  # platform user ids whose password is `user_password`


def issue_sign_ins(
    conn: Conn, *, server_secret: str, users: Iterable[str], issuer: str = "Skill Data Gateway"
) -> DemoSignIns:
    """Make sure the demo admin exists (created once; its TOTP secret is read back after), give
    it a new password, and give `users` a new password (one for all of them). `conn` carries
    the binding key, as for load_demo."""
    users = list(users)
    admin_password = secrets.token_urlsafe(12)
    user_password = secrets.token_urlsafe(12)
    with conn.transaction():
        bind_principal(conn, SYSTEM)
        secret = admins_service.totp_secret(conn, name=ADMIN_NAME, server_secret=server_secret)
        if secret is None:
            secret = admins_service.create_admin(
                conn,
                actor=audit.SYSTEM,
                name=ADMIN_NAME,
                password=admin_password,
                server_secret=server_secret,
            ).totp_secret
        else:
            admins_service.reset_password(conn, name=ADMIN_NAME, password=admin_password)
        for user in users:
            accounts_service.set_password(conn, user=user, password=user_password)
    return DemoSignIns(
        ADMIN_NAME,
        admin_password,
        secret,
        passwords.totp_uri(secret, account=ADMIN_NAME, issuer=issuer),
        user_password,
        users,
    )
