"""Placeholders, policies, merging and the JSON line form."""

import pytest

from gateway.redaction import (
    Placeholders,
    Policy,
    Span,
    UnknownPolicy,
    get_policy,
    policy_names,
    redact,
    redact_line_json,
)
from gateway.redaction.policies import NEVER_KEPT
from gateway.redaction.spans import merge


def test_same_value_gets_the_same_placeholder_across_texts_of_an_interaction():
    ph = Placeholders()
    said = redact("my number is five five five eight six seven five three oh nine", placeholders=ph)
    answered = redact("Okay, I'll call 555-867-5309. Or 212-555-0100?", placeholders=ph)
    assert said.text == "my number is [PHONE_1]"
    assert answered.text == "Okay, I'll call [PHONE_1]. Or [PHONE_2]?"


def test_numbering_is_per_type_and_starts_at_one_per_interaction():
    ph = Placeholders()
    text = redact("call john smith or mary jones at john@example.com", placeholders=ph).text
    assert text == "call [NAME_1] or [NAME_2] at [EMAIL_1]"
    assert redact("call mary jones").text == "call [NAME_1]"


def test_unknown_policy_error_lists_known_names():
    with pytest.raises(UnknownPolicy) as info:
        get_policy("lenient")
    assert isinstance(info.value, ValueError)
    for name in ("strict", "standard", "trusted"):
        assert name in str(info.value)
    with pytest.raises(UnknownPolicy):
        redact("hello", "lenient")


def test_policy_names_include_the_tier_policies():
    assert {"strict", "standard", "trusted"} <= set(policy_names())


def test_strict_is_the_default_and_placeholders_everything():
    text = "card 4111 1111 1111 1111, zip code 62704"
    assert redact(text).text == redact(text, "strict").text == "card [CARD_1], zip code [ZIP_1]"


def test_trusted_shows_card_last_four_and_keeps_zip():
    result = redact("card 4111 1111 1111 1111, zip code 62704", "trusted")
    assert result.text == "card [CARD ending 1111], zip code 62704"
    assert [s.type for s in result.spans] == ["CARD"]


def test_standard_keeps_only_the_zip_region():
    assert redact("zip code 62704", "standard").text == "zip code [ZIP 627xx]"


@pytest.mark.parametrize("name", ["strict", "standard", "trusted"])
def test_no_policy_lets_names_contacts_accounts_or_serials_leave(name):
    text = (
        "Maria Lopez, 555-867-5309, maria@example.com, 42 Elm Street, "
        "account number 12345678, serial number X7K2P9Q4"
    )
    out = redact(text, name).text
    for secret in ("Maria", "Lopez", "867", "maria@", "Elm", "12345678", "X7K2P9Q4"):
        assert secret not in out, (name, out)


@pytest.mark.parametrize("entity", sorted(NEVER_KEPT))
def test_a_policy_keeping_protected_data_is_refused(entity):
    with pytest.raises(ValueError, match="never be kept"):
        Policy("leaky", {entity: "keep"})


def test_a_policy_must_run_every_detector():
    with pytest.raises(ValueError, match="must run"):
        Policy("partial", {}, detectors=("numbers",))


def test_drop_action_removes_the_entity():
    policy = Policy("dropper", {"PHONE": "drop"})
    assert redact("call 555-867-5309 now", policy).text == "call  now"


def test_partial_overlaps_are_merged_not_trimmed():
    merged = merge([Span("NAME", 3, 6), Span("ADDRESS", 0, 5), Span("NUMBER", 10, 12)])
    assert merged == [Span("ADDRESS", 0, 6), Span("NUMBER", 10, 12)]


def test_merge_prefers_the_most_specific_type():
    assert merge([Span("NUMBER", 0, 16), Span("CARD", 0, 16)]) == [Span("CARD", 0, 16)]


def test_redact_line_json():
    assert redact_line_json("text 555-867-5309", "strict") == {
        "text": "text [PHONE_1]",
        "spans": [{"type": "PHONE", "start": 5, "end": 17}],
    }


def test_empty_and_plain_text_pass_through():
    assert redact("").text == ""
    assert redact("what's the weather").spans == []


def test_values_shown_in_clear_are_kept_in_the_text_too():
    text = "Your refill RX2234430 is ready, call 555-867-5309"
    kept = redact(text, "standard", keep=["RX2234430"])
    assert kept.text == "Your refill RX2234430 is ready, call [PHONE_1]"
    assert "2234430" not in redact(text, "standard").text
    # a detection reaching beyond the kept value is still redacted whole
    assert "5309" not in redact(text, "standard", keep=["867"]).text


def test_warm_loads_the_word_lists_before_the_first_call():
    from gateway.redaction import warm
    from gateway.redaction.detectors import lexicon

    lexicon.clear()
    warm()
    assert lexicon.given.cache_info().currsize == 1
    assert lexicon.proper_margins.cache_info().currsize == 1
