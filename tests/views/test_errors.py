"""The one JSON error envelope: 404/405/413/422/500/503, and nothing internal in any body."""

import re
import uuid

import psycopg
import pytest

from gateway import create_app
from gateway.exceptions import Unavailable
from gateway.security import sign_cursor
from gateway.services import interactions as interactions_service
from gateway.views.developers import _fingerprint

# What a driver, the database or the interpreter would say: names, messages, file paths.
LEAKS = re.compile(
    r'Traceback|psycopg|SQLSTATE|File "/|redis\.exceptions|PostgreSQL|postgres|NUL \(0x00\)'
    r"|invalid input syntax|\bCONTEXT:|\bLINE \d+:|site-packages|(?:/[\w.-]+)+\.py\b",
    re.IGNORECASE,
)


def assert_envelope(response, status, code=None):
    assert response.status_code == status, response.get_data()
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error", "error_description", "details"}
    assert isinstance(body["error_description"], str) and body["error_description"]
    assert isinstance(body["details"], dict)
    if code:
        assert body["error"] == code
    assert not LEAKS.search(response.get_data(as_text=True))
    return body


@pytest.fixture
def reader(make, bearer):
    """A developer with one skill, one consenting user's interaction, and a token."""
    developer = make.developer(tier="standard")
    skill = make.skill(developer)
    user = make.user()
    make.consent(user, skill)
    interaction = make.interaction(skill, user)
    return {
        "skill": skill,
        "interaction": interaction,
        "headers": bearer(make.client(developer_id=developer)),
    }


def test_unknown_route_and_someone_elses_skill_are_the_same_404(client, make, reader):
    stranger = make.developer()
    theirs = make.skill(stranger)
    their_user = make.user()
    make.consent(their_user, theirs)
    their_interaction = make.interaction(theirs, their_user)

    responses = [
        client.get("/v1/no-such-route", headers=reader["headers"]),
        client.get(f"/v1/skills/{theirs}", headers=reader["headers"]),
        client.get(f"/v1/skills/{uuid.uuid4()}", headers=reader["headers"]),
        client.get(f"/v1/skills/{theirs}/interactions", headers=reader["headers"]),
        client.get(
            f"/v1/skills/{theirs}/interactions/{their_interaction}", headers=reader["headers"]
        ),
        client.get(
            f"/v1/skills/{reader['skill']}/interactions/{their_interaction}",
            headers=reader["headers"],
        ),
        client.get("/no-such-page"),
    ]

    assert_envelope(responses[0], 404, "not_found")
    assert {response.status_code for response in responses} == {404}
    assert {response.get_data() for response in responses} == {responses[0].get_data()}


def test_wrong_method_is_405_in_the_envelope(client, reader):
    response = client.delete("/v1/developer", headers=reader["headers"])

    assert_envelope(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_oversized_body_is_413_in_the_envelope(client, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024

    response = client.post(
        "/oauth/token",
        data="grant_type=client_credentials&pad=" + "x" * 2048,
        content_type="application/x-www-form-urlencoded",
    )

    assert_envelope(response, 413, "request_too_large")


def test_default_body_cap_is_one_megabyte(client):
    response = client.post(
        "/oauth/token",
        data="pad=" + "x" * 1_100_000,
        content_type="application/x-www-form-urlencoded",
    )

    assert_envelope(response, 413, "request_too_large")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=yesterday", "since"),
        ("since=2024-13-45T00:00:00Z", "since"),
        ("since=2024-01-01T00:00:00", "since"),  # no offset: ambiguous
        ("until=2024-01-01T00:00:00Z&since=2024-02-01T00:00:00Z", "until"),
        ("colour=red", "colour"),
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("limit=ten", "limit"),
        ("intent=a&intent=b", "intent"),
        ("cursor=eyJ0IjoiMjAyNCJ9.AAAAAAAAAAAAAAAAAAAAAA", "cursor"),
        ("cursor=" + "A" * 2000, "cursor"),
        ("intent=a%00b", None),  # text PostgreSQL cannot hold
        ("user=%00", None),
    ],
)
def test_malformed_query_is_422_and_reads_nothing(client, make, reader, query, field):
    before = make.count("access_log")

    response = client.get(
        f"/v1/skills/{reader['skill']}/interactions?{query}", headers=reader["headers"]
    )

    body = assert_envelope(response, 422, "invalid_request")
    assert field is None or field in body["details"]
    assert "interactions" not in body
    assert make.count("access_log") == before


