"""Person names: census given and family names, in context ("call ...", "my name is ...") or not."""

import re

from gateway.redaction.detectors import namelists
from gateway.redaction.detectors.commonwords import COMMON_WORDS
from gateway.redaction.normalise import Token
from gateway.redaction.spans import Span

# After these a name is expected, so any word that is not a plain function word is taken.
_STRONG_TRIGGERS: tuple[tuple[str, ...], ...] = (
    ("my", "name", "is"),
    ("name", "is"),
    ("name's",),
    ("names",),
    ("named",),
    ("called",),
    ("mr",),
    ("mrs",),
    ("ms",),
    ("miss",),
    ("dr",),
    ("driver",),
    ("courier",),
    ("dasher",),
    ("shopper",),
    ("pharmacist",),
    ("recipient",),
    ("passenger",),
    ("rider",),
    ("under",),
    ("i'm",),
    ("this", "is"),
    ("dear",),
    ("hi",),
    ("hello",),
    ("hey",),
    ("thanks",),
    ("patient",),
    ("doctor",),
    ("payee",),
    ("beneficiary",),
    ("contact",),
    ("prescriber",),
)
# After these a name is likely, so a known name is taken even if it is also a word ("call Will").
_WEAK_TRIGGERS: tuple[tuple[str, ...], ...] = (
    ("call",),
    ("text",),
    ("message",),
    ("email",),
    ("for",),
    ("to",),
    ("from",),
    ("with",),
    ("ask",),
    ("tell",),
    ("remind",),
    ("dial",),
    ("ring",),
    ("pay",),
    ("send",),
    ("and",),
    ("meet",),
    ("invite",),
    ("phone",),
    ("by",),
)
_TRIGGERS: dict[tuple[str, ...], bool] = {t: True for t in _STRONG_TRIGGERS} | {
    t: False for t in _WEAK_TRIGGERS
}
_MAX_TRIGGER = max(len(t) for t in _TRIGGERS)
# Words that never continue a name, even when a census list has them ("to", "the", "please").
_STOP = frozenset(
    """a an the to for from with and or but of at in on by is are was be am i me my you your we
    our us he she they them it its this that these those please now today tonight tomorrow
    yesterday again later back here there yes no not okay ok hi hello hey thanks thank
    what when where who why how if so up down out off about over just also too very can could
    will would should may might must do does did have has had get got set make made let lets
    go going come coming one two three four five six seven eight nine ten number phone
    order pizza pizzas large small medium minutes hours am pm street st avenue road drive
    dot com at sir madam mister missus doctor dr mr mrs ms miss oh o double triple
    january february march april june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday""".split()
)
# Words that make a capitalised run a product or a brand, not a person ("Caesar Salad").
_PRODUCT_HEADS = frozenset(
    """pizza pizzas salad latte lattes coffee coke cola soda tea card burger burgers sandwich
    soup fries wings taco tacos bowl roll rolls cake pie bagel muffin bank airlines airways
    pharmacy store shop cafe restaurant grill kitchen hotel express xl plus premium
    prime music pay wallet tablets capsules cream syrup spray
    sapphire rewards uber lyft diet""".split()
)
# A word right after one of these is a thing being ordered, not a person ("a medium margherita").
_DETERMINERS = frozenset(
    """a an the this that these those some any another each every small medium large regular
    extra family personal size""".split()
)
_MAX_NAME_TOKENS = 3
# Verbs whose object is usually a person: "call chase", "text rose at noon".
_CONTACT_VERBS = frozenset("call text message ring phone dial email facetime".split())
# After a contact verb and a given name, one of these (or the end of the clause) closes the name.
_CONTACT_CLOSERS = frozenset("at on and please".split())
# Function words in _STOP that are also given names and, after a contact verb, mostly a person.
_CONTACT_STOP_NAMES = frozenset({"will", "may"})
# Things and people one calls that are not a person's name, though a name list may have them.
_CALLABLE = frozenset(
    """uber lyft taxi cab car ride back home work office mom mum dad mama papa ma pa nana
    grandma grandpa granny baby babe honey sweetie buddy hun restaurant store shop pharmacy
    bank support service help security police ambulance doctor dentist vet reception desk
    hotel airline customer driver courier everyone everybody someone somebody anyone nobody
    again later now soon see else many min man lady guy major manual numbers loan dot in so ok
    an my ha un le na nu mi ta tu ja ka su ima""".split()
)
_CLAUSE_BREAK = re.compile(r"[.,!?;:]")
_SENTENCE_END = re.compile(r"[.!?]\s*$")


