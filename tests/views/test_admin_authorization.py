"""Function-level authorization (OWASP API5): every route under /v1/admin, found in the app's
url_map (so routes added later are covered without editing this file), called by every kind of
caller. Only a live admin token gets through; every other call changes nothing at all in the
database (a digest of every table before and after)."""

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from psycopg import sql
from tokens import mint_token
from werkzeug.routing import IntegerConverter, UUIDConverter

ADMIN_PREFIX = "/v1/admin"

# A valid body and path for the routes this file knows, so the admin call really succeeds and
# the others would really write something if their guard let them through. A route it does not
# know gets `{}` and sample ids: the admin call must still get past the guard.
BODIES: dict[str, dict[str, Any]] = {
    "admin_accounts.register_developer": {"name": "Matrix Inc", "contact_email": "m@x.example"},
    "admin_accounts.register_skill": {"name": "Matrix Skill"},
    "admin_accounts.create_client": {"kind": "platform"},
    "admin_accounts.rotate_client_secret": {"grace_seconds": 60},
}
SUCCESS = {"GET": {200}, "POST": {200, 201}, "DELETE": {200}, "PUT": {200}, "PATCH": {200}}


def admin_rules(app) -> list:  # type: ignore[no-untyped-def]
    return sorted(
        (rule for rule in app.url_map.iter_rules() if rule.rule.startswith(ADMIN_PREFIX + "/")),
        key=lambda rule: rule.rule,
    )


def methods(rule) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def database_digest(conn) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A digest of every row of every table in the public and vault schemas, as the owner
    (row-level security hides nothing from it), then back to the app role."""
    role = conn.execute("SELECT current_user AS role").fetchone()["role"]
    conn.execute("RESET ROLE")
    try:
        tables = conn.execute(
            """
            SELECT n.nspname AS schema, c.relname AS name FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND n.nspname IN ('public', 'vault')
              AND NOT c.relispartition
            ORDER BY 1, 2
            """
        ).fetchall()
        digests = {}
        for table in tables:
            query = sql.SQL(
                "SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
                " AS digest FROM {} t"
            ).format(sql.Identifier(table["schema"], table["name"]))
            row = conn.execute(query).fetchone()
            digests[f"{table['schema']}.{table['name']}"] = f"{row['n']}:{row['digest']}"
        return digests
    finally:
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))


@pytest.fixture
def world(make):
    """Real rows for the routes' path parameters: a developer, a suspended one, clients."""
    developer = make.developer()
    suspended = make.developer()
    make.suspend(suspended)
    return {
        "developer_id": developer,
        "suspended_id": suspended,
        "rotate_client": make.client(developer_id=developer).client_id,
        "revoke_client": make.client(developer_id=developer).client_id,
        "show_client": make.client(kind="platform").client_id,
        "skill": make.skill(developer),
    }


def url_for(app, rule, method: str, world) -> str:  # type: ignore[no-untyped-def]
    values: dict[str, Any] = {}
    for name, converter in rule._converters.items():
        if name == "developer_id":
            reinstating = method == "DELETE" and rule.rule.endswith("/suspension")
            values[name] = world["suspended_id"] if reinstating else world["developer_id"]
        elif name == "client_id":
            if rule.rule.endswith("/revocation"):
                values[name] = world["revoke_client"]
            elif rule.rule.endswith("/rotation"):
                values[name] = world["rotate_client"]
            else:
                values[name] = world["show_client"]
        elif isinstance(converter, UUIDConverter):
            values[name] = world["skill"] if "skill" in name else uuid.uuid4()
        elif isinstance(converter, IntegerConverter):
            values[name] = 1
        else:
            values[name] = "none"
    return str(app.url_map.bind("localhost").build(rule.endpoint, values, method=method))


# The callers. A later branch adds user tokens (scope `privacy`): when tests/tokens.py offers
# `user_bearer_headers` and tests/factories.py a user with a password, the "user" caller below
# stops skipping and every admin route is checked against a user token too.
def _no_token(client, make, clock) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {}


def _developer(client, make, clock) -> dict[str, str]:  # type: ignore[no-untyped-def]
    credentials = make.client(developer_id=make.developer(tier="trusted"))
    return {"Authorization": f"Bearer {mint_token(client, credentials)}"}


