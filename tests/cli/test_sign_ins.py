"""`skillgw admins add|list` and `skillgw apps add`: accounts made through the same services
the web uses, audited with the operator as actor."""

import re
from datetime import UTC, datetime

import psycopg
import pyotp
from click.testing import CliRunner
from factories import BINDING_KEY, SECRET_KEY
from platform_db import env
from psycopg.rows import dict_row

from gateway.cli import main
from gateway.db import bind_principal, use_binding_key
from gateway.models import SYSTEM
from gateway.services import admins as admins_service

PASSWORD = "operators pick long ones"


def run(platform_db, *args, **kwargs):
    return CliRunner(env=env(GATEWAY_DATABASE_URL=platform_db)).invoke(main, list(args), **kwargs)


def test_admins_add_prints_the_provisioning_uri_once_and_the_code_signs_in(platform_db):
    result = run(
        platform_db, "admins", "add", "ops-alice", "--password", PASSWORD, "--operator", "root"
    )

    assert result.exit_code == 0, result.output
    uri = re.search(r"otpauth://totp/\S+", result.output)
    assert uri is not None
    totp = pyotp.parse_uri(uri.group(0))
    assert totp.digits == 6 and totp.interval == 30
    with psycopg.connect(platform_db, autocommit=True, row_factory=dict_row) as conn:
        use_binding_key(conn, BINDING_KEY)
        with conn.transaction():
            bind_principal(conn, SYSTEM)
            admin = admins_service.check_password(conn, name="ops-alice", password=PASSWORD)
            assert admin is not None
            assert admins_service.check_second_factor(
                conn,
                admin_id=admin.id,
                code=totp.now(),
                now=datetime.now(UTC),
                server_secret=SECRET_KEY,
            )
            stored = conn.execute("SELECT totp_ciphertext FROM admin_accounts").fetchone()
            audited = conn.execute(
                "SELECT actor_kind, actor_id, subject FROM audit_events"
                " WHERE action = 'admin.created'"
            ).fetchall()
    assert totp.secret.encode() not in bytes(stored["totp_ciphertext"])
    assert audited == [{"actor_kind": "cli", "actor_id": "root", "subject": "ops-alice"}]
    assert run(platform_db, "admins", "list").output.split() == ["ops-alice"]


def test_admins_add_refuses_a_weak_password_and_a_taken_name(platform_db):
    weak = run(platform_db, "admins", "add", "ops-bob", "--password", "short")
    assert weak.exit_code == 1 and "at least 12" in weak.output

    assert run(platform_db, "admins", "add", "ops-bob", "--password", PASSWORD).exit_code == 0
    taken = run(platform_db, "admins", "add", "ops-bob", "--password", PASSWORD)
    assert taken.exit_code == 1 and "exists" in taken.output


def test_admins_add_prompts_for_the_password_twice(platform_db):
    result = run(platform_db, "admins", "add", "ops-carol", input=f"{PASSWORD}\n{PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert "otpauth://" in result.output


def test_apps_add_registers_a_public_client_with_exact_redirect_uris(platform_db):
    result = run(
        platform_db,
        "apps",
        "add",
        "Privacy app",
        "--redirect-uri",
        "https://app.example/cb",
        "--redirect-uri",
        "http://localhost:3000/cb",
    )

    assert result.exit_code == 0, result.output
    client_id = re.search(r"client_id (\S+)", result.output).group(1)
    with psycopg.connect(platform_db, autocommit=True, row_factory=dict_row) as conn:
        row = conn.execute(
            "SELECT kind, scopes, redirect_uris FROM oauth_clients WHERE client_id = %s",
            (client_id,),
        ).fetchone()
    assert row == {
        "kind": "app",
        "scopes": ["privacy"],
        "redirect_uris": ["https://app.example/cb", "http://localhost:3000/cb"],
    }


def test_apps_add_refuses_plain_http_away_from_localhost(platform_db):
    result = run(platform_db, "apps", "add", "App", "--redirect-uri", "http://app.example/cb")

    assert result.exit_code == 2
    assert "https, or http on localhost only" in result.output
