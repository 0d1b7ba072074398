"""Names a context, a possessive or the words themselves give away, listed or not."""

from gateway.redaction.detectors import gazetteer, lexicon
from gateway.redaction.detectors.names.line import Line
from gateway.redaction.detectors.names.words import (
    ANNOUNCE_WITH_MESSAGING,
    CALLABLE,
    CLAUSE_BREAK,
    CONTACT_CLOSERS,
    CONTACT_STOP_NAMES,
    CONTACT_VERBS,
    MAX_NAME_TOKENS,
    MESSAGING,
    NOT_OWNERS,
    OWNED_EVENTS,
    OWNER_DETERMINERS,
    PERSON_VERBS,
    SAYS,
    SAYS_BEFORE,
    STOP,
    clearly_name,
    namelike,
    person_of_words,
)


def announced(line: Line) -> list[tuple[int, int]]:
    """Names a context announces, whether or not a list knows them.

    After a contact word ("email zorvath", "a meeting with quelindra", "my friend tavish") any
    token that is no ordinary English word is a name; before a person's verb ("did mark
    reply", "when casey emails me") so is any given name, even one that is also a word.
    """
    lows, bases = line.lows, line.bases
    found: list[tuple[int, int]] = []
    for i in range(line.n):
        if line.blocked[i] or lows[i] in CALLABLE:
            continue
        if lows[i] in STOP and lows[i] not in CONTACT_STOP_NAMES:
            continue
        base = bases[i]
        if (
            i > 0
            and _announces(line, i)
            and (
                namelike(base)
                or base in lexicon.plain_given()
                or (lexicon.common_given(base) and _clause_ends(line, i + 1))
            )
        ):
            found.append((i, i + 1))
        elif _says_after(line, i) and (
            base in lexicon.given() or base in CONTACT_STOP_NAMES or namelike(base)
        ):
            found.append((i, i + 1))
        elif (
            i + 1 < line.n
            and lows[i + 1] in OWNED_EVENTS
            and lows[i] not in STOP
            and (base not in lexicon.english() or lexicon.common_given(base))
            and (i == 0 or lows[i - 1] not in OWNER_DETERMINERS)
        ):
            found.append((i, i + 1))  # "add kwabena birthday", an unmarked possessive
    return found


def contacted(line: Line) -> list[tuple[int, int]]:
    """Only names right after a contact verb (for requests about performers)."""
    return [
        (i, i + 1)
        for i in range(1, line.n)
        if line.lows[i - 1] in PERSON_VERBS
        and not line.blocked[i]
        and (lexicon.common_given(line.bases[i]) or namelike(line.bases[i]))
    ]


def _announces(line: Line, i: int) -> bool:
    """Whether the words before token `i` announce a person."""
    prev = line.lows[i - 1]
    if prev in CONTACT_VERBS and prev not in ANNOUNCE_WITH_MESSAGING:
        return True
    if prev == "of":
        return _person_of(line, i)
    if prev in ANNOUNCE_WITH_MESSAGING:
        # "send an email to X", "emails from X", "lunch with X", "a reminder for X"
        window = line.lows[max(0, i - 5) : i - 1]
        return any(w in MESSAGING for w in window)
    return False


def _clause_ends(line: Line, j: int) -> bool:
    """Whether a name ending before token `j` ends its clause ("for bill that ...")."""
    return (
        j >= line.n
        or line.lows[j] in CONTACT_CLOSERS
        or CLAUSE_BREAK.search(line.text, line.tokens[j - 1].end, line.tokens[j].start) is not None
    )


def _says_after(line: Line, i: int) -> bool:
    """Whether token `i` is the subject of a communication verb: "did mark reply anything"."""
    j = i + 1
    if j < line.n and line.lows[j] in ("has", "had", "have", "just", "ever", "already"):
        j += 1
    if j >= line.n or line.lows[j] not in SAYS:
        return False
    return i == 0 or line.lows[i - 1] in SAYS_BEFORE


def proper_names(line: Line) -> list[tuple[int, int]]:
    """Names no context announces but the words give away: "angela merkel", "who is macron".

    A run of two or more name-like tokens (proper nouns, listed names, unknown tokens) with at
    least one clearly a name, or one listed name that is mostly written capitalised.
    """
    found: list[tuple[int, int]] = []
    i = 0
    while i < line.n:
        j = i
        while j < line.n and j - i < MAX_NAME_TOKENS and _run_token(line, j):
            j += 1
        if j - i >= 2 and any(clearly_name(line.bases[k]) for k in range(i, j)):
            found.append((i, j))
        elif (
            j - i == 1
            and clearly_name(line.bases[i])
            and (line.bases[i] in lexicon.family() or _person_of(line, i))
        ):
            found.append((i, j))
        i = max(j, i + 1)
    return found


def _run_token(line: Line, k: int) -> bool:
    low, base = line.lows[k], line.bases[k]
    if line.blocked[k] or low in STOP or low in CALLABLE or low in SAYS:
        return False
    if k > 0 and line.gap(k) != " " and line.lows[k - 1] not in STOP:
        return False
    return namelike(base) or base in lexicon.plain_given() or base in lexicon.plain_family()


def _person_of(line: Line, i: int) -> bool:
    return person_of_words(line.lows, i)


def possessives(line: Line) -> list[tuple[int, int]]:
    """Names in the possessive: "reply to mark's email", "cancel zenaida's alarm"."""
    found: list[tuple[int, int]] = []
    for i in range(line.n):
        low = line.lows[i]
        if not low.endswith("'s") or line.blocked[i]:
            continue
        base = line.bases[i]
        if base in NOT_OWNERS or base in STOP or not base.isalpha() or len(base) < 2:
            continue
        if i > 0 and line.lows[i - 1] in OWNER_DETERMINERS:
            continue  # "the bill's due date"
        if i + 1 < line.n and line.lows[i + 1] in gazetteer.PLACE_HEADS:
            continue  # "sal's diner", "king's park"
        if lexicon.is_word(base):
            # "mark's email", not "an hour's drive" or "queen's greatest hits"
            if (
                lexicon.common_given(base)
                or (base in lexicon.plain_family() or lexicon.common_family(base))
                and i > 0
                and line.lows[i - 1] in CONTACT_VERBS | MESSAGING
            ):
                found.append((i, i + 1))
        elif base in lexicon.given() or base in lexicon.family() or namelike(base):
            found.append((i, i + 1))
    return found
