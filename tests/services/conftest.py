"""Fixtures for the rule tests: a developer on a tier with a skill, a consenting user, a token."""

from datetime import UTC, datetime, timedelta

import pytest


@pytest.fixture
def reader(make, bearer):
    """reader(tier) -> {developer, skill, user, headers}: one skill, one user who consented
    ten days ago, a token minted through /oauth/token; `developer=` adds a skill to one."""

    def build(tier: str = "standard", *, developer: int | None = None):
        if developer is None:
            developer = make.developer(tier=tier)
        skill = make.skill(developer)
        user = make.user()
        make.consent(user, skill, granted_at=datetime.now(UTC) - timedelta(days=10))
        headers = bearer(make.client(developer_id=developer))
        return {"developer": developer, "skill": skill, "user": user, "headers": headers}

    return build


@pytest.fixture
def read_list(client):
    """GET a skill's interactions as `who`; assert 200 and return the body."""

    def get(who, **query):
        response = client.get(
            f"/v1/skills/{who['skill']}/interactions", query_string=query, headers=who["headers"]
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    return get
