"""Postal addresses: house number, street name and suffix, unit, city, state and ZIP code."""

import re

from gateway.redaction.detectors import usps
from gateway.redaction.normalise import View
from gateway.redaction.spans import Span

# Every spelling of USPS Publication 28 appendix C1, longest first so "streets" beats "st".
# Abbreviations that are also everyday words count only when capitalised ("Goat Is", not
# "order 4 s is out for delivery").
_WORD_ABBREVIATIONS = frozenset({"is", "un"})
_SUFFIX = "|".join(
    sorted(usps.all_suffix_forms() - _WORD_ABBREVIATIONS, key=len, reverse=True)
    + [f"(?-i:{w.capitalize()}|{w.upper()})" for w in sorted(_WORD_ABBREVIATIONS)]
)
# Words that end a quantity phrase, never start a street name ("2 large pizzas", "5 on the way").
_NOT_STREET = (
    r"the|a|an|on|in|at|to|for|of|and|or|my|your|me|is|it|by|from|with|this|that|more|less|large"
    r"|small|medium|extra|big|new|minutes?|hours?|times?|people|am|pm|o'clock"
)
_WORD = rf"(?!(?:{_NOT_STREET})\b)(?:[A-Za-z][A-Za-z'.-]*|\d+(?:st|nd|rd|th)?)"
_STATES = (
    "al ak az ar ca co ct de fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt ne nv nh nj nm"
    " ny nc nd oh ok or pa ri sc sd tn tx ut vt va wa wv wi wy dc pr"
)
_STATE_NAMES = (
    "alabama|alaska|arizona|arkansas|california|colorado|connecticut|delaware|florida|georgia"
    "|hawaii|idaho|illinois|indiana|iowa|kansas|kentucky|louisiana|maine|maryland|massachusetts"
    "|michigan|minnesota|mississippi|missouri|montana|nebraska|nevada|new hampshire|new jersey"
    "|new mexico|new york|north carolina|north dakota|ohio|oklahoma|oregon|pennsylvania"
    "|rhode island|south carolina|south dakota|tennessee|texas|utah|vermont|virginia|washington"
    "|west virginia|wisconsin|wyoming"
)
_STATE = rf"(?:{'|'.join(_STATES.split())}|{_STATE_NAMES})"
# A secondary unit (appendix C2): "apt. 5", "suite 200", "apartment four b" (view: "4 b").
_UNIT_WORD = "|".join(sorted(usps.UNIT_DESIGNATORS, key=len, reverse=True))
_UNIT = (
    rf"(?:,?\s+(?:(?:{_UNIT_WORD})\.?|#)(?:\s+(?:number|no\.?))?\s*#?\s*"
    r"(?:\d+[A-Za-z]?|[A-Za-z]\b)(?:\s?(?:\d+|[A-Za-z])\b)?)"
)
_CITY_STATE_ZIP = (
    rf"(?:,?\s+(?:[A-Za-z][A-Za-z'.-]*\s+){{0,2}}[A-Za-z][A-Za-z'.-]*,?\s+{_STATE}\.?,?\s+"
    r"\d{5}(?:-\d{4})?)"
)
_DIRECTIONS = r"(?:north|south|east|west|n|s|e|w|ne|nw|se|sw)"
_DIRECTION = rf"(?:{_DIRECTIONS}\.?\s+)?"
_POST_DIRECTION = rf"(?:\s+{_DIRECTIONS}\b\.?)?"
_ADDRESS = re.compile(
    rf"\b\d{{1,6}}[A-Za-z]?\s+{_DIRECTION}(?:{_WORD}\s+){{0,2}}{_WORD}\s+(?:{_SUFFIX})\b\.?"
    rf"{_POST_DIRECTION}{_UNIT}?{_CITY_STATE_ZIP}?",
    re.I,
)
_PO_BOX = re.compile(r"\b(?:p\.?\s?o\.?\s?box|post office box)\s+\d+\b", re.I)
# A state and ZIP with nothing before them that reads as a street ("Springfield, IL 62704").
_STATE_ZIP = re.compile(rf"\b{_STATE}\.?,?\s+(?P<zip>\d{{5}}(?:-\d{{4}})?)\b", re.I)


_DIGIT = re.compile(r"\d")
_LETTERS = re.compile(r"[a-z]+")
_SUFFIX_WORDS = frozenset(usps.all_suffix_forms())


def detect(view: View) -> list[Span]:
    """Find street addresses, PO boxes and state-plus-ZIP codes in the detection view."""
    found: list[Span] = []
    text = view.text
    if _DIGIT.search(text) is None:
        return found  # every address form starts with or holds a number
    if not _SUFFIX_WORDS.isdisjoint(_LETTERS.findall(text.lower())):
        # the street pattern is long: run it only where some suffix word occurs at all
        for match in _ADDRESS.finditer(text):
            found.append(Span("ADDRESS", *view.original(match.start(), match.end())))
    for match in _PO_BOX.finditer(text):
        found.append(Span("ADDRESS", *view.original(match.start(), match.end())))
    for match in _STATE_ZIP.finditer(text):
        found.append(Span("ZIP", *view.original(match.start("zip"), match.end("zip"))))
    return found
