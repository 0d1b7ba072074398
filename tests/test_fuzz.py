"""Schemathesis against the WSGI app with a real developer token: every answer is one the
OpenAPI document promises (goal 14, at CI size)."""

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from factories import USER_PASSWORD
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from tokens import user_bearer_headers

from gateway import create_app
from gateway.db import SharedConnection
from gateway.services import audit, tier_requests

EXAMPLES = int(os.environ.get("GATEWAY_FUZZ_EXAMPLES", "30"))
# where the few valid requests of a run would otherwise all be refused now and then: every
# valid one names real rows (other tests cover unknown ids and kinds)
ALWAYS_REAL = {"/v1/ingest/interactions", "/v1/admin/clients"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]


@pytest.fixture
def app(conn, app_settings):
    # a few hundred requests from one client: rate limits are tested elsewhere
    return create_app(
        app_settings(
            DATABASE=SharedConnection(conn), RATELIMIT_ENABLED=False, WEBHOOK_ALLOW_LOOPBACK=True
        )
    )


@pytest.fixture
def world(make, bearer, client, app):
    """A developer with a skill, consenting users and their interactions; another's skill."""
    developer = make.developer(tier="trusted")
    credentials = make.client(developer_id=developer)
    skill = make.skill(developer)
    interactions = []
    for _ in range(3):
        user = make.user()
        make.consent(user, skill)
        interactions.append(make.interaction(skill, user, order_ref="A-1001"))
    other_skill = make.skill(make.developer())
    platform = make.client(kind="platform")
    user = make.user()
    make.consent(user, skill)
    make.interaction(skill, user, session_id="fuzz-session-1")
    # a complete week of enough users (trusted: k = 5) for the stats to show buckets
    two_weeks_ago = datetime.now(UTC) - timedelta(days=14)
    for _ in range(5):
        make.interaction(skill, make.user(), occurred_at=two_weeks_ago, outcome="success")
    headers = bearer(credentials)
    hook = app.test_client().put(
        "/v1/developer/webhook", json={"url": "http://127.0.0.1:9/hook"}, headers=headers
    )
    assert hook.status_code == 200, hook.get_json()
    assert client.get(f"/v1/skills/{skill}/stats", headers=headers).get_json()["weeks"]
    shown = client.get(f"/v1/skills/{skill}/interactions", headers=headers).get_json()
    sessions = sorted({item["session"] for item in shown["interactions"] if "session" in item})
    assert sessions, shown
    platform_user = make.rows("SELECT platform_user_id FROM users WHERE id = %s", (user,))[0]
    # the voice relay's user: consents and interactions of its own to change and delete
    relayed = make.user()
    make.consent(relayed, skill)
    make.interaction(skill, relayed)
    relayed_id = make.rows("SELECT platform_user_id FROM users WHERE id = %s", (relayed,))[0]
    me = _signed_in_user(make, client, skill, credentials, headers)
    # the admin routes act on rows of their own: suspending, rotating or revoking the
    # developer client above would stop the developer routes' token
    admin_developers = [make.developer(), make.developer()]
    spare = {
        action: [make.client(developer_id=admin_developers[0]).client_id for _ in range(3)]
        for action in ("rotation", "revocation", "show")
    }
    # the whitelist's admin routes act on rows of their own: a tier nobody is on, developers
    # with a pending request each (one pool per decision, so each sees a 200 once)
    fuzz_tiers = [make.tier(f"fuzz-{n}") for n in range(2)]
    requesters = [make.developer(tier=None) for _ in range(6)]
    pending = [
        make._run(
            tier_requests.submit_request,
            actor=audit.SYSTEM,
            developer_id=requester,
            tier="standard",
            purpose="fuzzing",
            accepted_terms=True,
        )["id"]
        for requester in requesters
    ]
    signed_up, login = make.user_with_password()
    return {
        "user_headers": user_bearer_headers(client, login, USER_PASSWORD),
        "admin_headers": bearer(make.client(kind="admin")),
        "grantee": requesters[0],
        "name": st.sampled_from([*fuzz_tiers, "no-such-tier"]),
        # unknown ids often enough that every route taking one sees its 404 too
        "developer_id": st.sampled_from(
            [*admin_developers, *requesters, *range(987654321, 987654325)]
        ),
        "request_ids": {
            "approve": st.sampled_from([*pending[:3], 987654321]),
            "deny": st.sampled_from([*pending[3:], 987654321]),
        },
        "client_ids": {
            # as many unknown ids as real ones: every run sees both the 200 and the 404
            action: st.sampled_from([*ids, *["dev_000000000000000000000000"] * len(ids)])
            for action, ids in spare.items()
        },
        "credentials": credentials,
        "headers": headers,
        "platform_headers": bearer(platform),
        "platform_credentials": platform,
        "skill": skill,
        "skill_id": st.sampled_from([skill, other_skill]),
        "interaction_id": st.sampled_from(interactions),
        "session": st.sampled_from([*sessions, "k1_unknownsession"]),
        "platform_user_id": platform_user["platform_user_id"],
        "user_id": st.sampled_from(
            [relayed_id["platform_user_id"], signed_up, login, "no-such-user"]
        ),
        **me,
    }


