"""Bad requests on every JSON API route (malformed JSON, wrong content types, oversized bodies,
bad query parameters) get a 4xx in the one error envelope that changes nothing, and no answer
carries a traceback, SQL, the driver's name, a source path or audio; the check itself fails on
each of those."""

import base64
import json
import re

import pytest
from security.hygiene import problems
from security.test_mass_assignment import first_success
from security.world import AUDIO_REF, request_for, route_methods

from gateway.redaction.policies import POLICIES

BODY_ERRORS = {
    "malformed JSON": {"data": '{"name": ', "content_type": "application/json"},
    "JSON as text/plain": {"data": '{"name": "x"}', "content_type": "text/plain"},
    "a form": {"data": {"name": "x"}},
    "a JSON list": {"json": [{"name": "x"}]},
    "a JSON string": {"json": "name"},
    "a NUL byte": {"json": {"name": "a\x00b", "reason": "a\x00b", "url": "a\x00b"}},
    "invalid UTF-8": {"data": b'{"name": "\xff\xfe"}', "content_type": "application/json"},
}
QUERY_ERRORS = [
    {"limit": "-1"},
    {"limit": "many"},
    {"limit": str(10**30)},
    {"cursor": "not-a-cursor"},
    {"since": "yesterday"},
    {"until": "2026-13-45T99:00:00Z"},
    {"no_such_parameter": "1"},
    {"q": "x\x00y"},
]


def _api_routes(app):
    return sorted(key for key in route_methods(app) if key[1].startswith("/v1/"))


def _check(response, rule):
    assert 400 <= response.status_code < 500, (rule, response.status_code, response.get_data())
    assert response.mimetype == "application/json", rule
    assert set(response.get_json()) == {"error", "error_description", "details"}, rule
    assert response.headers["Cache-Control"] == "no-store", rule
    assert problems(rule, response.get_data(), response.mimetype, audio_refs=(AUDIO_REF,)) == []


def test_bad_bodies_and_bad_queries_get_a_clean_4xx_that_changes_nothing(
    app, conn, world, fingerprint
):
    http = app.test_client(use_cookies=False)
    before = fingerprint.take()
    tried, failed = 0, []
    for method, rule in _api_routes(app):
        audience = first_success(method, rule)
        url, valid = request_for(app, world, audience, method, route_methods(app)[(method, rule)])
        cases = []
        if method != "GET" and "json" in valid:
            for bad in BODY_ERRORS.values():
                cases.append({k: v for k, v in valid.items() if k != "json"} | bad)
            oversized = {"name": "x" * app.config["MAX_CONTENT_LENGTH"]}
            cases.append({k: v for k, v in valid.items() if k != "json"} | {"json": oversized})
        if method == "GET":
            for query in QUERY_ERRORS:
                cases.append(valid | {"query_string": query})
        for case in cases:
            with conn.transaction(force_rollback=True):
                response = http.open(url, **case)
                after = fingerprint.take()
            try:
                _check(response, rule)
                assert after == before, "changed the database"
            except AssertionError as error:
                failed.append(f"{method} {rule} {case.get('query_string', '')}: {error}"[:300])
            tried += 1
    assert tried > 200
    assert failed == []


def test_an_oversized_body_is_a_413(app, make, bearer):
    http = app.test_client(use_cookies=False)
    body = json.dumps({"users": [{"platform_user_id": "x" * app.config["MAX_CONTENT_LENGTH"]}]})
    response = http.post(
        "/v1/ingest/users",
        data=body,
        content_type="application/json",
        headers=bearer(make.client(kind="platform")),
    )
    assert response.status_code == 413
    _check(response, "/v1/ingest/users")


def test_an_unexpected_error_names_no_internals(app):
    @app.get("/v1/__fails")
    def fails():
        # what a driver error would carry, were it ever rendered
        raise RuntimeError(
            'psycopg.errors.SyntaxError: syntax error at or near "FROM" '
            'File "/work/gateway/repositories/skills.py", line 3: SELECT id FROM skills'
        )

    response = app.test_client().get("/v1/__fails")
    assert response.status_code == 500
    assert problems("/v1/__fails", response.get_data(), response.mimetype) == []
    assert response.get_json()["error"] == "server_error"


def test_the_tier_policy_description_names_the_policies_the_gateway_has(app):
    document = app.test_client().get("/openapi.json").get_json()
    text = json.dumps(document)
    described = re.search(r"A redaction policy the gateway knows \(([^)]*)\)", text)
    assert described, "the tier's redaction_policy is described"
    assert set(re.findall(r"`(\w+)`", described.group(1))) == set(POLICIES)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw + b"\x00" * 12).decode()


@pytest.mark.parametrize(
    ("body", "mimetype", "kind"),
    [
        (b'Traceback (most recent call last):\n  File "x", line 1', "text/plain", "traceback"),
        (b'{"error": "SELECT id FROM skills WHERE id = 1"}', "application/json", "sql"),
        (b'{"error": "INSERT INTO consents"}', "application/json", "sql"),
        (b'{"e": "syntax error at or near \\"x\\""}', "application/json", "database error"),
        (b'{"e": "psycopg.errors.UndefinedTable"}', "application/json", "database error"),
        (b'{"e": "libpq connection failed"}', "application/json", "database error"),
        (b'{"e": "/work/wt-sec/gateway/db.py"}', "application/json", "source path"),
        (b'{"e": "in site-packages/flask"}', "application/json", "source path"),
        (b'{"audio_ref": "s3://x/y.wav"}', "application/json", "audio field"),
        (b'{"item": {"audio_url": "https://x/y"}}', "application/json", "audio field"),
        (b'{"a": "data:audio/wav;base64,AAAA"}', "application/json", "inline audio"),
        (('{"a": "' + _b64(b"RIFF") + '"}').encode(), "application/json", "inline audio"),
        (('{"a": "' + _b64(b"ID3\x04") + '"}').encode(), "application/json", "inline audio"),
        (('{"a": "' + _b64(b"OggS") + '"}').encode(), "application/json", "inline audio"),
        (('{"a": "' + _b64(b"fLaC") + '"}').encode(), "application/json", "inline audio"),
        (f"<p>{AUDIO_REF}</p>".encode(), "text/html", "audio reference"),
    ],
)
def test_the_hygiene_check_finds_each_leak(body, mimetype, kind):
    found = problems("/v1/skills", body, mimetype, audio_refs=(AUDIO_REF,))
    assert any(problem.startswith(kind) for problem in found), found


def test_the_hygiene_check_passes_a_clean_answer():
    clean = {"id": "x", "audio_ref": None, "utterance": "select a pizza from the menu"}
    assert problems("/v1/skills", json.dumps(clean).encode(), "application/json") == []
