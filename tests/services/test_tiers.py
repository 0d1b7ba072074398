"""Rule 3, tiers as data: the read path follows the tier row's columns, never its name."""

from datetime import UTC, datetime, timedelta

import pytest

from gateway.redaction import Placeholders, get_policy, redact

SEEDED = {"none": "strict", "standard": "standard", "trusted": "trusted"}
# a line the three seeded policies each redact differently (ZIP and card)
TELLING = "my zip is 62704 and card 4111 1111 1111 1111, call 555-867-5309"


def _item(client, who):
    response = client.get(f"/v1/skills/{who['skill']}/interactions", headers=who["headers"])
    assert response.status_code == 200, response.get_json()
    (item,) = response.get_json()["interactions"]
    return item


def test_a_tier_of_any_name_with_transcripts_off_reads_nothing(client, make, reader):
    make.tier("paused", transcripts_readable=False, fields=("utterance", "response", "session"))
    paused = reader("paused")
    interaction = make.interaction(paused["skill"], paused["user"])

    for path in (
        f"/v1/skills/{paused['skill']}/interactions",
        f"/v1/skills/{paused['skill']}/interactions/{interaction}",
    ):
        response = client.get(path, headers=paused["headers"])
        assert response.status_code == 403
        assert response.get_json()["details"] == {"tier": "paused"}
    assert make.count("access_log") == 0


def test_a_tier_of_any_name_with_transcripts_on_reads(client, make, reader):
    make.tier("partner", transcripts_readable=True)
    partner = reader("partner")
    interaction = make.interaction(partner["skill"], partner["user"])

    assert _item(client, partner)["id"] == interaction


@pytest.mark.parametrize(
    ("tier", "fields", "shows_session"),
    [
        ("standard", None, False),
        ("trusted", None, True),
        # everything a trusted developer sees except the session
        ("nosession", ("utterance", "response", "intent", "slots", "outcome", "order_ref"), False),
        ("sessiononly", ("session",), True),
    ],
)
def test_the_session_pseudonym_shows_only_on_tiers_whose_fields_include_it(
    client, make, reader, tier, fields, shows_session
):
    if fields is not None:
        make.tier(tier, fields=fields)
    who = reader(tier)
    make.interaction(who["skill"], who["user"], session_id="platform-session-42")

    item = _item(client, who)

    assert ("session" in item) is shows_session
    assert "platform-session-42" not in str(item)


def test_the_seeded_tiers_name_the_policies_of_the_same_name(make):
    rows = make.rows("SELECT name, redaction_policy FROM tiers ORDER BY name")

    assert {r["name"]: r["redaction_policy"] for r in rows} == SEEDED


def test_the_seeded_policies_tell_apart_on_the_probe_line():
    # the end-to-end check below is only worth something if the policies differ on its input
    outputs = {name: redact(TELLING, get_policy(name)).text for name in SEEDED.values()}

    assert len(set(outputs.values())) == 3


@pytest.mark.parametrize("tier", ["standard", "trusted"])
def test_each_seeded_tier_reads_as_the_policy_it_names(client, make, reader, tier):
    who = reader(tier)
    make.interaction(who["skill"], who["user"], utterance=TELLING)
    (named,) = make.rows("SELECT redaction_policy FROM tiers WHERE name = %s", (tier,))

    item = _item(client, who)

    assert named["redaction_policy"] == SEEDED[tier]
    expected = redact(TELLING, get_policy(SEEDED[tier]), placeholders=Placeholders()).text
    assert item["utterance"] == expected


def test_the_seeded_none_tier_is_strict_and_shows_no_transcripts(client, make, reader):
    registered = reader("none")
    make.interaction(registered["skill"], registered["user"], utterance=TELLING)

    response = client.get(
        f"/v1/skills/{registered['skill']}/interactions", headers=registered["headers"]
    )

    assert response.status_code == 403
    assert TELLING not in response.get_data(as_text=True)


def test_a_custom_tier_reads_as_the_policy_it_names_not_as_its_name(client, make, reader):
    make.tier("partner", redaction_policy="trusted")
    partner = reader("partner")
    make.interaction(partner["skill"], partner["user"], utterance=TELLING)

    assert _item(client, partner)["utterance"] == redact(TELLING, get_policy("trusted")).text


def test_a_custom_tiers_fields_page_size_and_retention_are_its_own(client, make, reader):
    make.tier("narrow", fields=("intent",), retention_days=3, page_size=2)
    narrow = reader("narrow")
    now = datetime.now(UTC)
    recent = [
        make.interaction(narrow["skill"], narrow["user"], occurred_at=now - timedelta(hours=h))
        for h in (1, 2, 3)
    ]
    make.interaction(narrow["skill"], narrow["user"], occurred_at=now - timedelta(days=4))
    path = f"/v1/skills/{narrow['skill']}/interactions"

    first = client.get(path, query_string={"limit": 500}, headers=narrow["headers"]).get_json()
    second = client.get(
        path, query_string={"cursor": first["next_cursor"]}, headers=narrow["headers"]
    ).get_json()

    assert [i["id"] for i in first["interactions"]] == recent[:2]
    assert [i["id"] for i in second["interactions"]] == recent[2:]  # the 4-day-old one is out
    assert second["next_cursor"] is None
    assert {frozenset(i) for i in first["interactions"]} == {
        frozenset({"id", "occurred_at", "user", "intent"})
    }
