"""Names the name lists know, in context or not."""

from gateway.redaction.detectors import lexicon
from gateway.redaction.detectors.names.line import Line
from gateway.redaction.detectors.names.words import (
    CALLABLE,
    CLAUSE_BREAK,
    CONTACT_CLOSERS,
    CONTACT_STOP_NAMES,
    CONTACT_VERBS,
    DETERMINERS,
    MAX_NAME_TOKENS,
    PRODUCT_HEADS,
    SAYS,
    STOP,
    namelike,
    sentence_start,
    trigger,
)


def listed_names(line: Line) -> list[tuple[int, int]]:
    """Names the name lists know, in context or not (the census-list detector, plus blocks)."""
    text, tokens, lows = line.text, line.tokens, line.lows
    given_all, plain_given = lexicon.given(), lexicon.plain_given()
    family_all = lexicon.family()
    word_like = lexicon.word_like()
    cased = line.cased
    found: list[tuple[int, int]] = []
    i = 0
    n = line.n
    while i < n:
        low = lows[i]
        if line.blocked[i]:
            i += 1
            continue
        j = _contact_name(line, i)
        if j:
            found.append((i, j))
            i = j
            continue
        if low in STOP or low in PRODUCT_HEADS or low in CALLABLE or not low.isalpha():
            i += 1
            continue
        word = line.word(i)
        capital = cased and word[0].isupper() and not word.isupper()
        strong = trigger(lows, i)
        is_known = low in plain_given or low in lexicon.plain_family()
        start_name = (
            is_known
            or (strong is not None and _common_given_then_family(line, i))
            or (capital and _common_given_then_family(line, i))
            or (not cased and _lower_given_then_family(line, i))
            or (
                strong is True
                and (capital or not cased)
                and (not lexicon.is_word(low) or lexicon.common_given(low))
                and (low not in word_like or low in given_all)
            )
            or (strong is not None and capital)
            or (capital and low in family_all and not sentence_start(text, tokens, i))
        )
        after_determiner = (
            i > 0 and lows[i - 1] in DETERMINERS and not capital and low not in family_all
        )
        if (
            not start_name
            or after_determiner
            or (strong is None and i > 0 and lows[i - 1] in PRODUCT_HEADS)
            or (strong is None and line.music and not capital)
        ):
            i += 1
            continue
        j = i + 1
        while j < n and j - i < MAX_NAME_TOKENS and _continues(line, j):
            if j - i >= 2 and not cased and lexicon.is_word(line.bases[j]):
                break
            j += 1
        if j == i + 1 and not _alone_is_name(line, i, strong, capital):
            i += 1
            continue
        if strong is not True and j < n and _product_follows(line, j):
            i = j
            continue
        found.append((i, j))
        i = j
    return found


def _contact_name(line: Line, i: int) -> int:
    """A given name right after a contact word, even one that is also a word ("call chase").

    Taken only when the clause ends after it (end of text, punctuation, "at", "on", "about"),
    optionally after a family name ("text will smith at noon"), and when it is not something
    one calls ("call back", "call an uber"). Returns the index after the name, or 0.
    """
    lows = line.lows
    if i == 0 or lows[i - 1] not in CONTACT_VERBS:
        return 0
    low = lows[i]
    if low in CALLABLE or not lexicon.common_given(low):
        return 0
    if low in STOP and low not in CONTACT_STOP_NAMES:
        return 0
    if line.gap(i) != " ":
        return 0
    j = i + 1
    n = line.n
    if (
        j < n
        and line.gap(j) == " "
        and lows[j] not in STOP
        and lows[j] not in CALLABLE
        and not line.blocked[j]
        and lexicon.common_family(lows[j])
    ):
        j += 1
    if j == n or lows[j] in CONTACT_CLOSERS:
        return j
    return j if CLAUSE_BREAK.search(line.text, line.tokens[j - 1].end, line.tokens[j].start) else 0


def _common_given_then_family(line: Line, i: int) -> bool:
    """A given name that is also a word, followed by a family name: "Mark Richards"."""
    low = line.lows[i]
    if low not in lexicon.word_like() or i + 1 >= line.n:
        return False
    if low not in lexicon.given():
        return False
    nxt = line.tokens[i + 1]
    if line.gap(i + 1) != " " or line.blocked[i + 1] or nxt.low not in lexicon.family():
        return False
    return not line.cased or line.text[nxt.start].isupper()


def _lower_given_then_family(line: Line, i: int) -> bool:
    """In lower-case text, a given name before a family name that is not mostly a word."""
    return (
        i + 1 < line.n
        and line.lows[i] in lexicon.given()
        and line.bases[i + 1] in lexicon.plain_family()
        and not line.blocked[i + 1]
        and line.lows[i] not in STOP
        and line.lows[i + 1] not in STOP
    )


def _product_follows(line: Line, j: int) -> bool:
    return line.lows[j] in PRODUCT_HEADS and line.gap(j) == " "


def _continues(line: Line, j: int) -> bool:
    """Whether token `j` continues the name before it ("Maria" -> "Maria Lopez")."""
    if line.gap(j) not in (" ", "-") or line.blocked[j]:
        return False
    low = line.lows[j]
    base = line.bases[j]
    word = line.word(j)
    family_all = lexicon.family()
    if low in PRODUCT_HEADS:
        return False
    if line.cased and low in STOP and word[0].isupper() and low in family_all:
        return True  # "Angela May": a capitalised family name that is also a word
    if low in STOP or not base.isalpha():
        return False
    if line.cased:
        return word[0].isupper() and (low not in lexicon.word_like() or low in family_all)
    if base in SAYS:
        return False
    return lexicon.common_family(base) or base in lexicon.plain_given() or namelike(base)


def _alone_is_name(line: Line, i: int, strong: bool | None, capital: bool) -> bool:
    """Whether a single name-like token is a name without a family name after it."""
    low = line.lows[i]
    if strong is not None:
        return True
    if low in lexicon.plain_given():
        # a capitalised given name, or any lower-case one: "is sarah coming"
        return capital or not line.cased
    return capital and not sentence_start(line.text, line.tokens, i)
