"""Suspension, client revocation and grace expiry with real commits: the very next request on
every instance sees them (nothing is cached per instance)."""

import pytest
from tokens import mint_token

pytestmark = pytest.mark.committed


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def instances(pooled_app):
    return [pooled_app().test_client(), pooled_app().test_client()]


@pytest.fixture
def admin_headers(committed_make, instances):
    return _bearer(mint_token(instances[0], committed_make.client(kind="admin")))


def test_a_suspension_on_one_instance_stops_the_token_on_every_other(
    committed_make, instances, admin_headers
):
    developer = committed_make.developer(tier="standard")
    credentials = committed_make.client(developer_id=developer)
    token = _bearer(mint_token(instances[1], credentials))
    for instance in instances:
        assert instance.get("/v1/developer", headers=token).status_code == 200

    suspended = instances[0].post(
        f"/v1/admin/developers/{developer}/suspension", json={}, headers=admin_headers
    )

    assert suspended.status_code == 200
    for instance in instances:
        assert instance.get("/v1/developer", headers=token).status_code == 401
    refused = instances[1].post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(credentials.client_id, credentials.client_secret),
    )
    assert refused.get_json()["error"] == "unauthorized_client"


def test_a_client_revoked_on_one_instance_is_dead_on_every_other(
    committed_make, instances, admin_headers
):
    credentials = committed_make.client(kind="platform")
    token = _bearer(mint_token(instances[1], credentials))
    body = {"users": [{"platform_user_id": "instances-1"}]}
    assert instances[1].post("/v1/ingest/users", json=body, headers=token).status_code == 200

    revoked = instances[0].post(
        f"/v1/admin/clients/{credentials.client_id}/revocation", json={}, headers=admin_headers
    )

    assert revoked.status_code == 200 and revoked.get_json()["tokens_revoked"] == 1
    for instance in instances:
        assert instance.post("/v1/ingest/users", json=body, headers=token).status_code == 401


def test_the_grace_period_ends_on_every_instance_with_no_job(
    committed_make, instances, admin_headers, clock
):
    credentials = committed_make.client(developer_id=committed_make.developer())
    old_token = _bearer(mint_token(instances[1], credentials))
    rotated = instances[0].post(
        f"/v1/admin/clients/{credentials.client_id}/rotation",
        json={"grace_seconds": 120},
        headers=admin_headers,
    )
    assert rotated.status_code == 200
    for instance in instances:
        assert instance.get("/v1/developer", headers=old_token).status_code == 200

    clock.advance(seconds=121)

    for instance in instances:
        assert instance.get("/v1/developer", headers=old_token).status_code == 401
