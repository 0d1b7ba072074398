"""Randomised worlds of developers, skills, users, consents and tiers, read back through the API
and checked against a plain-Python statement of the rules (docs/rules.md rules 1, 2, 3 and 6)."""

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway import create_app
from gateway.db import SharedConnection

MISSING = "00000000-0000-4000-8000-000000000000"
RETENTION = {"none": 0, "standard": 30, "trusted": 90}
EXAMPLES = int(os.environ.get("GATEWAY_ORACLE_EXAMPLES", "20"))


@pytest.fixture
def app(conn, tmp_path, clock, app_settings):
    # hundreds of reads per world: rate limits are tested elsewhere and would only get in the way
    return create_app(app_settings(DATABASE=SharedConnection(conn), RATELIMIT_ENABLED=False))


@dataclass
class Consent:
    granted_days_ago: int
    revoked_days_ago: int | None
    categories: list[str]


@dataclass
class World:
    tiers: list[str]  # per developer
    child: list[bool]  # per user
    consents: dict[tuple[int, int], list[Consent]]  # (user, skill) -> history
    interactions: list[tuple[int, int, int, str | None]]  # (user, skill, days ago, category)
    ids: dict = field(default_factory=dict)


def consent_history():
    """Never, granted, revoked, or granted-revoked-granted, with optional sensitive cover."""

    def build(kind, a, b, c, cats):
        first, second, third = sorted([a, b, c], reverse=True)
        if kind == "never":
            return []
        if kind == "granted":
            return [Consent(first, None, cats)]
        if kind == "revoked":
            return [Consent(first, second, cats)]
        return [Consent(first, second, cats), Consent(third, None, cats)]

    days = st.integers(min_value=0, max_value=120)
    return st.builds(
        build,
        st.sampled_from(["never", "granted", "revoked", "regranted"]),
        days,
        days,
        days,
        st.sampled_from([[], ["health"], ["finance"], ["health", "finance"]]),
    )


N_DEVELOPERS, SKILLS_PER_DEVELOPER, N_USERS = 3, 2, 5
N_SKILLS = N_DEVELOPERS * SKILLS_PER_DEVELOPER

worlds = st.builds(
    World,
    tiers=st.lists(st.sampled_from(["none", "standard", "trusted"]), min_size=3, max_size=3),
    child=st.lists(st.booleans(), min_size=N_USERS, max_size=N_USERS),
    consents=st.dictionaries(
        st.tuples(st.integers(0, N_USERS - 1), st.integers(0, N_SKILLS - 1)),
        consent_history(),
        max_size=N_USERS * N_SKILLS,
    ),
    interactions=st.lists(
        st.tuples(
            st.integers(0, N_USERS - 1),
            st.integers(0, N_SKILLS - 1),
            st.integers(0, 120),
            st.sampled_from([None, None, None, "health", "finance"]),
        ),
        min_size=5,
        max_size=40,
    ),
)


def owner_of(skill: int) -> int:
    return skill // SKILLS_PER_DEVELOPER


def may_read(world: World, developer: int, interaction) -> bool:
    """The rules, plainly: own skill, transcripts tier, in retention, not a child, and a consent
    active when it happened, not revoked since, covering its sensitive category."""
    user, skill, days_ago, category = interaction
    tier = world.tiers[developer]
    if owner_of(skill) != developer or tier == "none" or world.child[user]:
        return False
    if days_ago >= RETENTION[tier]:
        return False
    return any(
        c.revoked_days_ago is None
        # build() puts a consent at N days + 1 s ago and an interaction at N days + 1 h ago:
        # on the same N days the interaction came first, before the consent
        and c.granted_days_ago > days_ago
        and (category is None or category in c.categories)
        for c in world.consents.get((user, skill), [])
    )


def build(world: World, make, now: datetime) -> None:
    developers = [make.developer(tier=tier) for tier in world.tiers]
    skills = [make.skill(developers[owner_of(s)]) for s in range(N_SKILLS)]
    users = [make.user(is_child=child) for child in world.child]
    for (user, skill), history in world.consents.items():
        for consent in history:
            make.consent(
                users[user],
                skills[skill],
                categories=consent.categories,
                granted_at=now - timedelta(days=consent.granted_days_ago, seconds=1),
            )
            if consent.revoked_days_ago is not None:
                make.revoke(
                    users[user],
                    skills[skill],
                    revoked_at=now - timedelta(days=consent.revoked_days_ago, seconds=0.5),
                )
    world.ids = {"developers": developers, "skills": skills, "interactions": []}
    for user, skill, days_ago, category in world.interactions:
        world.ids["interactions"].append(
            make.interaction(
                skills[skill],
                users[user],
                occurred_at=now - timedelta(days=days_ago, hours=1),
                sensitive_category=category,
            )
        )


def list_all(client, headers, skill):
    ids, cursor = [], None
    while True:
        query = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        response = client.get(
            f"/v1/skills/{skill}/interactions", query_string=query, headers=headers
        )
        if response.status_code != 200:
            return response.status_code, None
        body = response.get_json()
        ids += [item["id"] for item in body["interactions"]]
        cursor = body["next_cursor"]
        if not cursor:
            return 200, ids


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds)
def test_every_read_matches_the_rules(world, conn, client, make, bearer):
    with conn.transaction(force_rollback=True):
        now = datetime.now(UTC)
        build(world, make, now)
        ids = world.ids
        not_found = client.get(
            f"/v1/skills/{MISSING}",
            headers=bearer(make.client(developer_id=ids["developers"][0])),
        ).data
        for developer, developer_id in enumerate(ids["developers"]):
            headers = bearer(make.client(developer_id=developer_id))
            for skill, skill_id in enumerate(ids["skills"]):
                status, listed = list_all(client, headers, skill_id)
                expected = [
                    ids["interactions"][n]
                    for n, interaction in enumerate(world.interactions)
                    if interaction[1] == skill and may_read(world, developer, interaction)
                ]
                if owner_of(skill) != developer:
                    assert status == 404
                elif world.tiers[developer] == "none":
                    assert status == 403
                else:
                    assert status == 200
                    assert sorted(listed) == sorted(expected)  # nothing extra, nothing missing
                    assert len(listed) == len(set(listed))
            for n, interaction in enumerate(world.interactions):
                skill_id = ids["skills"][interaction[1]]
                response = client.get(
                    f"/v1/skills/{skill_id}/interactions/{ids['interactions'][n]}", headers=headers
                )
                if may_read(world, developer, interaction):
                    assert response.status_code == 200
                elif owner_of(interaction[1]) == developer and world.tiers[developer] == "none":
                    assert response.status_code == 403
                else:
                    assert response.status_code == 404
                    assert response.data == not_found  # indistinguishable from a missing id
