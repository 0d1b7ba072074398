"""Cache-Control: no-store on every answer but static assets, the docs and the probes: over
every route in app.url_map and every method, for routes added later too."""

import uuid

import pytest
from flask import Blueprint
from werkzeug.routing import Rule

from gateway import CACHEABLE_ENDPOINTS

CACHEABLE_PATHS = {"/docs", "/openapi.json", "/healthz", "/readyz"}


def _url(app, rule: Rule, method: str) -> str:
    """A URL of `rule` with sample values (werkzeug builds it, converters and all)."""
    values = {name: "site.css" if name == "filename" else "x" for name in rule.arguments}
    for name in rule.arguments:
        if "uuid:" + name in rule.rule:
            values[name] = str(uuid.uuid4())
        elif "int:" + name in rule.rule:
            values[name] = "1"
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=method)


@pytest.fixture
def metrics_app(app_settings, conn):  # type: ignore[no-untyped-def]
    from gateway import create_app
    from gateway.db import SharedConnection

    return create_app(
        app_settings(DATABASE=SharedConnection(conn), METRICS="token", METRICS_TOKEN="t" * 32)
    )


def test_every_route_and_method_is_no_store_unless_cacheable(metrics_app):
    client = metrics_app.test_client()
    checked = 0
    for rule in metrics_app.url_map.iter_rules():
        for method in sorted(rule.methods or ()):
            response = client.open(_url(metrics_app, rule, method), method=method)
            response.close()  # a static file's answer holds the file open until closed
            path = rule.rule
            if rule.endpoint == "static" or path in CACHEABLE_PATHS:
                assert rule.endpoint in CACHEABLE_ENDPOINTS
                continue
            assert response.headers.get("Cache-Control") == "no-store", (method, path)
            assert response.headers.get("Pragma") == "no-cache"
            assert response.headers.get("X-Request-Id"), (method, path)
            checked += 1
    assert checked > 20
    assert "/metrics" in {rule.rule for rule in metrics_app.url_map.iter_rules()}


def test_a_404_a_405_and_a_500_are_no_store_with_a_request_id(app, client):
    @app.get("/__fails")
    def fails():
        raise RuntimeError("boom")

    for method, path, status in [
        ("GET", "/no/such/page", 404),
        ("DELETE", "/v1/skills", 405),
        ("GET", "/__fails", 500),
    ]:
        response = client.open(path, method=method)
        assert response.status_code == status
        assert response.headers["Cache-Control"] == "no-store"
        assert len(response.headers["X-Request-Id"]) == 16


def test_a_route_added_later_under_any_prefix_is_no_store(app, client):
    # pages like /privacy, /sign-in or /admin come later: none needs listing to be covered
    pages = Blueprint("later", __name__)

    @pages.get("/privacy/later")
    def privacy():
        return "your data"

    @pages.get("/admin/later")
    def admin_page():
        return "developers"

    app.register_blueprint(pages)

    for path in ("/privacy/later", "/admin/later"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"


def test_successful_transcript_and_token_answers_are_no_store(client, make, bearer):
    developer = make.developer(tier="standard")
    creds = make.client(developer_id=developer)
    token = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, creds.client_secret),
    )
    skill = make.skill(developer)
    listed = client.get(f"/v1/skills/{skill}/interactions", headers=bearer(creds))

    for response in (token, listed):
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"


def test_the_cacheable_answers_are_few_and_public(client):
    # the exemption list is exactly the public, person-free documents and probes
    assert CACHEABLE_ENDPOINTS == {
        "static",
        "docs.page",
        "docs.openapi_json",
        "health.healthz",
        "health.readyz",
    }
    assert "no-store" not in client.get("/openapi.json").headers.get("Cache-Control", "")
