"""GET /metrics: off, behind a bearer token, or on its own port; request metrics by route
template; the pool; rate-limit refusals; ingest rows; the webhook outbox and the audit lag read
at scrape time, and a scrape that answers even when the database does not."""

import secrets

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway import create_app, metrics
from gateway.db import SharedConnection
from gateway.services import audit

TOKEN = "metrics-" + "k" * 24
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def token_app(app_settings, conn):  # type: ignore[no-untyped-def]
    return create_app(
        app_settings(DATABASE=SharedConnection(conn), METRICS="token", METRICS_TOKEN=TOKEN)
    )


def scrape(client) -> dict:
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == metrics.CONTENT_TYPE
    return samples(response.get_data(as_text=True))


def test_off_by_default_there_is_no_metrics_route(client, app):
    assert client.get("/metrics").status_code == 404
    assert "/metrics" not in {rule.rule for rule in app.url_map.iter_rules()}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token-of-some-length"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
    ],
)
def test_behind_a_token_it_is_401_without_it(token_app, headers):
    response = token_app.test_client().get("/metrics", headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert response.get_json()["error"] == "unauthorized"
    assert b"gateway_" not in response.data


def test_on_a_port_the_main_app_does_not_serve_it(app_settings, conn):
    # the test client has no listening socket: it is the main port, never the metrics one
    app = create_app(app_settings(DATABASE=SharedConnection(conn), METRICS="port"))

    assert app.test_client().get("/metrics").status_code == 404
    assert app.test_client().get("/healthz").status_code == 200


@pytest.mark.parametrize(
    "settings",
    [
        {"METRICS": "on"},
        {"METRICS": "token", "METRICS_TOKEN": "short"},
        {"METRICS": "token", "METRICS_TOKEN": ""},
        {"METRICS": "port", "METRICS_PORT": 8080, "PORT": 8080},
    ],
)
def test_an_exposure_open_by_mistake_refuses_to_start(app_settings, conn, settings):
    with pytest.raises(ValueError, match="METRICS"):
        create_app(app_settings(DATABASE=SharedConnection(conn), **settings))


def test_requests_are_counted_by_route_template_and_status(token_app, make, bearer):
    client = token_app.test_client()
    developer = make.developer(tier="standard")
    headers = bearer(make.client(developer_id=developer))
    skill = make.skill(developer)
    before = scrape(client)

    client.get(f"/v1/skills/{skill}/interactions?q=secret+words", headers=headers)
    client.get(f"/v1/skills/{skill}/interactions", headers=headers)
    client.get(f"/v1/skills/{skill}/nope-{secrets.token_hex(4)}", headers=headers)
    after = scrape(client)

    route = "/v1/skills/<uuid:skill_id>/interactions"
    labels = {"route": route, "method": "GET", "status": "200"}
    assert (
        value(after, "gateway_http_requests_total", **labels)
        - value(before, "gateway_http_requests_total", **labels)
        == 2
    )
    assert (
        value(after, "gateway_http_request_duration_seconds_count", **labels)
        - value(before, "gateway_http_request_duration_seconds_count", **labels)
        == 2
    )
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert value(after, "gateway_http_requests_total", **unmatched) > value(
        before, "gateway_http_requests_total", **unmatched
    )
    routes = {dict(labels_)["route"] for (name, labels_) in after if "route" in dict(labels_)}
    # only the app's own templates (never a path with an id or a query in it), whatever
    # other tests in this process counted before
    templates = {rule.rule for rule in token_app.url_map.iter_rules()}
    assert routes - {"unmatched"} <= templates
    assert not any(skill in r or "secret+words" in r or "nope" in r for r in routes)


def test_an_unknown_method_is_one_label(token_app):
    client = token_app.test_client()
    client.open("/healthz", method="BREW")
    found = scrape(client)

    assert not any(dict(labels).get("method") == "BREW" for (_, labels) in found)
    assert (
        value(found, "gateway_http_requests_total", route="unmatched", method="other", status="405")
        >= 1
        or value(
            found, "gateway_http_requests_total", route="/healthz", method="other", status="405"
        )
        >= 1
    )


def test_rate_limit_refusals_are_counted(app_settings, conn, make):
    app = create_app(
        app_settings(
            DATABASE=SharedConnection(conn),
            METRICS="token",
            METRICS_TOKEN=TOKEN,
            TOKEN_RATE_LIMIT="1 per minute",
        )
    )
    client = app.test_client()
    creds = make.client(developer_id=make.developer())
    before = value(scrape(client), "gateway_rate_limit_refusals_total", route="/oauth/token")

    statuses = [
        client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(creds.client_id, creds.client_secret),
        ).status_code
        for _ in range(3)
    ]

    assert statuses == [200, 429, 429]
    after = value(scrape(client), "gateway_rate_limit_refusals_total", route="/oauth/token")
    assert after - before == 2