def _signed_in_user(make, client, skill, credentials, headers):
    """A user with a password, a token got through the real flow, data read and a deletion."""
    user, login = make.user_with_password(USER_PASSWORD)
    make.consent(user, skill)
    make.interaction(skill, user)
    assert client.get(f"/v1/skills/{skill}/interactions", headers=headers).status_code == 200
    user_headers = user_bearer_headers(client, login, USER_PASSWORD)
    make.interaction(skill, user, occurred_at=datetime.now(UTC) - timedelta(days=3))
    deleted = client.delete(
        "/v1/me/interactions",
        query_string={"until": (datetime.now(UTC) - timedelta(days=1)).isoformat()},
        headers=user_headers,
    )
    assert deleted.status_code == 200, deleted.get_json()
    return {
        "user_headers": user_headers,
        "deletion_id": st.sampled_from([deleted.get_json()["id"], str(uuid.uuid4())]),
    }


def cases(operation, world):
    """Valid and invalid requests, with path parameters that mostly name real rows."""
    known = {
        name: world[name]
        for name in (
            "skill_id",
            "interaction_id",
            "session",
            "developer_id",
            "user_id",
            "deletion_id",
            "name",
        )
        if any(p.name == name for p in operation.path_parameters)
    }
    if any(p.name == "client_id" for p in operation.path_parameters):
        action = operation.path.rsplit("/", 1)[-1]
        known["client_id"] = world["client_ids"].get(action, world["client_ids"]["show"])
    if any(p.name == "request_id" for p in operation.path_parameters):
        known["request_id"] = world["request_ids"][operation.path.rsplit("/", 1)[-1]]
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        if known:
            strategies.append(
                st.fixed_dictionaries(known).flatmap(
                    lambda values, mode=mode: operation.as_strategy(mode, path_parameters=values)
                )
            )
        # an admin route given an arbitrary id could suspend or revoke what the other
        # operations' tokens rely on: admin routes with ids get the rows meant for them only
        if not (known and operation.path.startswith("/v1/admin/")):
            strategies.append(operation.as_strategy(mode))
    return st.one_of(strategies)


def _without_nul(value):  # type: ignore[no-untyped-def]
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {key: _without_nul(item) for key, item in value.items()}
    return value


