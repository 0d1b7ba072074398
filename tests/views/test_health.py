"""Liveness and readiness probes: /healthz answers always, /readyz checks the database."""

from gateway import migrate


def test_healthz_answers_without_the_database(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_reports_the_schema_version(client):
    response = client.get("/readyz")

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "ready", "schema_version": migrate.head_version()}


def test_readyz_is_503_when_a_migration_is_missing(client, monkeypatch):
    known = migrate.discover()
    ahead = migrate.Migration(
        version=known[-1].version + 1, name="not_applied", path=known[-1].path
    )
    monkeypatch.setattr(migrate, "discover", lambda directory=None: [*known, ahead])

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.get_json()["error"] == "temporarily_unavailable"
    assert "skillgw db upgrade" in response.get_json()["error_description"]