def _platform(client, make, clock) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {mint_token(client, make.client(kind='platform'))}"}


def _user(client, make, clock) -> dict[str, str]:  # type: ignore[no-untyped-def]
    import tokens

    user_bearer_headers = getattr(tokens, "user_bearer_headers", None)
    make_user = getattr(make, "user_with_password", None)
    if user_bearer_headers is None or make_user is None:
        pytest.skip("no user tokens in this build yet")
    import factories

    _, login = make_user()  # (gateway id, login), the password factories.USER_PASSWORD
    headers: dict[str, str] = user_bearer_headers(client, login, factories.USER_PASSWORD)
    return headers


def _expired_admin(client, make, clock) -> dict[str, str]:  # type: ignore[no-untyped-def]
    token = mint_token(client, make.client(kind="admin"))
    clock.advance(seconds=client.application.config["ACCESS_TOKEN_TTL"] + 1)
    return {"Authorization": f"Bearer {token}"}


def _revoked_admin(client, make, clock) -> dict[str, str]:  # type: ignore[no-untyped-def]
    credentials = make.client(kind="admin")
    token = mint_token(client, credentials)
    make.rows(
        "UPDATE oauth_clients SET revoked_at = now() WHERE client_id = %s RETURNING client_id",
        (credentials.client_id,),
    )
    return {"Authorization": f"Bearer {token}"}


REFUSED: dict[str, Callable[..., dict[str, str]]] = {
    "no token": _no_token,
    "developer": _developer,
    "platform": _platform,
    "user": _user,
    "expired admin": _expired_admin,
    "revoked admin": _revoked_admin,
}


def test_there_are_admin_routes_to_check(app):
    endpoints = {rule.endpoint for rule in admin_rules(app)}

    assert {
        "admin_accounts.list_developers",
        "admin_accounts.suspend_developer",
        "admin_accounts.reinstate_developer",
        "admin_accounts.rotate_client_secret",
        "admin_accounts.revoke_client",
        "admin_audit.query_audit",
        "admin_audit.verify_audit",
    } <= endpoints
    assert all(
        app.view_functions[rule.endpoint].required_scope == "admin" for rule in admin_rules(app)
    )


@pytest.mark.parametrize("caller", sorted(REFUSED))
def test_no_other_caller_gets_through_or_changes_anything(
    app, client, make, clock, world, conn, caller
):
    headers = REFUSED[caller](client, make, clock)
    before = database_digest(conn)

    calls = []
    for rule in admin_rules(app):
        for method in methods(rule):
            url = url_for(app, rule, method, world)
            body = BODIES.get(rule.endpoint, {}) if method in {"POST", "PUT", "PATCH"} else None
            response = client.open(url, method=method, json=body, headers=headers)
            calls.append((method, url, response.status_code))
            assert response.status_code in {401, 403}, (caller, method, url, response.get_json())
            assert response.get_json()["error"] in {
                "unauthorized",
                "invalid_token",
                "insufficient_scope",
                "forbidden",
            }

    assert len(calls) >= 12
    assert database_digest(conn) == before


def test_a_live_admin_token_gets_through_every_route(app, client, make, world, bearer):
    headers = bearer(make.client(kind="admin"))
    # reinstating needs the suspension its DELETE lifts, suspending a developer that is not:
    # run the DELETE before the POST of the same rule
    for rule in admin_rules(app):
        for method in sorted(methods(rule), key=lambda m: m != "DELETE"):
            url = url_for(app, rule, method, world)
            body = BODIES.get(rule.endpoint, {}) if method in {"POST", "PUT", "PATCH"} else None
            response = client.open(url, method=method, json=body, headers=headers)
            assert response.status_code not in {401, 403}, (method, url, response.get_json())
            if rule.endpoint.startswith(("admin_accounts.", "admin_audit.")):
                assert response.status_code in SUCCESS[method], (method, url, response.get_json())


def test_the_digest_sees_a_change(conn, make):
    # the check above must be able to fail: one write shows up in the digest
    before = database_digest(conn)
    make.developer(tier=None)

    assert database_digest(conn) != before
