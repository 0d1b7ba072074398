"""`skillgw developers|skills|clients`: the same services as the admin API, audited with the
operator as actor, tables by default and JSON with --json."""

import json

import pytest
from click.testing import CliRunner
from platform_db import Platform, env

from gateway import create_app
from gateway.cli import main


@pytest.fixture
def skillgw(platform_db):
    runner = CliRunner(
        env=env(GATEWAY_DATABASE_URL=platform_db, USER="fallback-user", COLUMNS="200")
    )

    def run(*args: str, ok: bool = True):  # type: ignore[no-untyped-def]
        result = runner.invoke(main, list(args))
        if ok:
            assert result.exit_code == 0, (args, result.output)
        return result

    return run


def json_lines(result) -> list[dict]:  # type: ignore[no-untyped-def]
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def audit_rows(platform: Platform) -> list[dict]:
    return platform.rows(
        "SELECT actor_kind, actor_id, action, developer_id, skill_id, subject"
        " FROM audit_events ORDER BY id"
    )


def test_an_operator_runs_a_developers_whole_lifecycle(skillgw, platform, platform_db, tmp_path):
    added = skillgw(
        "developers",
        "add",
        "Pizza Palace",
        "--email",
        "ops@pizza.example",
        "--operator",
        "alice",
        "--json",
    )
    developer = json_lines(added)[0]
    assert developer["name"] == "Pizza Palace" and developer["tier"] == "none"

    skill = json_lines(
        skillgw(
            "skills",
            "add",
            "Pizza Palace",
            "Pizza Order",
            "--category",
            "food",
            "--operator",
            "alice",
            "--json",
        )
    )[0]
    assert skill["developer_id"] == developer["id"] and skill["category"] == "food"

    created = skillgw(
        "clients", "create", "--developer", str(developer["id"]), "--operator", "alice"
    )
    lines = dict(line.split(":", 1) for line in created.stdout.splitlines() if ":" in line)
    client_id, secret = lines["client_id"].strip(), lines["client_secret"].strip()
    assert "shown once" in created.stderr

    # the credentials work against the app, on the same database
    app = create_app(
        {
            "DATABASE_URL": platform_db,
            "SECRET_KEY": "test-secret",
            "DATA_DIR": str(tmp_path),
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    http = app.test_client()
    token = http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert token.status_code == 200
    bearer = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    assert http.get("/v1/developer", headers=bearer).status_code == 200

    suspended = skillgw("developers", "suspend", "Pizza Palace", "--operator", "bob")
    assert "revoked 1 live token" in suspended.stdout
    assert http.get("/v1/developer", headers=bearer).status_code == 401
    refused = http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert refused.get_json()["error"] == "unauthorized_client"
    again = skillgw("developers", "suspend", str(developer["id"]), ok=False)
    assert again.exit_code == 1 and "suspended already" in again.output

    listed = json_lines(skillgw("developers", "list", "--suspended", "--json"))
    assert [row["id"] for row in listed] == [developer["id"]]
    table = skillgw("developers", "list")
    assert "Pizza Palace" in table.stdout and "ops@pizza.example" in table.stdout

    skillgw("developers", "reinstate", "Pizza Palace")  # --operator defaults to the OS user
    assert (
        http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
        ).status_code
        == 200
    )

    rotated = json_lines(skillgw("clients", "rotate", client_id, "--grace", "15m", "--json"))[0]
    assert rotated["secret_version"] == 2 and rotated["previous_valid_until"]
    new_secret = rotated["client_secret"]
    for presented in (secret, new_secret):  # both during the grace period
        assert (
            http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, presented),
            ).status_code
            == 200
        )

    clients = json_lines(skillgw("clients", "list", "--developer", "Pizza Palace", "--json"))
    assert [c["client_id"] for c in clients] == [client_id]
    everything = skillgw("clients", "list", "--json").stdout + skillgw("clients", "list").stdout
    assert secret not in everything and new_secret not in everything
    assert "sha256$" not in everything

    revoked = skillgw("clients", "revoke", client_id)
    # the one issued after reinstating, and one with each secret during the grace period
    assert f"Revoked {client_id} and 3 live tokens." in revoked.stdout
    assert (
        http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, new_secret)
        ).status_code
        == 401
    )
    skills = json_lines(skillgw("skills", "list", "--json"))
    assert [s["id"] for s in skills] == [skill["id"]]

    actions = [
        (row["actor_kind"], row["actor_id"], row["action"])
        for row in audit_rows(platform)
        if row["actor_kind"] == "cli"
    ]
    assert actions == [
        ("cli", "alice", "developer.registered"),
        ("cli", "alice", "skill.registered"),
        ("cli", "alice", "client.created"),
        ("cli", "bob", "developer.suspended"),
        ("cli", "bob", "token.revoked"),
        ("cli", "fallback-user", "developer.reinstated"),
        ("cli", "fallback-user", "client.rotated"),
        ("cli", "fallback-user", "client.revoked"),
        ("cli", "fallback-user", "token.revoked"),
        ("cli", "fallback-user", "token.revoked"),
        ("cli", "fallback-user", "token.revoked"),
    ]


def test_bad_input_changes_nothing_and_says_why(skillgw, platform):
    bad_email = skillgw("developers", "add", "Acme", "--email", "nope", ok=False)
    assert bad_email.exit_code == 2 and "contact_email" in bad_email.output
    unknown = skillgw("developers", "suspend", "Nobody Inc", ok=False)
    assert unknown.exit_code == 1 and "No developer named 'Nobody Inc'" in unknown.output
    no_developer = skillgw("clients", "create", "--kind", "developer", ok=False)
    assert no_developer.exit_code == 1 and "developer_id" in no_developer.output
    grace = skillgw("clients", "rotate", "dev_000000000000000000000000", "--grace", "31d", ok=False)
    assert grace.exit_code == 2 and "30 days" in grace.output
    missing = skillgw("clients", "revoke", "dev_000000000000000000000000", ok=False)
    assert missing.exit_code == 1 and "No such resource" in missing.output
    operator = skillgw(
        "developers", "add", "Acme", "--email", "a@b.example", "--operator", "alice smith", ok=False
    )
    assert operator.exit_code == 2 and "operator" in operator.output

    assert platform.count("developers") == 0 and platform.count("oauth_clients") == 0
    assert audit_rows(platform) == []


def test_admin_and_platform_clients_get_their_own_scopes(skillgw):
    for kind, scope in (("admin", "admin"), ("platform", "ingest")):
        issued = json_lines(skillgw("clients", "create", "--kind", kind, "--json"))[0]
        assert issued["scopes"] == [scope] and issued["developer_id"] is None
