"""Person names as people say them: listed, possessive, full, and announced by context.

Evidence, strongest first: a context that announces a person ("email ...", "with ...", "my
friend ...", "did ... send"), a possessive ("mark's email"), a given name followed by a family
name, a given name no English word shares. A token that no list knows and that is no English
word is a name when a context announces one ("send email to enalen"). Places, brands, dishes
and the assistant's own name stay ("new york", "egg foo young", "hey olly"), and so do
performers in a music request ("play michael jackson"), which identify nobody's contact.
"""

import re

from gateway.redaction.detectors import gazetteer, lexicon
from gateway.redaction.normalise import Token
from gateway.redaction.spans import Span

# After these a name is expected, so any word that is not an ordinary word is taken.
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
    monday tuesday wednesday thursday friday saturday sunday his her their our mondays
    tuesdays wednesdays thursdays fridays saturdays sundays weekend weekends iban ssn dob pin
    cvv zip apt suite usd eur gbp still even ever never always already yet really well""".split()
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
    extra family personal size my your our his her their""".split()
)
_MAX_NAME_TOKENS = 3
# Verbs and prepositions whose object is usually a person: "email tom", "a meeting with al".
_CONTACT_VERBS = frozenset(
    """call text message ring phone dial email facetime emailed texted messaged with from
    meet tell ask remind invite named called friend friends contact contacts colleague
    coworker neighbour neighbor cousin send""".split()
)
# After a contact word and a name that is also a word, one of these (or the end) closes the name.
_CONTACT_CLOSERS = frozenset(
    """at on and please about tomorrow today tonight to that saying for in regarding re
    asking telling this next""".split()
)
# Function words in _STOP that are also given names and, after a contact verb, mostly a person.
_CONTACT_STOP_NAMES = frozenset({"will", "may", "june", "july", "april", "august"})
# Things and people one calls that are not a person's name, though a name list may have them.
_CALLABLE = frozenset(
    """uber lyft taxi cab car ride back home work office mom mum dad mama papa ma pa nana
    grandma grandpa granny baby babe honey sweetie buddy hun restaurant store shop pharmacy
    bank support service help security police ambulance doctor dentist vet reception desk
    hotel airline customer driver courier everyone everybody someone somebody anyone nobody
    again later now soon see else many min man lady guy major manual numbers loan dot in so ok
    an my ha un le na nu mi ta tu ja ka su ima me us them him her all both each you
    boss team family friend friends parents kids children wife husband son daughter brother
    sister mother father uncle aunt grandmother grandfather colleague colleagues""".split()
)
# A person's communication verbs: "did mark post anything", "when casey emails me".
_SAYS = frozenset(
    """post posted posts send sent sends email emailed emails write wrote writes text texted
    texts call called calls reply replied replies message messaged messages tweet tweeted
    tweets share shared shares say said says ask asked asks mention mentioned""".split()
)
_SAYS_BEFORE = frozenset("did does has have had when if whether that".split())
# Words that own things but are not people ("today's weather", "my brother's birthday").
_NOT_OWNERS = frozenset(
    """today tomorrow yesterday tonight week weekend month year years day night morning evening
    mother father mom mum dad brother sister wife husband son daughter friend friends boss uncle
    aunt cousin grandma grandpa baby kid kids child children people everyone everybody someone
    somebody one world country city nation team company store women men man woman girl boy
    it that this who what there here next last new""".split()
)
# Words that make "to", "for", "about" announce a person: "send an email to X".
_MESSAGING = frozenset(
    """email mail emails message messages text texts reply respond note reminder remind
    meeting meetings appointment invite invitation birthday lunch dinner contact contacts
    calendar""".split()
)
_OWNER_DETERMINERS = frozenset("a an the my your our his her their this these those".split())
# Requests about performers and authors, not contacts: their names stay ("play adele").
_MUSIC = frozenset(
    """play playing played song songs music album albums singer band artist track tracks
    playlist concert concerts tune tunes lyrics radio hear audiobook audiobooks audio chapter
    novel author""".split()
)
_CLAUSE_BREAK = re.compile(r"[.,!?;:]")
_SENTENCE_END = re.compile(r"[.!?]\s*$")


