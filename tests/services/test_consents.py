"""Rule 2, consent: for this user, to this skill, in force when the interaction happened."""

from datetime import UTC, datetime, timedelta


def test_consent_to_one_skill_opens_none_of_the_developers_other_skills(
    client, make, reader, read_list
):
    consented = reader("standard")
    other_skill = make.skill(consented["developer"])
    user = consented["user"]  # consented to `consented["skill"]` only
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    readable = make.interaction(consented["skill"], user, occurred_at=hour_ago)
    unconsented = make.interaction(other_skill, user, occurred_at=hour_ago)
    other = {**consented, "skill": other_skill}

    assert [i["id"] for i in read_list(consented)["interactions"]] == [readable]
    assert read_list(other)["interactions"] == []
    detail = client.get(
        f"/v1/skills/{other_skill}/interactions/{unconsented}", headers=consented["headers"]
    )
    assert detail.status_code == 404
    logged = make.rows("SELECT interaction_id FROM access_log")
    assert [str(r["interaction_id"]) for r in logged] == [readable]


def test_a_consent_is_in_force_from_the_instant_it_is_granted(make, reader, read_list):
    who = reader("standard")
    user = make.user()
    granted = datetime.now(UTC) - timedelta(hours=2)
    make.consent(user, who["skill"], granted_at=granted)
    at_the_grant = make.interaction(who["skill"], user, occurred_at=granted)
    just_before = make.interaction(
        who["skill"], user, occurred_at=granted - timedelta(microseconds=1)
    )

    ids = [i["id"] for i in read_list(who)["interactions"]]
    assert at_the_grant in ids
    assert just_before not in ids


def test_another_users_consent_opens_nothing(make, reader, read_list):
    who = reader("standard")  # who["user"] consented to who["skill"]
    stranger = make.user()
    # the stranger consented to another of the developer's skills only: a user the developer
    # may know of (row-level security shows it), but not one who consented to this skill
    make.consent(
        stranger, make.skill(who["developer"]), granted_at=datetime.now(UTC) - timedelta(days=2)
    )
    make.interaction(who["skill"], stranger)

    assert read_list(who)["interactions"] == []


def test_a_revoked_consent_keeps_its_past_closed(make, reader, read_list):
    who = reader("standard")
    make.interaction(who["skill"], who["user"], occurred_at=datetime.now(UTC) - timedelta(days=3))
    make.revoke(who["user"], who["skill"], revoked_at=datetime.now(UTC) - timedelta(days=1))

    assert read_list(who)["interactions"] == []
