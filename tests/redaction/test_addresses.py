"""Street addresses with every USPS Publication 28 street suffix, written and spoken, with units."""

import pytest

from gateway.redaction import detect, redact
from gateway.redaction.detectors.usps import STREET_SUFFIXES, all_suffix_forms

PRIMARIES = sorted(STREET_SUFFIXES)


def addresses(text: str) -> list[str]:
    return [text[s.start : s.end] for s in detect(text) if s.type == "ADDRESS"]


def test_the_table_is_appendix_c1_whole():
    # 206 primary suffix names and 549 spellings in all, as USPS Publication 28 lists them
    assert len(STREET_SUFFIXES) == 206
    assert len(all_suffix_forms()) == 549
    for primary in ("bluff", "bluffs", "bend", "beach", "bottom", "boulevard", "stravenue"):
        assert primary in STREET_SUFFIXES


@pytest.mark.parametrize("primary", PRIMARIES)
def test_every_suffix_written(primary):
    value = f"1200 Larkspur {primary.capitalize()}"
    assert addresses(f"Ship it to {value} by Friday") == [value]


@pytest.mark.parametrize("primary", PRIMARIES)
def test_every_suffix_spoken(primary):
    value = f"twelve hundred larkspur {primary}"
    assert addresses(f"ship it to {value} please") == [value]


@pytest.mark.parametrize("primary", PRIMARIES)
def test_every_standard_abbreviation_written(primary):
    abbreviation = STREET_SUFFIXES[primary][0]
    value = f"77 Larkspur {abbreviation.capitalize()}."
    assert addresses(f"Ship it to {value} today") == [value]


@pytest.mark.parametrize(
    "value",
    [
        "one sixty six sunset boulevard apartment four b",
        "forty two harbor bluffs unit twelve",
        "nine river bend suite two hundred",
        "88 Ocean Beach, Apt. 5B",
        "310 Canyon Bottom #7",
        "five oak terrace apartment number three",
        "12 Mill Run, Floor 3",
    ],
)
def test_unit_numbers_are_part_of_the_address(value):
    assert addresses(f"pick me up at {value} thanks") == [value]


def test_nothing_of_a_spoken_address_survives():
    out = redact("deliver to one sixty six sunset boulevard apartment four b").text
    assert out == "deliver to [ADDRESS_1]"


@pytest.mark.parametrize(
    "text",
    [
        "order 4 s is out for delivery",
        "play 3 songs on my way home",
        "add 2 key lime pies",
        "we need 4 more points",
        "buy 2 bus passes",
        "set an alarm for 7 am",
    ],
)
def test_quantities_before_suffix_words_are_not_addresses(text):
    assert addresses(text) == []
