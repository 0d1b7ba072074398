"""The log: one JSON line per request (id, client, route template, status, duration), and
nothing a caller sent or a user is: a realistic workload through every audience, every line
scanned for the transcripts, names, secrets and tokens it used."""

import json
import logging
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from tokens import mint_token

from gateway import logs

NAME = "Marguerite Okonkwo-Larsen"
PHONE = "+44 20 7946 0958"
EMAIL = "marguerite.okonkwo@example.org"
UTTERANCE = f"call {NAME} on {PHONE} about the quince tart"
RESPONSE = "Calling Marguerite about the quince tart now."
PASSWORD = "hunter2-correct-horse-battery"


class Captured(logging.Handler):
    """Every record formatted as production formats it, at the moment it is emitted."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logs.JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def requests(self) -> list[dict]:
        entries = [json.loads(line) for line in self.lines]
        return [e for e in entries if e["logger"] == logs.REQUEST_LOGGER]


@pytest.fixture
def captured() -> Iterator[Captured]:
    handler = Captured()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _record(skill_id: str, n: int) -> dict:
    return {
        "interaction_id": f"log-int-{n}",
        "skill_id": skill_id,
        "user_id": "log-user-1",
        "session_id": "log-session-1",
        "occurred_at": (datetime.now(UTC) - timedelta(minutes=n)).isoformat(),
        "utterance": UTTERANCE,
        "response": RESPONSE,
        "intent": "CallSomeone",
        "slots": [{"name": "callee", "value": NAME}],
        "outcome": "success",
        "order_ref": f"Q-{n:04d}",
    }


@pytest.fixture(autouse=True)
def resolvable_hooks(monkeypatch):
    # no DNS here: the webhook host resolves to a public address (never contacted here)
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host == "hooks.example.org":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port or 443))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _workload(app, client, make) -> tuple[list[str], list]:
    """Run every audience's calls; return what must never be logged, and the responses."""

    @app.get("/__boom")
    def boom():  # an unexpected error whose message quotes personal data
        raise RuntimeError(f"failed for {NAME} at {PHONE}: {UTTERANCE}")

    developer = make.developer(tier="trusted")
    developer_creds = make.client(developer_id=developer)
    platform_creds = make.client(kind="platform")
    admin_creds = make.client(kind="admin")
    skill = make.skill(developer, name="Quince Bakery")
    responses = []

    def call(method: str, url: str, **kwargs):
        response = client.open(url, method=method, **kwargs)
        responses.append(response)
        return response

    # OAuth: every audience's token, an introspection, a revocation, a wrong secret
    tokens = {
        "developer": mint_token(client, developer_creds),
        "platform": mint_token(client, platform_creds),
        "admin": mint_token(client, admin_creds),
    }
    spare = mint_token(client, developer_creds)
    dev = {"Authorization": f"Bearer {tokens['developer']}"}
    platform = {"Authorization": f"Bearer {tokens['platform']}"}
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    pair = (developer_creds.client_id, developer_creds.client_secret)
    call("POST", "/oauth/introspect", data={"token": spare}, auth=pair)
    call("POST", "/oauth/revoke", data={"token": spare}, auth=pair)
    call(
        "POST",
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(developer_creds.client_id, PASSWORD),
    )
    call(
        "POST",
        "/oauth/token",
        data={"grant_type": "password", "username": EMAIL, "password": PASSWORD},
    )

    # the platform: users with their personal fields, interactions naming people
    assert (
        call(
            "POST",
            "/v1/ingest/users",
            headers=platform,
            json={
                "users": [
                    {"platform_user_id": "log-user-1", "display_name": NAME, "email": EMAIL},
                ]
            },
        ).status_code
        == 200
    )
    assert (
        call(
            "POST",
            "/v1/ingest/interactions",
            headers=platform,
            json={
                "interactions": [_record(skill, n) for n in range(1, 4)],
            },
        ).status_code
        == 200
    )
    user_id = make.rows("SELECT id FROM users WHERE platform_user_id = 'log-user-1'")[0]["id"]
    make.consent(str(user_id), skill, granted_at=datetime.now(UTC) - timedelta(days=1))
    # a bad batch: the error quotes nothing of it
    call(
        "POST",
        "/v1/ingest/interactions",
        headers=platform,
        json={"interactions": [{**_record(skill, 9), "occurred_at": PHONE}]},
    )

    # the developer: reads, a conversation, searches for what the text says
    call("GET", "/v1/developer", headers=dev)
    call("GET", "/v1/skills", headers=dev)
    call("GET", f"/v1/skills/{skill}", headers=dev)
    page = call("GET", f"/v1/skills/{skill}/interactions", headers=dev).get_json()
    assert page["interactions"], page
    first = page["interactions"][0]
    call("GET", f"/v1/skills/{skill}/interactions/{first['id']}", headers=dev)
    if first.get("session"):
        call("GET", f"/v1/skills/{skill}/sessions/{first['session']}", headers=dev)
    call("GET", f"/v1/skills/{skill}/interactions?q=quince+tart", headers=dev)
    call("GET", f"/v1/skills/{skill}/interactions?q=Okonkwo", headers=dev)
    call("GET", f"/v1/skills/{skill}/stats", headers=dev)
    hooked = call(
        "PUT",
        "/v1/developer/webhook",
        headers=dev,
        json={"url": "https://hooks.example.org/gateway"},
    )
    assert hooked.status_code in (200, 201), hooked.get_json()
    rotated = call("POST", "/v1/developer/webhook/secret", headers=dev).get_json() or {}
    assert rotated
    # a token in a URL (refused), a secret in a path, a wrong token
    call("GET", f"/v1/skills?access_token={tokens['developer']}")
    call("GET", f"/v1/nothing-here/{developer_creds.client_secret}")
    call("GET", "/v1/skills", headers={"Authorization": f"Bearer {PASSWORD}"})
    call("GET", f"/v1/skills/{uuid.uuid4()}/interactions?q={NAME}", headers=dev)

    # a tier request whose purpose names someone, and the admin deciding on it
    newcomer = make.developer(tier=None)
    newcomer_creds = make.client(developer_id=newcomer)
    asking = {"Authorization": f"Bearer {mint_token(client, newcomer_creds)}"}
    assert (
        call(
            "POST",
            "/v1/developer/tier-requests",
            headers=asking,
            json={
                "tier": "standard",
                "purpose": f"support calls for {NAME}",
                "accepted_terms": True,
            },
        ).status_code
        == 201
    )
    call("GET", "/v1/developer/tier-requests", headers=asking)
    # admin: every admin route that answers a GET without arguments, grants, their history
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if (
            getattr(view, "required_scope", None) == "admin"
            and "GET" in (rule.methods or ())
            and not rule.arguments
        ):
            call("GET", rule.rule, headers=admin)
    call(
        "POST",
        f"/v1/admin/developers/{developer}/grants",
        headers=admin,
        json={"tier": "standard", "reason": f"reviewed with {NAME} ({PHONE})"},
    )
    call("GET", f"/v1/admin/developers/{developer}/grants", headers=admin)
    call(
        "DELETE",
        f"/v1/admin/developers/{developer}/grants/current",
        headers=admin,
        json={"reason": f"asked by {EMAIL}"},
    )
    call(
        "POST",
        "/oauth/introspect",
        data={"token": tokens["admin"]},
        auth=(admin_creds.client_id, admin_creds.client_secret),
    )

    # probes, the docs, a 404, a 405, an unexpected error
    call("GET", "/healthz")
    call("GET", f"/no/such/page?email={EMAIL}")
    call("DELETE", "/v1/skills", headers=dev)
    assert call("GET", "/__boom").status_code == 500

    secrets_used = [
        NAME,
        "Okonkwo",
        PHONE,
        "7946 0958",
        EMAIL,
        "quince",
        RESPONSE,
        PASSWORD,
        "log-user-1",
        str(user_id),
        developer_creds.client_secret,
        platform_creds.client_secret,
        admin_creds.client_secret,
        spare,
        *tokens.values(),
    ]
    secrets_used += [
        value for value in rotated.values() if isinstance(value, str) and len(value) > 20
    ]
    secrets_used += [
        value
        for value in hooked.get_json().values()
        if isinstance(value, str) and len(value) > 20 and "example" not in value
    ]
    secrets_used.append(newcomer_creds.client_secret)
    return secrets_used, responses


