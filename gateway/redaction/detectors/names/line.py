"""One text's tokens, with the places, brands and assistant names that are no person marked."""

from gateway.redaction.detectors import gazetteer, lexicon
from gateway.redaction.detectors.names.words import (
    CLEAR_MARGIN,
    MESSAGING,
    MUSIC,
    PERSON_CONTEXT,
    PERSON_VERBS,
    PLACE_BEFORE,
    PLACE_OR_PERSON_BEFORE,
    STOP,
    base_form,
    clearly_name,
    is_cased,
    person_of_words,
    trigger,
)
from gateway.redaction.normalise import Token


class Line:
    """One text's tokens with what the lists say about each of them."""

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.lows = [t.low for t in tokens]
        self.bases = [base_form(low) for low in self.lows]
        self.n = len(tokens)
        self.cased = is_cased(text)
        self.blocked = blocked_tokens(self.lows, self.bases)
        for k, token in enumerate(tokens):
            if text[token.end : token.end + 1] == "_" or text[token.start - 1 : token.start] == "_":
                self.blocked[k] = True  # inside a placeholder: "[NAME_1]"
        free = [low for low, b in zip(self.lows, self.blocked, strict=True) if not b]
        self.music = any(low in MUSIC for low in free) and not any(
            low in PERSON_VERBS or low in MESSAGING for low in free
        )

    def gap(self, i: int) -> str:
        """The text between token i-1 and token i."""
        return self.text[self.tokens[i - 1].end : self.tokens[i].start]

    def word(self, i: int) -> str:
        return self.text[self.tokens[i].start : self.tokens[i].end]


def blocked_tokens(lows: list[str], bases: list[str]) -> list[bool]:
    """Tokens inside a place, brand, dish or assistant name: never part of a person's name."""
    n = len(lows)
    blocked = [False] * n
    starts = gazetteer.first_words()
    i = 0
    while i < n:
        if lows[i] in gazetteer.WAKE_WORDS or (
            bases[i] in gazetteer.DEMONYMS
            and not (i > 0 and lows[i - 1] in lexicon.plain_given())  # "jacqueline french"
        ):
            blocked[i] = True
            i += 1
            continue
        if lows[i] in gazetteer.PLACE_PREFIXES and i + 1 < n:
            blocked[i] = blocked[i + 1] = True
            i += 2
            continue
        if (
            i + 1 < n
            and lows[i + 1] in gazetteer.PLACE_HEADS
            and not lows[i].endswith("'s")
            and not (
                lows[i] in lexicon.plain_given()
                and lows[i + 1] in lexicon.family()
                and not gazetteer.is_place((lows[i],))  # "baker street": after a city
            )
        ):
            # "orange county", "baker street": a place named after someone (not "michael lane")
            blocked[i] = blocked[i + 1] = True
            i += 2
            continue
        found = gazetteer.match(lows, i) if lows[i] in starts else None
        if found is None and bases[i] is not lows[i] and bases[i] in starts:
            found = gazetteer.match(bases, i)  # "domino's" as "domino"
        if found is None:
            i += 1
            continue
        end, kind = found
        if person_despite_place(lows, bases, i, end, kind):
            i += 1
            continue
        for k in range(i, end):
            blocked[k] = True
        i = end
    return blocked


def person_despite_place(lows: list[str], bases: list[str], i: int, end: int, kind: str) -> bool:
    """A one-word place that is also a name, read as a person unless a place is meant.

    Cities share names with people ("alvarado", "chelsea", "david"): such a word is a place
    only after a place preposition ("rain in sydney", "buses to chester" with no message
    around), never in "paris jackson" or "email sydney".
    """
    if kind == "thing" or end != i + 1:
        return False
    low = bases[i]
    if low not in lexicon.given() and low not in lexicon.family():
        return False
    if (
        end < len(lows)
        and not lexicon.is_word(bases[end])
        and (bases[end] in lexicon.family() or clearly_name(bases[end]))
    ):
        return True  # "paris jackson", "sylvester stallone"
    prev = lows[i - 1] if i > 0 else ""
    if (
        low in lexicon.family()
        and prev not in STOP
        and (prev in lexicon.given() or lexicon.proper_margins().get(prev, 0.0) >= CLEAR_MARGIN)
    ):
        return True  # "maria lopez", "angela merkel"
    if prev in PERSON_VERBS or trigger(lows, i) is True or person_of_words(lows, i):
        return True  # "email sydney", "my name is jordan", "the wife of macron"
    if prev == "for" and low in lexicon.plain_given():
        return True  # "a ride for chad"
    if kind == "region" or prev in PLACE_BEFORE or prev in gazetteer.PLACE_MODIFIERS:
        return False
    if prev in PLACE_OR_PERSON_BEFORE:
        return any(w in PERSON_CONTEXT for w in lows)
    return low in lexicon.plain_given()