def test_a_good_query_does_write_the_access_log(client, make, reader):
    # the counterpart of the 422 test: the same read, well formed, is logged
    before = make.count("access_log")

    response = client.get(f"/v1/skills/{reader['skill']}/interactions", headers=reader["headers"])

    assert response.status_code == 200
    assert make.count("access_log") == before + 1


def test_cursor_from_another_query_is_refused(client, reader, make):
    user = make.user()
    make.consent(user, reader["skill"])
    for _ in range(3):
        make.interaction(reader["skill"], user)
    url = f"/v1/skills/{reader['skill']}/interactions"
    first = client.get(f"{url}?limit=1", headers=reader["headers"]).get_json()
    assert first["next_cursor"]

    reused = client.get(
        f"{url}?limit=1&intent=Other&cursor={first['next_cursor']}", headers=reader["headers"]
    )
    tampered = client.get(
        f"{url}?limit=1&cursor={first['next_cursor'][:-2]}AA", headers=reader["headers"]
    )

    assert_envelope(reused, 422, "invalid_request")
    assert_envelope(tampered, 422, "invalid_request")


@pytest.mark.parametrize(
    "text",
    [
        "PostgreSQL text fields cannot contain NUL (0x00) bytes",
        'invalid input syntax for type uuid: "x"\nCONTEXT:  unnamed portal parameter $1',
        "ERROR at LINE 3: near WHERE",
        "psycopg.errors.DataError",
        "/srv/gateway/gateway/db.py",
        "/usr/lib/python3/site-packages/flask/app.py line 12",
        'Traceback (most recent call last): File "/x"',
    ],
)
def test_the_leak_pattern_sees_driver_and_database_words(text):
    assert LEAKS.search(text)


@pytest.mark.parametrize("name", ["intent", "outcome", "order_ref", "user"])
def test_a_nul_byte_in_a_text_filter_is_a_422_without_the_drivers_message(
    client, make, reader, name
):
    # PostgreSQL text cannot hold NUL: the driver refuses the value with a DataError
    before = make.count("access_log")

    response = client.get(
        f"/v1/skills/{reader['skill']}/interactions",
        query_string={name: "a\x00b"},
        headers=reader["headers"],
    )

    body = assert_envelope(response, 422, "invalid_request")
    assert "0x00" not in str(body) and "NUL" not in str(body)
    assert make.count("access_log") == before


def test_a_value_postgresql_itself_refuses_is_a_422_without_its_message(client, make, reader):
    # a cursor signed with the app's key whose row id is not a uuid: the server raises the
    # DataError (invalid input syntax for type uuid), not the driver
    payload = {"t": "2024-01-01T00:00:00+00:00", "i": "not-a-uuid"}
    cursor = sign_cursor({**payload, "q": _fingerprint(reader["skill"], {})}, key=b"test-secret")

    response = client.get(
        f"/v1/skills/{reader['skill']}/interactions",
        query_string={"cursor": cursor},
        headers=reader["headers"],
    )

    body = assert_envelope(response, 422, "invalid_request")
    assert "not-a-uuid" not in str(body)
    assert make.count("access_log") == 0


def test_unexpected_failure_is_a_bare_500(app, client):
    def explode():
        raise RuntimeError('psycopg SQLSTATE 42P01 Traceback File "/srv/gateway/x.py"')

    app.add_url_rule("/explode", "explode", explode)

    response = client.get("/explode")

    body = assert_envelope(response, 500, "server_error")
    assert "42P01" not in body["error_description"]