class _Line:
    """One text's tokens with what the lists say about each of them."""

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.lows = [t.low for t in tokens]
        self.bases = [_base(low) for low in self.lows]
        self.n = len(tokens)
        self.cased = _is_cased(text)
        self.blocked = _blocked(self.lows, self.bases)
        for k, token in enumerate(tokens):
            if text[token.end : token.end + 1] == "_" or text[token.start - 1 : token.start] == "_":
                self.blocked[k] = True  # inside a placeholder: "[NAME_1]"
        free = [low for low, b in zip(self.lows, self.blocked, strict=True) if not b]
        self.music = any(low in _MUSIC for low in free) and not any(
            low in _PERSON_VERBS or low in _MESSAGING for low in free
        )

    def gap(self, i: int) -> str:
        """The text between token i-1 and token i."""
        return self.text[self.tokens[i - 1].end : self.tokens[i].start]

    def word(self, i: int) -> str:
        return self.text[self.tokens[i].start : self.tokens[i].end]


def detect(text: str, tokens: list[Token]) -> list[Span]:
    """Find person names among `tokens` of `text`; spans are in original offsets."""
    line = _Line(text, tokens)
    if line.music:
        ranges = _contacted(line)  # "play adele": performers stay, "text adele" does not
    else:
        ranges = _listed(line) + _announced(line) + _possessives(line) + _proper_names(line)
    ranges = _widen(line, ranges)
    return [Span("NAME", tokens[i].start, tokens[j - 1].end) for i, j in ranges]


def _base(low: str) -> str:
    """The form the lists know: "mark's" -> "mark", "o'neal" -> "oneal"."""
    if low.endswith("'s"):
        return low[:-2]
    if _IRISH_OR_ITALIAN.fullmatch(low):
        return low.replace("'", "")
    return low


_IRISH_OR_ITALIAN = re.compile(r"[od]'[a-z]{2,}")  # "o'neal", "o'brien", "d'angelo"


def _is_cased(text: str) -> bool:
    """Tidy text (capitalised start or punctuation), not lower-case ASR with a stray capital."""
    if text == text.lower():
        return False
    first = next((ch for ch in text if ch.isalpha()), "")
    return first.isupper() or _CLAUSE_BREAK.search(text) is not None


def _blocked(lows: list[str], bases: list[str]) -> list[bool]:
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
                and not gazetteer.is_place((lows[i],))  # "houston street": after a city
            )
        ):
            # "wayne county", "houston street": a place named after someone (not "michael lane")
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
        if _person_despite_place(lows, bases, i, end, kind):
            i += 1
            continue
        for k in range(i, end):
            blocked[k] = True
        i = end
    return blocked


def _person_despite_place(lows: list[str], bases: list[str], i: int, end: int, kind: str) -> bool:
    """A one-word place that is also a name, read as a person unless a place is meant.

    Cities share names with people ("alvarado", "chelsea", "david"): such a word is a place
    only after a place preposition ("weather in sydney", "trains to chester" with no message
    around), never in "paris hilton" or "email sydney".
    """
    if kind == "thing" or end != i + 1:
        return False
    low = bases[i]
    if low not in lexicon.given() and low not in lexicon.family():
        return False
    if end < len(lows) and not lexicon.is_word(bases[end]) and (
        bases[end] in lexicon.family() or _clearly_name(bases[end])
    ):
        return True  # "paris hilton", "arnold schwarzenegger"
    prev = lows[i - 1] if i > 0 else ""
    if low in lexicon.family() and prev not in _STOP and (
        prev in lexicon.given() or lexicon.proper_margins().get(prev, 0.0) >= _CLEAR_MARGIN
    ):
        return True  # "jennifer lopez", "barack obama"
    if prev in _PERSON_VERBS or _trigger(lows, i) is True or _person_of_words(lows, i):
        return True  # "email sydney", "my name is jordan", "the wife of obama"
    if prev == "for" and low in lexicon.plain_given():
        return True  # "a ride for chad"
    if kind == "region" or prev in _PLACE_BEFORE or prev in gazetteer.PLACE_MODIFIERS:
        return False
    if prev in _PLACE_OR_PERSON_BEFORE:
        return any(w in _PERSON_CONTEXT for w in lows)
    return low in lexicon.plain_given()


