"""Both words of a full name: each name found stretched over the rest of it."""

from gateway.redaction.detectors import lexicon
from gateway.redaction.detectors.names.line import Line
from gateway.redaction.detectors.names.words import (
    AFTER_GIVEN_RANK,
    AFTER_GIVEN_ZIPF,
    CALLABLE,
    MAX_NAME_TOKENS,
    SAYS,
    STOP,
    namelike,
    trigger,
    triggers_any,
)


def widen(line: Line, ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping names and stretch each over the rest of a full name.

    "sylvester stallone" is one name even when only "arnold" was found: the next token
    joins when it is a family name, a proper noun or an unknown token, and the previous one
    when it is a given name ("holly robinson" found from "parton").
    """
    if not ranges:
        return []
    merged: list[tuple[int, int]] = []
    for i, j in sorted(ranges):
        if merged and i < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(j, merged[-1][1]))
        else:
            merged.append((i, j))
    widened: list[tuple[int, int]] = []
    for i, j in merged:
        while j < line.n and j - i < MAX_NAME_TOKENS and _joins_after(line, j):
            if j - i >= 2 and lexicon.is_word(line.bases[j]):
                break  # a third word is no part of the name: "paris jackson still"
            j += 1
        while i > 0 and j - i < MAX_NAME_TOKENS and _joins_before(line, i - 1):
            i -= 1
        if widened and i <= widened[-1][1] - 1:
            widened[-1] = (widened[-1][0], max(j, widened[-1][1]))
        else:
            widened.append((i, j))
    return widened


def _joins_after(line: Line, j: int) -> bool:
    if line.gap(j) not in (" ", "-") or line.blocked[j] or line.lows[j] in STOP:
        return False
    if line.lows[j - 1].endswith("'s"):
        return False  # "mark's email": the possessive closes the name
    base = line.bases[j]
    if line.cased:
        word = line.word(j)
        return word[0].isupper() and not word.isupper() and not lexicon.is_word(base)
    if base in SAYS or base in CALLABLE:
        return False
    if j - 2 >= 0 and lexicon.is_word(line.bases[j - 1]) and lexicon.is_word(base):
        return False  # two words in a row are no name's end ("kate morgan book")
    if (
        line.bases[j - 1] in lexicon.plain_given()
        and lexicon.family_rank(base) <= AFTER_GIVEN_RANK
        and lexicon.zipf(base) < AFTER_GIVEN_ZIPF
    ):
        return True  # "emma stone": rarer family names that are words, after a clear given name
    return lexicon.common_family(base) or namelike(base)


def _joins_before(line: Line, k: int) -> bool:
    low = line.lows[k]
    if line.gap(k + 1) != " " or line.blocked[k] or low in STOP or low in CALLABLE:
        return False
    if low.endswith("'s") or not low.isalpha() or trigger(line.lows, k + 1) is True:
        return False
    if line.lows[k + 1] not in lexicon.family() and not namelike(line.bases[k + 1]):
        return False
    if line.cased:
        return line.word(k)[0].isupper() and low in lexicon.given()
    return low in lexicon.given() and (low in lexicon.plain_given() or not triggers_any(low))
