"""Schemathesis, stateful: sequences of calls that follow the OpenAPI document's links (a new
developer → its skills, clients, grants, suspension; a client → rotation, revocation; a deletion
→ its progress; a tier request → its approval), every answer checked with schemathesis's default
checks (all but one, see CONFIG). CI size by default (15 scenarios of up to 10 steps);
GATEWAY_STATEFUL_EXAMPLES and GATEWAY_STATEFUL_STEPS make it nightly-sized."""

import os
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from factories import USER_PASSWORD
from hypothesis import HealthCheck, Phase, settings
from schemathesis.config import SchemathesisConfig
from tokens import user_bearer_headers

from gateway import create_app
from gateway.db import SharedConnection
from gateway.services import audit, tier_requests

EXAMPLES = int(os.environ.get("GATEWAY_STATEFUL_EXAMPLES", "15"))
STEPS = int(os.environ.get("GATEWAY_STATEFUL_STEPS", "10"))


@pytest.fixture
def app(conn, app_settings):
    # hundreds of requests from one client: rate limits are tested elsewhere
    return create_app(app_settings(DATABASE=SharedConnection(conn), RATELIMIT_ENABLED=False))


@pytest.fixture
def tokens(make, bearer, client):
    """A token per audience, and rows for the linked operations to find: a developer's skill
    with consented interactions in sessions, a user's consent and deletion, a developer on
    `none` that asks for tiers (so that approvals leave the reading developer's tier alone)."""
    developer = make.developer(tier="trusted")
    skill = make.skill(developer)
    for n in range(3):
        user = make.user()
        make.consent(user, skill)
        make.interaction(skill, user, session_id=f"stateful-session-{n}")
    me, login = make.user_with_password(USER_PASSWORD)
    make.consent(me, skill)
    make.interaction(skill, me, occurred_at=datetime.now(UTC) - timedelta(days=3))
    user = user_bearer_headers(client, login, USER_PASSWORD)
    deleted = client.delete(
        "/v1/me/interactions",
        query_string={"until": (datetime.now(UTC) - timedelta(days=1)).isoformat()},
        headers=user,
    )
    assert deleted.status_code == 200, deleted.get_json()
    for _ in range(3):  # pending requests of their own for the list's approve and deny links
        make._run(
            tier_requests.submit_request,
            actor=audit.SYSTEM,
            developer_id=make.developer(tier=None),
            tier="standard",
            purpose="stateful fuzzing",
            accepted_terms=True,
        )
    return {
        "developer": bearer(make.client(developer_id=developer)),
        "requester": bearer(make.client(developer_id=make.developer(tier=None))),
        "admin": bearer(make.client(kind="admin")),
        "user": user,
    }


# which token each audience's operations send: the first pattern that matches
AUDIENCES = [
    ("/v1/admin/", "admin"),
    ("/v1/me", "user"),
    ("/v1/developer/tier-requests", "requester"),
    ("/v1/", "developer"),
]

CONFIG = {
    # every default check but one: the document cannot say which strings name a redaction
    # policy or parse as a rate limit, so a schema-valid tier may be refused (test_fuzz.py
    # leaves this check out for the same reason)
    "checks": {"positive_data_acceptance": {"enabled": False}},
    # the document's own links only: inferred ones could join a list of everybody's ids to an
    # admin action, suspending or revoking what the other operations' tokens rely on
    "phases": {"stateful": {"inference": {"algorithms": []}}},
}


def test_linked_sequences_answer_as_documented(app, tokens, conn):
    config = SchemathesisConfig.from_dict(CONFIG)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app, config=config)
    followed: Counter[str] = Counter()
    statuses: Counter[int] = Counter()

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        # each scenario starts from the same rows: a savepoint rolled back at its end. Rows
        # left by one scenario would change what the next one's rules may do, which
        # Hypothesis reports as flaky data generation
        def setup(self):  # type: ignore[no-untyped-def]
            self.scenario = conn.transaction(force_rollback=True)
            self.scenario.__enter__()

        def teardown(self):  # type: ignore[no-untyped-def]
            self.scenario.__exit__(None, None, None)
            super().teardown()

        def get_call_kwargs(self, case):  # type: ignore[no-untyped-def]
            audience = next(a for prefix, a in AUDIENCES if case.operation.path.startswith(prefix))
            return {"headers": tokens[audience]}

        def validate_response(self, response, case, additional_checks=None, **kwargs):  # type: ignore[no-untyped-def]
            # the headers are the run's own credentials, as the CLI's --header would be: the
            # ignored-auth check then probes without them instead of taking them for generated
            case.validate_response(
                response,
                additional_checks=additional_checks,
                headers=kwargs.get("headers"),
                transport_kwargs=kwargs,
                recorder=self.recorder,
            )

        def step(self, input):  # type: ignore[no-untyped-def]
            output = super().step(input)
            status = output.response.status_code
            statuses[status] += 1
            if input.transition is not None and input.is_applied:
                followed[input.transition.id] += 1
                # what schemathesis's resource-availability check would say, had the bearer
                # token not been a header the document declares (it then never applies): a
                # resource just created is there to read
                created = " -> [201] " in input.transition.id
                assert not (created and input.case.method == "GET" and status == 404), (
                    f"{input.transition.id}: 404 for a resource just created"
                )
            return output

    def covered() -> bool:
        return len(followed) >= 3 and any(" -> [201] " in link for link in followed)

    # a run of EXAMPLES random scenarios now and then follows no link from a 201: up to two
    # more runs, so that what is asserted below is always exercised (every run's answers are
    # checked all the same)
    for _ in range(3):
        Workflow.run(
            settings=settings(
                phases=[Phase.generate],  # no shrinking: a replay meets other tokens and times
                max_examples=EXAMPLES,
                stateful_step_count=STEPS,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
        )
        if covered():
            break

    # the run followed links, with the values they carry, and got past the guards
    assert sum(followed.values()) >= 1, (followed, statuses)
    assert len(followed) >= 3, followed
    # among them, one from a resource the run itself created (a 201's id)
    assert any(" -> [201] " in link for link in followed), followed
    assert statuses.keys() & {200, 201}, statuses