def _person_of_words(lows: list[str], i: int) -> bool:
    return i > 1 and lows[i - 1] == "of" and lows[i - 2] in _PERSON_OF


# "the wife of obama", "the story of ramanujan": what "of" a person is said of.
_PERSON_OF = frozenset(
    """wife husband son daughter mother father brother sister family story life biography
    birthday age death movies films books career photos pictures quotes children parents
    friend friends girlfriend boyfriend""".split()
)


# Contact verbs proper: their object is a person, never a place.
_PERSON_VERBS = frozenset(
    "call text message ring phone dial email facetime tell ask remind invite meet".split()
)
# Words after which a city's name is the city ("in sydney"), or is unless messages are about.
_PLACE_BEFORE = frozenset(
    "in near around visit visiting toward towards via into outside inside across city town"
    .split()
)
_PLACE_OR_PERSON_BEFORE = frozenset("to from at and between with of".split())
# Words that make "to madison" or "from chelsea" a person rather than a city.
_PERSON_CONTEXT = _MESSAGING | _PERSON_VERBS | frozenset("send pay give owe".split())


# ---------------------------------------------------------------- names the lists know


def _listed(line: _Line) -> list[tuple[int, int]]:
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
        if low in _STOP or low in _PRODUCT_HEADS or low in _CALLABLE or not low.isalpha():
            i += 1
            continue
        word = line.word(i)
        capital = cased and word[0].isupper() and not word.isupper()
        strong = _trigger(lows, i)
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
            or (capital and low in family_all and not _sentence_start(text, tokens, i))
        )
        after_determiner = (
            i > 0 and lows[i - 1] in _DETERMINERS and not capital and low not in family_all
        )
        if (
            not start_name
            or after_determiner
            or (strong is None and i > 0 and lows[i - 1] in _PRODUCT_HEADS)
            or (strong is None and line.music and not capital)
        ):
            i += 1
            continue
        j = i + 1
        while j < n and j - i < _MAX_NAME_TOKENS and _continues(line, j):
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


def _contact_name(line: _Line, i: int) -> int:
    """A given name right after a contact word, even one that is also a word ("call chase").

    Taken only when the clause ends after it (end of text, punctuation, "at", "on", "about"),
    optionally after a family name ("text will smith at noon"), and when it is not something
    one calls ("call back", "call an uber"). Returns the index after the name, or 0.
    """
    lows = line.lows
    if i == 0 or lows[i - 1] not in _CONTACT_VERBS:
        return 0
    low = lows[i]
    if low in _CALLABLE or not lexicon.common_given(low):
        return 0
    if low in _STOP and low not in _CONTACT_STOP_NAMES:
        return 0
    if line.gap(i) != " ":
        return 0
    j = i + 1
    n = line.n
    if (
        j < n
        and line.gap(j) == " "
        and lows[j] not in _STOP
        and lows[j] not in _CALLABLE
        and not line.blocked[j]
        and lexicon.common_family(lows[j])
    ):
        j += 1
    if j == n or lows[j] in _CONTACT_CLOSERS:
        return j
    return j if _CLAUSE_BREAK.search(line.text, line.tokens[j - 1].end, line.tokens[j].start) else 0


def _common_given_then_family(line: _Line, i: int) -> bool:
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