def test_no_error_body_leaks_internals(client, reader):
    skill = reader["skill"]
    responses = [
        client.get("/v1/developer"),
        client.get("/v1/developer", headers={"Authorization": "Bearer ' OR 1=1 --"}),
        client.get("/v1/skills/not-a-uuid", headers=reader["headers"]),
        client.get(f"/v1/skills/{skill}/interactions?since=%00", headers=reader["headers"]),
        client.get(f"/v1/skills/{skill}/interactions?limit=1e309", headers=reader["headers"]),
        client.get(f"/v1/skills/{skill}/interactions?user=%27%3B", headers=reader["headers"]),
        client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "\x00"}),
        client.post("/oauth/introspect", data={"token": "x"}),
        client.put("/healthz"),
    ]

    assert [response.status_code for response in responses] == [
        401,
        401,
        404,
        422,
        422,
        200,
        401,
        401,
        405,
    ]
    for response in responses:
        assert response.mimetype == "application/json"
        assert not LEAKS.search(response.get_data(as_text=True))


@pytest.fixture
def unreachable_app(tmp_path, clock):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "PSEUDONYM_KEYS": "k1:" + "ab" * 32,
            "RATELIMIT_STORAGE_URI": "memory://",
            "DATA_DIR": str(tmp_path),
            "CLOCK": clock,
            "APP_DATABASE_URL": "postgresql://gateway_app@127.0.0.1:1/x?connect_timeout=1",
            "POOL_MIN_SIZE": 0,
            "POOL_TIMEOUT": 0.3,
        }
    )
    yield app
    app.extensions["gateway.db"].close()


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("get", "/v1/developer", {"headers": {"Authorization": "Bearer " + "a" * 43}}),
        ("get", "/v1/skills", {"headers": {"Authorization": "Bearer " + "a" * 43}}),
        ("post", "/oauth/token", {"data": {"grant_type": "client_credentials"}, "auth": ("a", "")}),
        ("get", "/readyz", {}),
    ],
)
def test_database_outage_is_503_with_retry_after(unreachable_app, method, path, kwargs):
    response = getattr(unreachable_app.test_client(), method)(path, **kwargs)

    assert_envelope(response, 503, "temporarily_unavailable")
    assert int(response.headers["Retry-After"]) > 0


def test_liveness_survives_a_database_outage(unreachable_app):
    assert unreachable_app.test_client().get("/healthz").status_code == 200


def test_a_503_keeps_its_own_retry_after_when_a_limit_was_drawn(client, reader, monkeypatch):
    # the tier's bucket is drawn before the read; then the database is too slow
    def too_slow(*args, **kwargs):
        raise psycopg.errors.QueryCanceled("canceling statement due to statement timeout")

    monkeypatch.setattr(interactions_service, "read_interactions", too_slow)

    response = client.get(f"/v1/skills/{reader['skill']}/interactions", headers=reader["headers"])

    assert_envelope(response, 503, "temporarily_unavailable")
    # the database's own hint, not the time until the rate-limit bucket refills
    assert response.headers["Retry-After"] == str(Unavailable.retry_after)
    assert response.headers["X-RateLimit-Limit"] == "60"  # the limit was drawn from
    assert not [name for name in response.headers.keys() if "hint" in name.lower()]


def test_head_on_a_guarded_route_is_refused_and_reads_nothing(client, make, reader):
    before = make.count("access_log")

    response = client.head(f"/v1/skills/{reader['skill']}/interactions", headers=reader["headers"])

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    assert make.count("access_log") == before
    # the same GET is read and logged (the counterpart)
    assert (
        client.get(
            f"/v1/skills/{reader['skill']}/interactions", headers=reader["headers"]
        ).status_code
        == 200
    )
    assert make.count("access_log") == before + 1


def test_error_descriptions_name_only_routes_that_exist(app, client, make, bearer):
    developer = make.developer(tier="none")
    skill = make.skill(developer)
    headers = bearer(make.client(developer_id=developer))

    response = client.get(f"/v1/skills/{skill}/interactions", headers=headers)

    body = assert_envelope(response, 403, "forbidden")
    adapter = app.url_map.bind("localhost")
    for method, path in re.findall(r"\b(GET|POST|PUT|PATCH|DELETE) (/[\w/{}.-]*\w)", str(body)):
        adapter.match(path, method=method)  # raises NotFound for a route that does not exist