def test_no_log_line_carries_a_transcript_a_name_a_secret_or_a_token(app, client, make, captured):
    secrets_used, responses = _workload(app, client, make)

    assert len(captured.lines) >= len(responses)
    for line in captured.lines:
        json.loads(line)  # every line is one JSON object
        for secret in secrets_used:
            assert secret.lower() not in line.lower(), (secret, line)


def test_each_request_has_one_line_with_its_id_route_template_status_and_client(
    app, client, make, captured
):
    _, responses = _workload(app, client, make)
    lines = {entry["request_id"]: entry for entry in captured.requests()}

    for response in responses:
        request_id = response.headers["X-Request-Id"]
        entry = lines[request_id]
        assert entry["status"] == response.status_code
        assert set(entry) == {"time", "level", "logger", "message", *logs.REQUEST_FIELDS}
        assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
        # a template or "unmatched", never the path a caller wrote
        assert entry["route"] == "unmatched" or entry["route"].startswith("/")
        assert "?" not in entry["route"]
    routes = {entry["route"] for entry in lines.values()}
    assert "/v1/skills/<uuid:skill_id>/interactions" in routes
    assert "unmatched" in routes
    # the caller, once known, by client id
    developer_lines = [e for e in lines.values() if e["route"] == "/v1/developer"]
    assert developer_lines and developer_lines[0]["client_id"]
    assert len(set(lines)) == len(responses) + 5  # and the five tokens minted outside `call`


def test_an_unexpected_errors_line_names_its_type_and_frames_not_its_message(
    app, client, make, captured
):
    _workload(app, client, make)
    errors = [json.loads(line) for line in captured.lines if '"error"' in line]

    assert errors
    assert errors[0]["error"] == "builtins.RuntimeError"
    assert any("in boom" in frame for frame in errors[0]["stack"])
    assert errors[0]["request_id"]


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        ("Error handling request /v1/skills?q=secret+words", "/v1/skills", "secret"),
        (
            "Invalid request from ip=203.0.113.9: Invalid HTTP request line: 'GET /x?t=1'",
            "Invalid HTTP request line",
            "203.0.113.9",
        ),
        ("Authorization: Bearer abc.def-ghi", "Authorization", "abc.def-ghi"),
        ("client_secret=s3cr3t&grant_type=x", "grant_type", "s3cr3t"),
    ],
)
def test_other_records_are_scrubbed(text, kept, gone):
    scrubbed = logs.scrub(text)

    assert kept in scrubbed and gone not in scrubbed