def _lower_given_then_family(line: _Line, i: int) -> bool:
    """In lower-case text, a given name before a family name that is not mostly a word."""
    return (
        i + 1 < line.n
        and line.lows[i] in lexicon.given()
        and line.bases[i + 1] in lexicon.plain_family()
        and not line.blocked[i + 1]
        and line.lows[i] not in _STOP
        and line.lows[i + 1] not in _STOP
    )


def _product_follows(line: _Line, j: int) -> bool:
    return line.lows[j] in _PRODUCT_HEADS and line.gap(j) == " "


def _trigger(lows: list[str], i: int) -> bool | None:
    """True after a strong trigger, False after a weak one, None after neither."""
    for size in range(_MAX_TRIGGER, 0, -1):
        if i - size >= 0:
            strong = _TRIGGERS.get(tuple(lows[i - size : i]))
            if strong is not None:
                return strong
    return None


def _continues(line: _Line, j: int) -> bool:
    """Whether token `j` continues the name before it ("Maria" -> "Maria Lopez")."""
    if line.gap(j) not in (" ", "-") or line.blocked[j]:
        return False
    low = line.lows[j]
    base = line.bases[j]
    word = line.word(j)
    family_all = lexicon.family()
    if low in _PRODUCT_HEADS:
        return False
    if line.cased and low in _STOP and word[0].isupper() and low in family_all:
        return True  # "Angela May": a capitalised family name that is also a word
    if low in _STOP or not base.isalpha():
        return False
    if line.cased:
        return word[0].isupper() and (low not in lexicon.word_like() or low in family_all)
    if base in _SAYS:
        return False
    return lexicon.common_family(base) or base in lexicon.plain_given() or _namelike(base)


def _namelike(low: str) -> bool:
    """A token that reads as part of a name: a proper noun or unknown, and no ordinary word."""
    if low in _STOP or len(low) < 2 or not low.isalpha():
        return False
    return (lexicon.is_proper(low) or lexicon.is_unknown(low)) and not lexicon.is_word(low)


def _alone_is_name(line: _Line, i: int, strong: bool | None, capital: bool) -> bool:
    """Whether a single name-like token is a name without a family name after it."""
    low = line.lows[i]
    if strong is not None:
        return True
    if low in lexicon.plain_given():
        # a capitalised given name, or any lower-case one: "is sarah coming"
        return capital or not line.cased
    return capital and not _sentence_start(line.text, line.tokens, i)


def _sentence_start(text: str, tokens: list[Token], i: int) -> bool:
    return i == 0 or _SENTENCE_END.search(text, 0, tokens[i].start) is not None


# ---------------------------------------------------------------- names context announces


def _announced(line: _Line) -> list[tuple[int, int]]:
    """Names a context announces, whether or not a list knows them.

    After a contact word ("email enalen", "a meeting with reveca", "my friend rohit") any
    token that is no ordinary English word is a name; before a person's verb ("did mark
    post", "when casey emails me") so is any given name, even one that is also a word.
    """
    lows, bases = line.lows, line.bases
    found: list[tuple[int, int]] = []
    for i in range(line.n):
        if line.blocked[i] or lows[i] in _CALLABLE:
            continue
        if lows[i] in _STOP and lows[i] not in _CONTACT_STOP_NAMES:
            continue
        base = bases[i]
        if i > 0 and _announces(line, i) and (
            _namelike(base)
            or base in lexicon.plain_given()
            or (lexicon.common_given(base) and _clause_ends(line, i + 1))
        ):
            found.append((i, i + 1))
        elif _says_after(line, i) and (
            base in lexicon.given() or base in _CONTACT_STOP_NAMES or _namelike(base)
        ):
            found.append((i, i + 1))
        elif (
            i + 1 < line.n
            and lows[i + 1] in _OWNED_EVENTS
            and lows[i] not in _STOP
            and (base not in lexicon.english() or lexicon.common_given(base))
            and (i == 0 or lows[i - 1] not in _OWNER_DETERMINERS)
        ):
            found.append((i, i + 1))  # "add bola birthday", an unmarked possessive
    return found


