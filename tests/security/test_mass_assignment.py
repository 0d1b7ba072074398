"""Mass assignment on every JSON write route: a field the route does not take (an id, an owner,
a tier, a scope, a timestamp, a flag) is a 422 and changes nothing, so an id in a body can
never redirect an action to another row; a route that takes no body refuses one with fields;
JSON nested 10,000 deep is a 4xx JSON error."""

import itertools

import pytest
from security.hygiene import problems
from security.world import (
    AUDIENCES,
    JSON_BODIES,
    changed_tables,
    read_inventory,
    request_for,
    route_methods,
)

from schemas.ingest import IngestInteractionSchema, IngestUserSchema

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def json_writes(app) -> list[tuple[str, str]]:
    """Every write route of the JSON API (the OAuth endpoints take RFC 6749's forms)."""
    return sorted(
        key for key in route_methods(app) if key[0] in WRITES and key[1].startswith("/v1/")
    )


def first_success(method: str, rule: str) -> str:
    """The first audience the inventory says succeeds on the route."""
    for line in read_inventory():
        if (line.method, line.rule) == (method, rule) and line.outcome == "2xx":
            return line.audience
    raise AssertionError(f"no audience succeeds on {method} {rule}")


def intruders(world, make) -> dict[str, object]:
    """Fields no write route takes, each naming a real row of someone else where it can."""
    other_developer = make.developer()
    other_skill = make.skill(other_developer)
    return {
        "id": other_developer,
        "developer_id": other_developer,
        "skill_id": other_skill,
        "interaction_id": world.own["developer:trusted"]["interaction_id"],
        "user_id": world.shared["user_id"],
        "client_id": world.values["spare_client"],
        "tier": "trusted",
        "kind": "admin",
        "scopes": ["admin", "ingest", "privacy", "transcripts:read"],
        "created_at": "2020-01-01T00:00:00Z",
        "revoked_at": None,
        "suspended_at": None,
        "granted_by": "attacker",
        "is_admin": True,
        "is_child": False,
        "secret": "chosen-by-the-caller",
    }


def _call(app, conn, world, fingerprint, audience, method, rule, **change):
    """Call the route as `audience` with its valid request changed by `change`; (response,
    tables changed), rolled back after."""
    url, kwargs = request_for(app, world, audience, method, route_methods(app)[(method, rule)])
    kwargs.update(change)
    http = app.test_client(use_cookies=False)
    before = fingerprint.take()
    with conn.transaction(force_rollback=True):
        response = http.open(url, **kwargs)
        after = fingerprint.take()
    return response, changed_tables(before, after)


def test_every_json_write_route_is_covered(app):
    no_body = [key for key in json_writes(app) if key not in JSON_BODIES]
    # the routes that name their row in the URL and take nothing else
    assert no_body == [
        ("DELETE", "/v1/admin/developers/<int:developer_id>/suspension"),
        ("DELETE", "/v1/me/consents/<uuid:skill_id>"),
        ("DELETE", "/v1/me/interactions"),
        ("DELETE", "/v1/platform/users/<user_id>/consents/<uuid:skill_id>"),
        ("DELETE", "/v1/platform/users/<user_id>/interactions"),
        ("POST", "/v1/developer/webhook/secret"),
        ("POST", "/v1/platform/users/<user_id>/activation"),
    ]
    assert len(json_writes(app)) == len(no_body) + len(JSON_BODIES)


@pytest.mark.slow
def test_an_unknown_field_on_any_write_is_a_422_and_changes_nothing(
    app, conn, make, world, fingerprint
):
    extra = intruders(world, make)
    accepted, dirty, tried = [], [], 0
    for method, rule in json_writes(app):
        audience = first_success(method, rule)
        url, valid = request_for(app, world, audience, method, route_methods(app)[(method, rule)])
        body = dict(valid.get("json", {}))
        for name, value in extra.items():
            if name in body:
                continue  # a field the route takes: its own tests cover its values
            response, changed = _call(
                app, conn, world, fingerprint, audience, method, rule, json={**body, name: value}
            )
            tried += 1
            details = (response.get_json(silent=True) or {}).get("details", {})
            if response.status_code != 422 or name not in details or changed:
                accepted.append(f"{method} {rule} +{name}: {response.status_code} {changed}")
            found = problems(rule, response.get_data(), response.mimetype)
            if found:
                dirty.append(f"{method} {rule} +{name}: {found}")
    assert tried > 300
    assert accepted == []
    assert dirty == []
    # inside a batch too: a field no item takes refuses the whole batch
    for rule, items, schema in (
        ("/v1/ingest/users", "users", IngestUserSchema),
        ("/v1/ingest/interactions", "interactions", IngestInteractionSchema),
    ):
        url, valid = request_for(app, world, "platform", "POST", route_methods(app)[("POST", rule)])
        for name, value in extra.items():
            item = dict(valid["json"][items][0])
            if name in schema().fields:
                continue  # a field the batch takes (is_child, user_id...): its own tests cover it
            body = {items: [{**item, name: value}]}
            response, changed = _call(
                app, conn, world, fingerprint, "platform", "POST", rule, json=body
            )
            assert response.status_code == 422, (rule, name, response.get_json())
            assert changed == [], (rule, name)


def test_json_nested_ten_thousand_deep_is_a_4xx_json_error(app, conn, world, fingerprint):
    depth = 10_000
    shapes = ["[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth]
    for (method, rule), deep in itertools.product(json_writes(app), shapes):
        audience = first_success(method, rule)
        response, changed = _call(
            app,
            conn,
            world,
            fingerprint,
            audience,
            method,
            rule,
            json=None,
            data=deep,
            content_type="application/json",
        )
        assert 400 <= response.status_code < 500, (method, rule, response.status_code)
        assert response.mimetype == "application/json"
        assert response.get_json()["error"] == "invalid_request"
        assert changed == []
        assert problems(rule, response.get_data(), response.mimetype) == []


def test_a_body_on_a_route_that_takes_none_is_refused(app, conn, world, fingerprint):
    for method, rule in json_writes(app):
        audience = first_success(method, rule)
        # the valid request succeeds: the 422s here and above are the fields' doing
        response, _ = _call(app, conn, world, fingerprint, audience, method, rule)
        assert 200 <= response.status_code < 300, (method, rule, response.get_json())
        if (method, rule) in JSON_BODIES:
            continue
        for body in ({"developer_id": 1}, {"since": "2020-01-01T00:00:00Z"}, [1], "x"):
            response, changed = _call(
                app, conn, world, fingerprint, audience, method, rule, json=body
            )
            assert response.status_code == 422, (method, rule, body, response.get_json())
            assert changed == [], (method, rule, body)
        # an empty object is no field at all
        response, _ = _call(app, conn, world, fingerprint, audience, method, rule, json={})
        assert 200 <= response.status_code < 300, (method, rule, response.get_json())


def test_every_audience_is_in_the_inventory():
    assert {line.audience for line in read_inventory()} == set(AUDIENCES)
