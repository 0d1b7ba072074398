"""Route inventory: every route is public by name or guarded by a non-empty scope (V4, goal 15)."""

import uuid

import pytest
from werkzeug.routing import IntegerConverter, UUIDConverter

# Endpoints anyone may call; adding one here is a security decision, made in review.
PUBLIC = {
    "static",
    "health.healthz",
    "health.readyz",
    "oauth.issue_token",
    "oauth.revoke_token",
    "oauth.introspect_token",
    "oauth.metadata",
    "docs.openapi_json",
    "docs.page",
    # pages before sign-in: the sign-in forms, the OAuth authorization endpoint (it sends a
    # signed-out user to sign in) and the one-time activation link
    "authorize.authorize",
    "sign_in.user_sign_in",
    "sign_in.admin_sign_in",
    "sign_in.admin_second_factor",
    "activation.activate",
}
SESSION_KINDS = {"user", "admin"}
KNOWN_SCOPES = {"transcripts:read", "admin", "ingest", "privacy"}


def unguarded(app) -> list[str]:  # type: ignore[no-untyped-def]
    """Rules that are neither public by name nor carry a required scope."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        view = app.view_functions[rule.endpoint]
        if getattr(view, "required_session", None) in SESSION_KINDS:
            continue  # a page for a signed-in admin or user (gateway.web.pages)
        scope = getattr(view, "required_scope", None)
        if not (isinstance(scope, str) and scope.strip()):
            found.append(f"{rule.rule} -> {rule.endpoint}")
    return found


def session_rules(app):  # type: ignore[no-untyped-def]
    return [
        rule
        for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], "required_session", None) in SESSION_KINDS
    ]


def protected_rules(app):  # type: ignore[no-untyped-def]
    """The routes guarded by a bearer token's scope."""
    pages = {rule.endpoint for rule in session_rules(app)}
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in PUBLIC and rule.endpoint not in pages
    ]


def sample_url(app, rule) -> str:  # type: ignore[no-untyped-def]
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, UUIDConverter):
            values[name] = uuid.uuid4()
        elif isinstance(converter, IntegerConverter):
            values[name] = 1
        else:
            values[name] = "x"
    return str(app.url_map.bind("localhost").build(rule.endpoint, values))


def methods(rule) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def test_every_route_is_public_or_scoped(app):
    assert unguarded(app) == []


def test_the_public_list_names_real_routes(app):
    # a stale entry could later shadow a new, unprotected route of the same name
    assert PUBLIC <= {rule.endpoint for rule in app.url_map.iter_rules()}


def test_the_inventory_catches_an_unguarded_route(app):
    app.add_url_rule("/v1/forgotten", "forgotten", lambda: "open")

    def empty_scope():
        return "open"

    empty_scope.required_scope = ""  # type: ignore[attr-defined]
    app.add_url_rule("/v1/empty", "empty", empty_scope)

    assert unguarded(app) == ["/v1/forgotten -> forgotten", "/v1/empty -> empty"]


def test_there_are_protected_routes_to_check(app):
    assert len(protected_rules(app)) >= 5


def test_scopes_are_ones_the_server_issues(app):
    scopes = {app.view_functions[rule.endpoint].required_scope for rule in protected_rules(app)}

    assert scopes <= KNOWN_SCOPES


def test_no_protected_route_answers_without_a_token(app, client):
    for rule in protected_rules(app):
        url = sample_url(app, rule)
        for method in methods(rule):
            response = client.open(url, method=method)
            assert response.status_code == 401, (method, url)
            assert response.headers["WWW-Authenticate"] == 'Bearer realm="gateway"'


def test_no_page_opens_without_a_session(app, client):
    rules = session_rules(app)

    assert {app.view_functions[r.endpoint].required_session for r in rules} == SESSION_KINDS
    for rule in rules:
        url = sample_url(app, rule)
        for method in methods(rule):
            response = client.open(url, method=method)
            if method == "GET":
                assert response.status_code == 303, (method, url)
                assert "/sign-in?next=" in response.headers["Location"]
            else:
                assert response.status_code == 403, (method, url)


def test_no_protected_route_reads_a_token_from_the_query(app, client, make, bearer):
    developer = make.developer()
    token = bearer(make.client(developer_id=developer))["Authorization"].split()[1]
    for rule in protected_rules(app):
        url = sample_url(app, rule)
        for method in methods(rule):
            response = client.open(f"{url}?access_token={token}", method=method)
            assert response.status_code == 401, (method, url)


@pytest.mark.parametrize("kind", ["admin", "platform"])
def test_developer_routes_refuse_other_kinds_of_client(app, client, make, bearer, kind):
    headers = bearer(make.client(kind=kind))
    developer_rules = [
        rule
        for rule in protected_rules(app)
        if app.view_functions[rule.endpoint].required_scope == "transcripts:read"
    ]

    assert developer_rules
    for rule in developer_rules:
        url = sample_url(app, rule)
        for method in methods(rule):
            response = client.open(url, method=method, headers=headers)
            assert response.status_code == 403, (method, url)
            assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