# A person's own occasions: the word before one is its owner, possessive or not.
_OWNED_EVENTS = frozenset(
    "birthday bday anniversary wedding retirement graduation funeral christening".split()
)
# Words that announce a person when a message, meeting or reminder is being talked about.
_ANNOUNCE_WITH_MESSAGING = frozenset("to from with for and about between".split())


def _contacted(line: _Line) -> list[tuple[int, int]]:
    """Only names right after a contact verb (for requests about performers)."""
    return [
        (i, i + 1)
        for i in range(1, line.n)
        if line.lows[i - 1] in _PERSON_VERBS
        and not line.blocked[i]
        and (lexicon.common_given(line.bases[i]) or _namelike(line.bases[i]))
    ]


def _announces(line: _Line, i: int) -> bool:
    """Whether the words before token `i` announce a person."""
    prev = line.lows[i - 1]
    if prev in _CONTACT_VERBS and prev not in _ANNOUNCE_WITH_MESSAGING:
        return True
    if prev == "of":
        return _person_of(line, i)
    if prev in _ANNOUNCE_WITH_MESSAGING:
        # "send an email to X", "emails from X", "lunch with X", "a reminder for X"
        window = line.lows[max(0, i - 5) : i - 1]
        return any(w in _MESSAGING for w in window)
    return False


def _clause_ends(line: _Line, j: int) -> bool:
    """Whether a name ending before token `j` ends its clause ("for bill that ...")."""
    return (
        j >= line.n
        or line.lows[j] in _CONTACT_CLOSERS
        or _CLAUSE_BREAK.search(line.text, line.tokens[j - 1].end, line.tokens[j].start)
        is not None
    )


def _says_after(line: _Line, i: int) -> bool:
    """Whether token `i` is the subject of a communication verb: "did mark post anything"."""
    j = i + 1
    if j < line.n and line.lows[j] in ("has", "had", "have", "just", "ever", "already"):
        j += 1
    if j >= line.n or line.lows[j] not in _SAYS:
        return False
    return i == 0 or line.lows[i - 1] in _SAYS_BEFORE


# ---------------------------------------------------------------- proper nouns


def _proper_names(line: _Line) -> list[tuple[int, int]]:
    """Names no context announces but the words give away: "barack obama", "who is obama".

    A run of two or more name-like tokens (proper nouns, listed names, unknown tokens) with at
    least one clearly a name, or one listed name that is mostly written capitalised.
    """
    found: list[tuple[int, int]] = []
    i = 0
    while i < line.n:
        j = i
        while j < line.n and j - i < _MAX_NAME_TOKENS and _run_token(line, j):
            j += 1
        if j - i >= 2 and any(_clearly_name(line.bases[k]) for k in range(i, j)):
            found.append((i, j))
        elif j - i == 1 and _clearly_name(line.bases[i]) and (
            line.bases[i] in lexicon.family() or _person_of(line, i)
        ):
            found.append((i, j))
        i = max(j, i + 1)
    return found


_CLEAR_MARGIN = 2.0  # e^2: written capitalised over seven times as often as not


def _run_token(line: _Line, k: int) -> bool:
    low, base = line.lows[k], line.bases[k]
    if line.blocked[k] or low in _STOP or low in _CALLABLE or low in _SAYS:
        return False
    if k > 0 and line.gap(k) != " " and line.lows[k - 1] not in _STOP:
        return False
    return _namelike(base) or base in lexicon.plain_given() or base in lexicon.plain_family()


def _clearly_name(base: str) -> bool:
    return lexicon.proper_margins().get(base, 0.0) >= _CLEAR_MARGIN


def _person_of(line: _Line, i: int) -> bool:
    return _person_of_words(line.lows, i)


# ---------------------------------------------------------------- possessives


