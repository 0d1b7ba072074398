"""The real server (gunicorn, `skillgw serve`): limits that hold across workers and instances,
gunicorn's own errors in the JSON envelope, and no per-process counters with several workers."""

import base64
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from live_server import LiveServer, clean_env

from gateway.cli import main

pytestmark = [pytest.mark.committed, pytest.mark.slow]

LIMIT = 20
TOKEN_LIMIT = 10


@pytest.fixture(scope="module")
def server_env(owner_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The settings of every server here: the test database, the default (PostgreSQL) storage."""
    return clean_env(
        GATEWAY_DATABASE_URL=owner_url,
        GATEWAY_DATA_DIR=str(tmp_path_factory.mktemp("server-data")),
        GATEWAY_SECRET_KEY="test-secret",
        GATEWAY_PSEUDONYM_KEYS="k1:" + "ab" * 32,
        GATEWAY_TOKEN_RATE_LIMIT=f"{TOKEN_LIMIT} per minute",
        GATEWAY_TOKEN_ADDRESS_RATE_LIMIT="10000 per minute",
    )


@pytest.fixture(scope="module")
def two_workers(server_env, tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("logs"), server_env, workers=2, name="two")
    yield server
    server.stop()


@pytest.fixture
def counters(owner_url):
    # counters keyed by an address (127.0.0.1) would outlive a test in the shared table
    yield
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute("TRUNCATE rate_limits")


@pytest.fixture
def limited_developer(committed_make, counters):
    """A developer on a tier of LIMIT requests a minute, and its client's credentials."""
    tier = f"load-{uuid.uuid4().hex[:8]}"
    committed_make.conn.execute(
        """
        INSERT INTO tiers (name, transcripts_readable, fields, retention_days,
                           redaction_policy, page_size, rate_limit)
        VALUES (%s, true, '{utterance}', 30, 'standard', 10, %s)
        """,
        (tier, f"{LIMIT} per minute"),
    )
    developer = committed_make.developer(tier=tier)
    return committed_make.client(developer_id=developer)


def basic(credentials) -> dict[str, str]:
    pair = f"{credentials.client_id}:{credentials.client_secret}".encode()
    return {
        "Authorization": "Basic " + base64.b64encode(pair).decode(),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def token(server: LiveServer, credentials) -> str:
    status, _, body = server.request(
        "POST", "/oauth/token", headers=basic(credentials), body="grant_type=client_credentials"
    )
    assert status == 200, body
    return str(json.loads(body)["access_token"])


def blast(calls: list) -> list[int]:
    """Run every call at once (as far as threads allow); their statuses."""
    barrier = threading.Barrier(len(calls), timeout=60)

    def run(call) -> int:
        barrier.wait()
        return call()[0]

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_two_workers_allow_exactly_the_tiers_limit(two_workers, limited_developer):
    headers = {"Authorization": f"Bearer {token(two_workers, limited_developer)}"}

    statuses = blast(
        [lambda: two_workers.request("GET", "/v1/developer", headers=headers)] * (3 * LIMIT)
    )

    # memory:// counters would have allowed up to LIMIT per worker
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == 2 * LIMIT


def test_two_instances_share_one_count(two_workers, server_env, tmp_path, limited_developer):
    other = LiveServer(tmp_path, server_env, workers=1, name="other")
    try:
        headers = {"Authorization": f"Bearer {token(two_workers, limited_developer)}"}
        calls = [
            lambda server=server: server.request("GET", "/v1/developer", headers=headers)
            for server in (two_workers, other)
        ] * (3 * LIMIT // 2)

        statuses = blast(calls)
    finally:
        other.stop()

    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == 2 * LIMIT


def test_the_token_endpoint_allows_exactly_its_limit(two_workers, limited_developer):
    form = "grant_type=client_credentials"
    headers = basic(limited_developer)

    statuses = blast(
        [lambda: two_workers.request("POST", "/oauth/token", headers=headers, body=form)]
        * (3 * TOKEN_LIMIT)
    )

    assert statuses.count(200) == TOKEN_LIMIT
    assert statuses.count(429) == 2 * TOKEN_LIMIT


# --- gunicorn's own answers


def parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        # a request line over gunicorn's limit (8190 bytes)
        (b"GET /v1/skills?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        # one header field over gunicorn's limit (8190 bytes)
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
        # more header fields than gunicorn allows (100)
        (
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-H%d: 1\r\n" % n for n in range(120))
            + b"\r\n",
            431,
        ),
        # not HTTP at all
        (b"GARBAGE\r\n\r\n", 400),
    ],
)
def test_gunicorns_own_errors_are_json_envelopes(two_workers, request_bytes, status):
    answered, headers, body = parse(two_workers.raw(request_bytes))

    assert answered == status
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    envelope = json.loads(body)
    assert set(envelope) == {"error", "error_description", "details"}
    assert envelope["error_description"] and envelope["details"] == {}
    assert b"<html" not in body.lower()
    assert b"aaaa" not in body  # nothing of the request is echoed


def test_gunicorn_still_logs_its_refusals(two_workers):
    two_workers.raw(b"GET /" + b"b" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")

    assert "Request Line is too large" in two_workers.log.read_text()


# --- memory:// with several workers


def test_serve_refuses_memory_counters_with_several_workers(tmp_path: Path):
    runner = CliRunner()
    env = clean_env(
        GATEWAY_RATELIMIT_STORAGE_URI="memory://",
        GATEWAY_DATA_DIR=str(tmp_path),
        # never reached: the check comes before any database is started or connected
        GATEWAY_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",
    )

    refused = runner.invoke(main, ["serve", "--workers", "2"], env=env)

    assert refused.exit_code == 2
    assert "memory://" in refused.output and "one worker" in refused.output
    assert not (tmp_path / "postgres").exists()


def test_the_container_config_refuses_them_too(monkeypatch, tmp_path):
    config_file = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"
    # the config sets it for its workers: it must not outlive this test in this process
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    monkeypatch.setenv("GATEWAY_RATELIMIT_STORAGE_URI", "memory://")
    monkeypatch.setenv("GATEWAY_WORKERS", "4")

    with pytest.raises(ValueError, match="memory://"):
        exec(compile(config_file.read_text(), str(config_file), "exec"), {})  # noqa: S102

    monkeypatch.setenv("GATEWAY_WORKERS", "1")
    namespace: dict = {}
    exec(compile(config_file.read_text(), str(config_file), "exec"), namespace)  # noqa: S102
    assert namespace["worker_class"] == "gateway.server.JsonErrorWorker"
