"""Redacted once, at write time: the stored forms are the redactor's, and never stale when read."""

from datetime import UTC, datetime, timedelta

import pytest

from gateway.redaction import Placeholders, get_policy, policies, policy_names, redact
from gateway.services import redaction as redaction_service

TEXT = "call maria lopez at 555 867 5309 about order 88231907"
REPLY = "I will text 555 867 5309 when order 88231907 ships"


@pytest.fixture
def world(make, bearer):
    def build(tier: str):
        developer = make.developer(tier=tier)
        skill = make.skill(developer)
        user = make.user()
        make.consent(user, skill, granted_at=datetime.now(UTC) - timedelta(days=5))
        headers = bearer(make.client(developer_id=developer))
        return {"developer": developer, "skill": skill, "user": user, "headers": headers}

    return build


def _expected(policy_name: str, *, keep: list[str]) -> tuple[str, str, list[dict[str, str]]]:
    policy = get_policy(policy_name)
    numbering = Placeholders()
    return (
        redact(TEXT, policy, placeholders=numbering, keep=keep).text,
        redact(REPLY, policy, placeholders=numbering, keep=keep).text,
        [
            {
                "name": "phone",
                "value": redact("555 867 5309", policy, placeholders=numbering, keep=keep).text,
            }
        ],
    )


def test_every_policy_has_a_stored_form_equal_to_what_the_redactor_gives(make, world):
    reader = world("trusted")
    interaction = make.interaction(
        reader["skill"],
        reader["user"],
        utterance=TEXT,
        response=REPLY,
        slots={"phone": "555 867 5309"},
        order_ref="88231907",
    )
    forms = {
        row["policy"]: row
        for row in make.rows(
            "SELECT * FROM interaction_texts WHERE interaction_id = %s", (interaction,)
        )
    }
    assert sorted(forms) == sorted(policy_names())
    for name, form in forms.items():
        shown = _expected(name, keep=["88231907"])
        hidden = _expected(name, keep=[])
        assert (form["utterance"], form["response"], form["slots"]) == shown
        assert (
            form["utterance_ref_hidden"],
            form["response_ref_hidden"],
            form["slots_ref_hidden"],
        ) == hidden
        assert form["version"] == redaction_service.form_version(get_policy(name))
        # one numbering across the interaction's texts: the phone is [PHONE_1] everywhere
        assert "[PHONE_1]" in form["utterance"] and "[PHONE_1]" in form["response"]
        assert "maria" not in form["utterance"] and "5309" not in form["utterance"]


def test_only_a_tier_that_shows_the_order_reference_sees_it_inside_the_text(
    client, make, world, conn
):
    conn.execute("RESET ROLE")  # tiers are the admins' data; the app role only reads them
    conn.execute(
        """INSERT INTO tiers (name, transcripts_readable, fields, retention_days,
                              redaction_policy, page_size, rate_limit)
           VALUES ('quiet', true, '{utterance,intent}', 30, 'trusted', 50, '60 per minute')"""
    )
    conn.execute("SET LOCAL ROLE gateway_app")
    shows = world("trusted")  # its fields include order_ref
    hides = world("trusted")
    make.tier_grant(hides["developer"], "quiet")
    for reader in (shows, hides):
        make.interaction(reader["skill"], reader["user"], utterance=TEXT, order_ref="88231907")
    (shown,) = client.get(
        f"/v1/skills/{shows['skill']}/interactions", headers=shows["headers"]
    ).get_json()["interactions"]
    (hidden,) = client.get(
        f"/v1/skills/{hides['skill']}/interactions", headers=hides["headers"]
    ).get_json()["interactions"]
    assert "88231907" in shown["utterance"] and shown["order_ref"] == "88231907"
    assert "88231907" not in hidden["utterance"] and "order_ref" not in hidden
    assert "[NUMBER_1]" in hidden["utterance"]


def test_a_version_bump_never_lets_a_stale_form_be_served(client, make, world, monkeypatch):
    reader = world("standard")
    interaction = make.interaction(reader["skill"], reader["user"], utterance=TEXT)
    # make the stored standard form look like an older, weaker version's: the raw text
    make.rows(
        "UPDATE interaction_texts SET utterance = %s WHERE interaction_id = %s RETURNING 1",
        (TEXT, interaction),
    )
    monkeypatch.setattr(policies, "REDACTOR_VERSION", "2-test")
    base = f"/v1/skills/{reader['skill']}/interactions"
    (listed,) = client.get(base, headers=reader["headers"]).get_json()["interactions"]
    single = client.get(f"{base}/{interaction}", headers=reader["headers"]).get_json()
    for item in (listed, single):
        assert "maria" not in item["utterance"] and "5309" not in item["utterance"]
    # and the fresh form was written back with the new version
    (form,) = make.rows(
        "SELECT version, utterance FROM interaction_texts"
        " WHERE interaction_id = %s AND policy = %s",
        (interaction, "standard"),
    )
    assert form["version"] == redaction_service.form_version(get_policy("standard"))
    assert form["version"].startswith("2-test.")
    assert "maria" not in form["utterance"]


def test_an_interaction_without_stored_forms_is_redacted_on_read(client, make, world):
    reader = world("standard")
    make.interaction(reader["skill"], reader["user"], utterance=TEXT, stored_forms=False)
    (item,) = client.get(
        f"/v1/skills/{reader['skill']}/interactions", headers=reader["headers"]
    ).get_json()["interactions"]
    assert "maria" not in item["utterance"] and "[PHONE_1]" in item["utterance"]
    assert make.count("interaction_texts") == 1  # written back for the policy that read it


def test_deleting_an_interaction_deletes_its_forms_in_the_same_statement(make, world, conn):
    reader = world("standard")
    interaction = make.interaction(reader["skill"], reader["user"], utterance=TEXT)
    assert make.count("interaction_texts") == len(policy_names())
    conn.execute("RESET ROLE")  # deletion is the owner's narrow path, not the app role's
    conn.execute("DELETE FROM interactions WHERE id = %s", (interaction,))
    left = conn.execute(
        "SELECT count(*) AS n FROM interaction_texts WHERE interaction_id = %s", (interaction,)
    ).fetchone()
    conn.execute("SET LOCAL ROLE gateway_app")
    assert left["n"] == 0


def test_a_slot_named_for_a_birth_date_is_redacted_as_one(make, world):
    reader = world("trusted")
    interaction = make.interaction(
        reader["skill"],
        reader["user"],
        utterance="refill please",
        slots={"date_of_birth": "1979-06-02", "dob": "02/06/1979", "pickup_date": "2026-12-03"},
    )
    for form in make.rows(
        "SELECT slots FROM interaction_texts WHERE interaction_id = %s", (interaction,)
    ):
        values = {slot["name"]: slot["value"] for slot in form["slots"]}
        assert values["date_of_birth"] == "[DOB_1]"
        assert "1979" not in values["dob"]
        assert values["pickup_date"] == "2026-12-03"  # an ordinary date stays