def detect(text: str, tokens: list[Token]) -> list[Span]:
    """Find person names among `tokens` of `text`; spans are in original offsets."""
    given = namelists.given_names()
    family = namelists.family_names()
    any_family = namelists.all_family_names()
    cased = text != text.lower()  # some capital letter: tidy text, not lower-case ASR
    lows = [t.low for t in tokens]
    found: list[Span] = []
    i = 0
    n = len(tokens)
    while i < n:
        low = lows[i]
        j = _contact_name(text, tokens, lows, i)
        if j:
            found.append(Span("NAME", tokens[i].start, tokens[j - 1].end))
            i = j
            continue
        if low in _STOP or low in _PRODUCT_HEADS or (not low.isalpha() and "'" not in low):
            i += 1
            continue
        word = text[tokens[i].start : tokens[i].end]
        capital = cased and word[0].isupper() and not word.isupper()
        strong = _trigger(lows, i)
        is_known = low in given or low in family
        start_name = (
            is_known
            or (strong is not None and _common_given_then_family(text, tokens, i, cased))
            or (capital and _common_given_then_family(text, tokens, i, cased))
            or (not cased and _lower_given_then_family(tokens, i))
            or (strong is True and (capital or not cased)
                and (low not in COMMON_WORDS or low in namelists.all_given_names()))
            or (strong is not None and capital)
            or (capital and low in any_family and not _sentence_start(text, tokens, i))
        )
        after_determiner = (
            i > 0 and lows[i - 1] in _DETERMINERS and not capital and low not in any_family
        )
        if (
            not start_name
            or after_determiner
            or (strong is None and i > 0 and lows[i - 1] in _PRODUCT_HEADS)
        ):
            i += 1
            continue
        j = i + 1
        while j < n and j - i < _MAX_NAME_TOKENS and _continues(text, tokens, j, cased):
            j += 1
        if j == i + 1 and not _alone_is_name(text, tokens, i, strong, capital, cased):
            i += 1
            continue
        if strong is not True and j < n and _product_follows(text, tokens, j):
            i = j
            continue
        found.append(Span("NAME", tokens[i].start, tokens[j - 1].end))
        i = j
    return found


def _contact_name(text: str, tokens: list[Token], lows: list[str], i: int) -> int:
    """A given name right after a contact verb, even one that is also a word ("call chase").

    Taken only when the clause ends after it (end of text, punctuation, "at", "on", "and"),
    optionally after a family name ("text will smith at noon"), and when it is not something
    one calls ("call back", "call an uber"). Returns the index after the name, or 0.
    """
    if i == 0 or lows[i - 1] not in _CONTACT_VERBS:
        return 0
    low = lows[i]
    if low in _CALLABLE or low not in namelists.all_given_names():
        return 0
    if low in _STOP and low not in _CONTACT_STOP_NAMES:
        return 0
    if text[tokens[i - 1].end : tokens[i].start] != " ":
        return 0
    j = i + 1
    n = len(tokens)
    if (
        j < n
        and text[tokens[i].end : tokens[j].start] == " "
        and lows[j] not in _STOP
        and lows[j] not in _CALLABLE
        and lows[j] in namelists.all_family_names()
    ):
        j += 1
    if j == n or lows[j] in _CONTACT_CLOSERS:
        return j
    return j if _CLAUSE_BREAK.search(text, tokens[j - 1].end, tokens[j].start) else 0


def _common_given_then_family(text: str, tokens: list[Token], i: int, cased: bool) -> bool:
    """A given name that is also a word, followed by a family name: "Mark Richards"."""
    low = tokens[i].low
    if low not in COMMON_WORDS or i + 1 >= len(tokens):
        return False
    if low not in namelists.all_given_names():
        return False
    nxt = tokens[i + 1]
    if text[tokens[i].end : nxt.start] != " " or nxt.low not in namelists.all_family_names():
        return False
    return not cased or text[nxt.start].isupper()


def _lower_given_then_family(tokens: list[Token], i: int) -> bool:
    """In lower-case text, a given name that is also a word before a plain family name."""
    return (
        i + 1 < len(tokens)
        and tokens[i].low in namelists.all_given_names()
        and tokens[i + 1].low in namelists.family_names()
    )


def _product_follows(text: str, tokens: list[Token], j: int) -> bool:
    return tokens[j].low in _PRODUCT_HEADS and text[tokens[j - 1].end : tokens[j].start] == " "


def _trigger(lows: list[str], i: int) -> bool | None:
    """True after a strong trigger, False after a weak one, None after neither."""
    for size in range(_MAX_TRIGGER, 0, -1):
        if i - size >= 0:
            strong = _TRIGGERS.get(tuple(lows[i - size : i]))
            if strong is not None:
                return strong
    return None


def _continues(text: str, tokens: list[Token], j: int, cased: bool) -> bool:
    """Whether token `j` continues the name before it ("Maria" -> "Maria Lopez")."""
    gap = text[tokens[j - 1].end : tokens[j].start]
    if gap not in (" ", "-"):
        return False
    low = tokens[j].low
    word = text[tokens[j].start : tokens[j].end]
    if low in _PRODUCT_HEADS:
        return False
    if low in _STOP and cased and word[0].isupper() and low in namelists.all_family_names():
        return True  # "Angela May": a capitalised family name that is also a word
    if low in _STOP or low in _PRODUCT_HEADS or not low.isalpha():
        return False
    if cased:
        return word[0].isupper() and (
            low not in COMMON_WORDS or low in namelists.all_family_names()
        )
    return low in namelists.all_family_names() or low in namelists.given_names()


def _alone_is_name(
    text: str, tokens: list[Token], i: int, strong: bool | None, capital: bool, cased: bool
) -> bool:
    """Whether a single name-like token is a name without a family name after it."""
    low = tokens[i].low
    if strong is not None:
        return True
    if low in namelists.given_names():
        # a capitalised given name, or any lower-case one: "is sarah coming"
        return capital or not cased
    return capital and not _sentence_start(text, tokens, i)


def _sentence_start(text: str, tokens: list[Token], i: int) -> bool:
    return i == 0 or _SENTENCE_END.search(text, 0, tokens[i].start) is not None
