"""Consent revocation with real commits: the next request on every instance sees it (rule 2)."""

from datetime import UTC, datetime, timedelta

import pytest


@pytest.mark.committed
def test_revocation_applies_to_the_next_request_on_every_instance(committed_make, pooled_app):
    developer = committed_make.developer(tier="standard")
    skill = committed_make.skill(developer)
    user = committed_make.user()
    committed_make.consent(user, skill, granted_at=datetime.now(UTC) - timedelta(days=1))
    interaction = committed_make.interaction(skill, user)
    credentials = committed_make.client(developer_id=developer)

    instances = [pooled_app().test_client(), pooled_app().test_client()]
    token = (
        instances[0]
        .post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(credentials.client_id, credentials.client_secret),
        )
        .get_json()["access_token"]
    )
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/v1/skills/{skill}/interactions/{interaction}"
    for instance in instances:
        assert instance.get(path, headers=headers).status_code == 200
    committed_make.revoke(user, skill)
    for instance in instances:
        assert instance.get(path, headers=headers).status_code == 404