def test_ingested_rows_are_counted_once_committed(token_app, make, bearer):
    client = token_app.test_client()
    platform = bearer(make.client(kind="platform"))
    before = scrape(client)

    ok = client.post(
        "/v1/ingest/users",
        headers=platform,
        json={"users": [{"platform_user_id": f"m-{n}"} for n in range(3)]},
    )
    refused = client.post(
        "/v1/ingest/users", headers=platform, json={"users": [{"platform_user_id": ""}]}
    )
    after = scrape(client)

    assert ok.status_code == 200 and refused.status_code == 422
    assert (
        value(after, "gateway_ingest_rows_total", kind="users")
        - value(before, "gateway_ingest_rows_total", kind="users")
        == 3
    )


def test_the_outbox_and_the_audit_lag_are_read_at_scrape_time(token_app, make, conn):
    developer = make.developer()
    make.client(developer_id=developer)  # an audited action: one unsealed event at least

    def queue(c):  # noqa: ANN001
        for n in range(4):
            c.execute(
                "INSERT INTO webhook_deliveries (id, developer_id, event_type, payload) "
                "VALUES (%s, %s, 'consent.revoked', '{}')",
                [f"msg_metrics{n:06d}", developer],
            )
        c.execute("UPDATE webhook_deliveries SET status = 'dead' WHERE id = 'msg_metrics000002'")
        c.execute(
            "UPDATE webhook_deliveries SET status = 'delivered' WHERE id = 'msg_metrics000003'"
        )

    before = scrape(token_app.test_client())
    make._run(queue)  # noqa: SLF001
    found = scrape(token_app.test_client())

    assert value(found, "gateway_metrics_database_up") == 1
    assert (
        value(found, "gateway_webhook_deliveries", status="pending")
        - value(before, "gateway_webhook_deliveries", status="pending")
        == 2
    )
    assert (
        value(found, "gateway_webhook_deliveries", status="dead")
        - value(before, "gateway_webhook_deliveries", status="dead")
        == 1
    )
    with conn.transaction():
        conn.execute("SELECT set_config('gateway.role', 'system', true)")
        lag = audit.lag(conn)
    assert lag > 0
    assert value(found, "gateway_audit_unsealed_events") == lag


@pytest.mark.committed
def test_a_scrape_answers_200_when_the_database_cannot(pooled_app, owner_conn, committed_make):
    app = pooled_app(METRICS="token", METRICS_TOKEN=TOKEN)
    client = app.test_client()
    pool = metrics.pool_of(app.extensions["gateway.db"])
    assert pool is not None
    assert value(scrape(client), "gateway_metrics_database_up") == 1

    # every connection lent out: the scrape waits briefly, then answers without the gauges
    held = [pool.getconn() for _ in range(pool.max_size)]
    try:
        found = scrape(client)
    finally:
        for raw in held:
            pool.putconn(raw)
    assert value(found, "gateway_metrics_database_up") == 0
    assert not any(name == "gateway_webhook_deliveries" for (name, _) in found)
    assert value(found, "gateway_db_pool_in_use") >= pool.max_size
    assert value(found, "gateway_db_pool_max") >= pool.max_size

    # a statement that cannot finish in time (the table locked): the same
    with owner_conn.transaction():
        owner_conn.execute("LOCK TABLE webhook_deliveries IN ACCESS EXCLUSIVE MODE")
        locked = scrape(client)
    assert value(locked, "gateway_metrics_database_up") == 0
    assert value(scrape(client), "gateway_metrics_database_up") == 1


def test_multiprocess_files_are_emptied_and_a_dead_workers_gauges_dropped(tmp_path, monkeypatch):
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_123.db").write_bytes(b"stale")
    metrics.prepare_multiprocess_dir(folder)
    assert list(folder.iterdir()) == []

    (folder / "gauge_livesum_4242.db").write_bytes(b"x")
    (folder / "counter_4242.db").write_bytes(b"x")
    monkeypatch.setenv(metrics.MULTIPROC_ENV, str(folder))
    metrics.worker_exited(4242)
    assert sorted(p.name for p in folder.iterdir()) == ["counter_4242.db"]