def _possessives(line: _Line) -> list[tuple[int, int]]:
    """Names in the possessive: "reply to mark's email", "remove finlee's alarm"."""
    found: list[tuple[int, int]] = []
    for i in range(line.n):
        low = line.lows[i]
        if not low.endswith("'s") or line.blocked[i]:
            continue
        base = line.bases[i]
        if base in _NOT_OWNERS or base in _STOP or not base.isalpha() or len(base) < 2:
            continue
        if i > 0 and line.lows[i - 1] in _OWNER_DETERMINERS:
            continue  # "the bill's due date"
        if i + 1 < line.n and line.lows[i + 1] in gazetteer.PLACE_HEADS:
            continue  # "moe's diner", "king's park"
        if lexicon.is_word(base):
            # "mark's email", not "one hour's time" or "queen's barcelona"
            if lexicon.common_given(base) or (
                base in lexicon.plain_family() or lexicon.common_family(base)
            ) and i > 0 and line.lows[i - 1] in _CONTACT_VERBS | _MESSAGING:
                found.append((i, i + 1))
        elif base in lexicon.given() or base in lexicon.family() or _namelike(base):
            found.append((i, i + 1))
    return found


# ---------------------------------------------------------------- both words of a name


def _widen(line: _Line, ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping names and stretch each over the rest of a full name.

    "arnold schwarzenegger" is one name even when only "arnold" was found: the next token
    joins when it is a family name, a proper noun or an unknown token, and the previous one
    when it is a given name ("dolly parton" found from "parton").
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
        while j < line.n and j - i < _MAX_NAME_TOKENS and _joins_after(line, j):
            if j - i >= 2 and lexicon.is_word(line.bases[j]):
                break  # a third word is no part of the name: "paris hilton still"
            j += 1
        while i > 0 and j - i < _MAX_NAME_TOKENS and _joins_before(line, i - 1):
            i -= 1
        if widened and i <= widened[-1][1] - 1:
            widened[-1] = (widened[-1][0], max(j, widened[-1][1]))
        else:
            widened.append((i, j))
    return widened


def _joins_after(line: _Line, j: int) -> bool:
    if line.gap(j) not in (" ", "-") or line.blocked[j] or line.lows[j] in _STOP:
        return False
    if line.lows[j - 1].endswith("'s"):
        return False  # "mark's email": the possessive closes the name
    base = line.bases[j]
    if line.cased:
        word = line.word(j)
        return word[0].isupper() and not word.isupper() and not lexicon.is_word(base)
    if base in _SAYS or base in _CALLABLE:
        return False
    if j - 2 >= 0 and lexicon.is_word(line.bases[j - 1]) and lexicon.is_word(base):
        return False  # two words in a row are no name's end ("alan partridge book")
    if (
        line.bases[j - 1] in lexicon.plain_given()
        and lexicon.family_rank(base) <= _AFTER_GIVEN_RANK
        and lexicon.zipf(base) < _AFTER_GIVEN_ZIPF
    ):
        return True  # "tom cruise": rarer family names that are words, after a clear given name
    return lexicon.common_family(base) or _namelike(base)


_AFTER_GIVEN_RANK = 10000
_AFTER_GIVEN_ZIPF = 5.0  # but no everyday word: "giuseppe still", "modi win"


def _joins_before(line: _Line, k: int) -> bool:
    low = line.lows[k]
    if line.gap(k + 1) != " " or line.blocked[k] or low in _STOP or low in _CALLABLE:
        return False
    if low.endswith("'s") or not low.isalpha() or _trigger(line.lows, k + 1) is True:
        return False
    if line.lows[k + 1] not in lexicon.family() and not _namelike(line.bases[k + 1]):
        return False
    if line.cased:
        return line.word(k)[0].isupper() and low in lexicon.given()
    return low in lexicon.given() and (low in lexicon.plain_given() or not _triggers_any(low))


def _triggers_any(low: str) -> bool:
    return (low,) in _TRIGGERS or low in _CONTACT_VERBS
