"""A tier change, with real commits: the next request of every developer on the tier, on every
instance, is held to it (nothing caches a tier per process)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from tokens import mint_token


@pytest.mark.committed
def test_a_tier_change_applies_to_the_next_request_on_every_instance(committed_make, pooled_app):
    instances = [pooled_app().test_client(), pooled_app().test_client()]
    admin = {
        "Authorization": f"Bearer {mint_token(instances[0], committed_make.client(kind='admin'))}"
    }
    # a tier of its own: tiers are never removed, and the seeded ones stay as they are
    name = f"inst-{uuid.uuid4().hex[:8]}"
    created = instances[0].post(
        "/v1/admin/tiers",
        headers=admin,
        json={
            "name": name,
            "transcripts_readable": True,
            "fields": ["utterance", "intent"],
            "retention_days": 30,
            "redaction_policy": "standard",
            "page_size": 50,
            "rate_limit": "60 per minute",
        },
    )
    assert created.status_code == 201, created.get_json()
    developer = committed_make.developer(tier=None)
    committed_make.tier_grant(developer, name)
    skill = committed_make.skill(developer)
    user = committed_make.user()
    committed_make.consent(user, skill, granted_at=datetime.now(UTC) - timedelta(days=1))
    interaction = committed_make.interaction(skill, user)
    credentials = committed_make.client(developer_id=developer)
    headers = {"Authorization": f"Bearer {mint_token(instances[1], credentials)}"}
    path = f"/v1/skills/{skill}/interactions/{interaction}"

    for instance in instances:
        assert instance.get("/v1/developer", headers=headers).get_json()["tier"]["page_size"] == 50
        assert "intent" in instance.get(path, headers=headers).get_json()

    # changed through one instance: both hold the very next request to it
    changed = instances[0].patch(
        f"/v1/admin/tiers/{name}", headers=admin, json={"page_size": 3, "fields": ["utterance"]}
    )
    assert changed.status_code == 200, changed.get_json()
    for instance in instances:
        assert instance.get("/v1/developer", headers=headers).get_json()["tier"]["page_size"] == 3
        assert "intent" not in instance.get(path, headers=headers).get_json()

    instances[1].patch(
        f"/v1/admin/tiers/{name}", headers=admin, json={"transcripts_readable": False}
    )
    for instance in instances:
        assert instance.get(path, headers=headers).status_code == 403