def _point_at_real_rows(case, world) -> None:
    """Half of the ingest batches name a real skill and user and a past time, so that valid
    batches get through (random ids would all be refused as unknown)."""
    body = case.body
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return  # a request meant to be invalid stays invalid
    if case.operation.path == "/v1/developer/webhook" and isinstance(body, dict):
        body["url"] = "http://127.0.0.1:9/hook"
        return
    if case.operation.path == "/v1/admin/tiers" and isinstance(body, dict):
        # a new name, a real policy and a rate limit that parses: the tier is created
        body.update(
            name=f"fuzz-{uuid.uuid4().hex[:8]}",
            redaction_policy="strict",
            rate_limit="5 per minute",
            transcripts_readable=False,
        )
        return
    if (
        case.operation.path == "/v1/admin/clients"
        and case.operation.method.upper() == "POST"
        and isinstance(body, dict)
    ):
        # a kind that needs no developer: the client is created (a developer client with a
        # random developer_id is all but always refused)
        body["kind"] = "platform"
        body.pop("developer_id", None)
        return
    if case.operation.path == "/v1/developer/tier-requests" and isinstance(body, dict):
        body.update(tier="standard", accepted_terms=True)
        return
    if case.operation.path == "/v1/admin/tiers/{name}" and isinstance(body, dict):
        case.path_parameters = {**(case.path_parameters or {}), "name": "fuzz-1"}
        for name, value in (
            ("redaction_policy", "strict"),
            ("rate_limit", "5 per minute"),
            ("transcripts_readable", False),
        ):
            if name in body:
                body[name] = value
        body.setdefault("page_size", 7)
        return
    if case.operation.path.endswith("/grants") and isinstance(body, dict):
        # a developer and a tier that exist: the grant goes through
        case.path_parameters = {**(case.path_parameters or {}), "developer_id": world["grantee"]}
        body.update(tier="fuzz-0", expires_at=None)
        return
    if case.operation.path != "/v1/ingest/interactions" or not isinstance(body, dict):
        return
    if case.meta is not None and case.meta.generation.mode == GenerationMode.NEGATIVE:
        # rewriting the ids could turn an invalid batch valid (an over-long interaction_id),
        # which negative_data_rejection then reports as accepted
        return
    records = body.get("interactions")
    if not isinstance(records, list):
        return
    for record in records:
        if isinstance(record, dict):
            # schemathesis's "valid" strings may hold NUL, which the server refuses (422): with
            # few such cases per run, all of them could be refused and no batch get through
            for name, value in list(record.items()):
                record[name] = _without_nul(value)
            record.update(
                interaction_id=f"fuzz-{uuid.uuid4()}",
                skill_id=world["skill"],
                user_id=world["platform_user_id"],
                occurred_at="2026-11-01T12:00:00+00:00",
            )


def fuzz(app, operation, world) -> set[int]:
    """Run EXAMPLES generated requests against one operation, check every answer; the statuses."""
    seen: set[int] = set()
    if operation.path.startswith("/oauth/"):
        credentials = world["credentials"]
        call = {"auth": (credentials.client_id, credentials.client_secret)}
    elif operation.path.startswith(("/v1/ingest/", "/v1/platform/")):
        call = {"headers": world["platform_headers"]}
    elif operation.path.startswith("/v1/me/"):
        call = {"headers": world["user_headers"]}
    elif operation.path.startswith("/v1/admin/"):
        call = {"headers": world["admin_headers"]}
    elif operation.path.startswith("/v1/me"):
        call = {"headers": world["user_headers"]}
    else:
        call = {"headers": world["headers"]}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases(operation, world), refer_to_real_rows=st.booleans())
    def run(case, refer_to_real_rows):
        if refer_to_real_rows or operation.path in ALWAYS_REAL:
            _point_at_real_rows(case, world)
        response = case.call(**call)
        seen.add(response.status_code)
        case.validate_response(
            response,
            checks=CHECKS,
            headers=call.get("headers"),
            transport_kwargs=call,
        )

    run()
    return seen


@pytest.mark.slow
def test_every_operation_answers_as_documented(app, world):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [
        operation
        for operation in (result.ok() for result in schema.get_all_operations())
        # the users' routes need a user token (see _signed_in_user)
        if "user_headers" in world or not operation.path.startswith("/v1/me/")
    ]

    statuses = {operation.label: fuzz(app, operation, world) for operation in operations}

    assert len(operations) >= 10
    # the token works and the data is there: the fuzzer got past the guards, and was refused too
    for operation in operations:
        seen = statuses[operation.label]
        if operation.path.startswith("/v1/"):
            assert seen & {200, 201}, (operation.label, seen)
        if "{" in operation.path or operation.query:
            assert seen - {200, 201}, (operation.label, seen)


def test_a_cursor_with_non_ascii_characters_is_refused_not_a_crash(client, world):
    # found by the fuzzer: hmac.compare_digest raised TypeError on a non-ASCII str
    response = client.get(
        f"/v1/skills/{world['skill']}/interactions",
        query_string={"cursor": "eyJ9.é"},
        headers=world["headers"],
    )

    assert response.status_code == 422
    assert response.get_json()["details"] == {
        "cursor": ["Not a cursor from this query; start again."]
    }
