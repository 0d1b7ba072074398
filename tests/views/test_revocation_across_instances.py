"""Consent revocation with real commits: the next request on every instance sees it (rule 2)."""

from datetime import UTC, datetime, timedelta

import pytest
from tokens import mint_token


@pytest.mark.committed
def test_revocation_applies_to_the_next_request_on_every_instance(committed_make, pooled_app):
    developer = committed_make.developer(tier="standard")
    skill = committed_make.skill(developer)
    user = committed_make.user()
    committed_make.consent(user, skill, granted_at=datetime.now(UTC) - timedelta(days=1))
    interaction = committed_make.interaction(skill, user)
    credentials = committed_make.client(developer_id=developer)

    instances = [pooled_app().test_client(), pooled_app().test_client()]
    token = mint_token(instances[0], credentials)
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/v1/skills/{skill}/interactions/{interaction}"
    for instance in instances:
        assert instance.get(path, headers=headers).status_code == 200
    committed_make.revoke(user, skill)
    for instance in instances:
        assert instance.get(path, headers=headers).status_code == 404
