"""Under real gunicorn (`skillgw serve`, two workers): /metrics alone on its own port, summed over
the workers (multiprocess mode); the main port does not serve it; every log line on stdout is
JSON and carries no token, query or secret."""

import base64
import http.client
import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from live_server import HOST, LiveServer, clean_env, free_port
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [pytest.mark.committed, pytest.mark.slow]

SEARCH = "quincetart"


@pytest.fixture(scope="module")
def served(owner_url, tmp_path_factory):
    metrics_port = free_port()
    env = clean_env(
        GATEWAY_DATABASE_URL=owner_url,
        GATEWAY_DATA_DIR=str(tmp_path_factory.mktemp("telemetry-data")),
        GATEWAY_SECRET_KEY="test-secret",
        GATEWAY_PSEUDONYM_KEYS="k1:" + "ab" * 32,
        GATEWAY_METRICS="port",
        GATEWAY_METRICS_PORT=str(metrics_port),
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = LiveServer(tmp_path_factory.mktemp("telemetry"), env, workers=2, name="telemetry")
    yield server, metrics_port
    server.stop()


def get(port: int, path: str, headers: dict[str, str] | None = None):
    conn = http.client.HTTPConnection(HOST, port, timeout=20)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def healthz_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "gateway_http_requests_total"
                and sample.labels.get("route") == "/healthz"
                and sample.labels.get("status") == "200"
            ):
                return sample.value
    return 0.0


def test_the_metrics_port_serves_metrics_of_every_worker_and_nothing_else(served):
    server, metrics_port = served
    status, _, body = get(metrics_port, "/metrics")
    assert status == 200
    before = healthz_count(body.decode())

    # enough concurrent requests that both workers serve some
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: get(server.port, "/healthz")[0], range(40)))
    assert statuses == [200] * 40

    status, headers, body = get(metrics_port, "/metrics")
    assert status == 200
    assert healthz_count(body.decode()) - before == 40
    assert headers["X-Request-Id"]
    assert b"gateway_metrics_database_up 1.0" in body

    # the main port does not serve it; the metrics port serves nothing else
    assert get(server.port, "/metrics")[0] == 404
    assert get(metrics_port, "/healthz")[0] == 404
    assert get(metrics_port, "/v1/skills")[0] == 404
    # a forged Host or X-Forwarded-Host cannot reach it through the main port
    forged = {"Host": f"{HOST}:{metrics_port}", "X-Forwarded-Host": f"{HOST}:{metrics_port}"}
    assert get(server.port, "/metrics", forged)[0] == 404


def test_every_line_on_stdout_is_json_without_a_token_a_query_or_a_secret(served, committed_make):
    server, _ = served
    developer = committed_make.developer(tier="trusted")
    creds = committed_make.client(developer_id=developer)
    pair = f"{creds.client_id}:{creds.client_secret}".encode()
    status, _, body = server.request(
        "POST",
        "/oauth/token",
        headers={
            "Authorization": "Basic " + base64.b64encode(pair).decode(),
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body="grant_type=client_credentials",
    )
    assert status == 200
    token = json.loads(body)["access_token"]
    skill = committed_make.skill(developer)
    answers = [
        server.request(
            "GET",
            f"/v1/skills/{skill}/interactions?q={SEARCH}",
            headers={"Authorization": f"Bearer {token}"},
        ),
        server.request("GET", f"/v1/skills?access_token={token}"),
        server.request("GET", f"/v1/{uuid.uuid4()}/{creds.client_secret}"),
    ]
    # gunicorn's own refusal, quoting a request line with a token in it
    server.raw(f"GET /v1/skills?access_token={token} HTTP/1.1 junk\r\n\r\n".encode())
    server.raw(b"GET /" + b"b" * 9000 + b"?q=" + SEARCH.encode() + b" HTTP/1.1\r\n\r\n")
    assert [a[0] for a in answers] == [200, 401, 404]

    log = server.log.read_text()
    lines = [line for line in log.splitlines() if line.strip()]
    # log records are JSON; the rest is the command's own banner (partitions made, listening)
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(entries) >= len(lines) - 3
    for line in lines:
        for secret in (token, creds.client_secret, SEARCH):
            assert secret not in line, line
    requests = {e.get("request_id"): e for e in entries if e["logger"] == "gateway.requests"}
    for status, headers, _ in answers:
        entry = requests[headers["X-Request-Id"]]
        assert entry["status"] == status
    assert requests[answers[0][1]["X-Request-Id"]]["client_id"] == creds.client_id
    assert any("Request Line is too large" in e["message"] for e in entries)
