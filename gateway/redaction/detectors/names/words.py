"""Word sets and word tests the name rules share."""

import re

from gateway.redaction.detectors import lexicon
from gateway.redaction.normalise import Token

# After these a name is expected, so any word that is not an ordinary word is taken.
STRONG_TRIGGERS: tuple[tuple[str, ...], ...] = (
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
WEAK_TRIGGERS: tuple[tuple[str, ...], ...] = (
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
TRIGGERS: dict[tuple[str, ...], bool] = {t: True for t in STRONG_TRIGGERS} | {
    t: False for t in WEAK_TRIGGERS
}
MAX_TRIGGER = max(len(t) for t in TRIGGERS)
# Words that never continue a name, even when a census list has them ("to", "the", "please").
STOP = frozenset(
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
PRODUCT_HEADS = frozenset(
    """pizza pizzas salad latte lattes coffee coke cola soda tea card burger burgers sandwich
    soup fries wings taco tacos bowl roll rolls cake pie bagel muffin bank airlines airways
    pharmacy store shop cafe restaurant grill kitchen hotel express xl plus premium
    prime music pay wallet tablets capsules cream syrup spray
    sapphire rewards uber lyft diet""".split()
)
# A word right after one of these is a thing being ordered, not a person ("a medium margherita").
DETERMINERS = frozenset(
    """a an the this that these those some any another each every small medium large regular
    extra family personal size my your our his her their""".split()
)
MAX_NAME_TOKENS = 3
# Verbs and prepositions whose object is usually a person: "email tom", "a meeting with al".
CONTACT_VERBS = frozenset(
    """call text message ring phone dial email facetime emailed texted messaged with from
    meet tell ask remind invite named called friend friends contact contacts colleague
    coworker neighbour neighbor cousin send""".split()
)
# After a contact word and a name that is also a word, one of these (or the end) closes the name.
CONTACT_CLOSERS = frozenset(
    """at on and please about tomorrow today tonight to that saying for in regarding re
    asking telling this next""".split()
)
# Function words in STOP that are also given names and, after a contact verb, mostly a person.
CONTACT_STOP_NAMES = frozenset({"will", "may", "june", "july", "april", "august"})
# Things and people one calls that are not a person's name, though a name list may have them.
CALLABLE = frozenset(
    """uber lyft taxi cab car ride back home work office mom mum dad mama papa ma pa nana
    grandma grandpa granny baby babe honey sweetie buddy hun restaurant store shop pharmacy
    bank support service help security police ambulance doctor dentist vet reception desk
    hotel airline customer driver courier everyone everybody someone somebody anyone nobody
    again later now soon see else many min man lady guy major manual numbers loan dot in so ok
    an my ha un le na nu mi ta tu ja ka su ima me us them him her all both each you
    boss team family friend friends parents kids children wife husband son daughter brother
    sister mother father uncle aunt grandmother grandfather colleague colleagues""".split()
)
# A person's communication verbs: "did mark reply anything", "when casey emails me".
SAYS = frozenset(
    """post posted posts send sent sends email emailed emails write wrote writes text texted
    texts call called calls reply replied replies message messaged messages tweet tweeted
    tweets share shared shares say said says ask asked asks mention mentioned""".split()
)
SAYS_BEFORE = frozenset("did does has have had when if whether that".split())
# Words that own things but are not people ("today's weather", "my brother's birthday").
NOT_OWNERS = frozenset(
    """today tomorrow yesterday tonight week weekend month year years day night morning evening
    mother father mom mum dad brother sister wife husband son daughter friend friends boss uncle
    aunt cousin grandma grandpa baby kid kids child children people everyone everybody someone
    somebody one world country city nation team company store women men man woman girl boy
    it that this who what there here next last new""".split()
)
# Words that make "to", "for", "about" announce a person: "send an email to X".
MESSAGING = frozenset(
    """email mail emails message messages text texts reply respond note reminder remind
    meeting meetings appointment invite invitation birthday lunch dinner contact contacts
    calendar""".split()
)
OWNER_DETERMINERS = frozenset("a an the my your our his her their this these those".split())
# Requests about performers and authors, not contacts: their names stay ("play adele").
MUSIC = frozenset(
    """play playing played song songs music album albums singer band artist track tracks
    playlist concert concerts tune tunes lyrics radio hear audiobook audiobooks audio chapter
    novel author""".split()
)
CLAUSE_BREAK = re.compile(r"[.,!?;:]")
SENTENCE_END = re.compile(r"[.!?]\s*$")
IRISH_OR_ITALIAN = re.compile(r"[od]'[a-z]{2,}")  # "o'neal", "o'brien", "d'angelo"
# "the wife of macron", "the story of galileo": what "of" a person is said of.
PERSON_OF = frozenset(
    """wife husband son daughter mother father brother sister family story life biography
    birthday age death movies films books career photos pictures quotes children parents
    friend friends girlfriend boyfriend""".split()
)
# Contact verbs proper: their object is a person, never a place.
PERSON_VERBS = frozenset(
    "call text message ring phone dial email facetime tell ask remind invite meet".split()
)
# Words after which a city's name is the city ("in sydney"), or is unless messages are about.
PLACE_BEFORE = frozenset(
    "in near around visit visiting toward towards via into outside inside across city town".split()
)
PLACE_OR_PERSON_BEFORE = frozenset("to from at and between with of".split())
# Words that make "to madison" or "from chelsea" a person rather than a city.
PERSON_CONTEXT = MESSAGING | PERSON_VERBS | frozenset("send pay give owe".split())
# A person's own occasions: the word before one is its owner, possessive or not.
OWNED_EVENTS = frozenset(
    "birthday bday anniversary wedding retirement graduation funeral christening".split()
)
# Words that announce a person when a message, meeting or reminder is being talked about.
ANNOUNCE_WITH_MESSAGING = frozenset("to from with for and about between".split())
CLEAR_MARGIN = 2.0  # e^2: written capitalised over seven times as often as not
AFTER_GIVEN_RANK = 10000
AFTER_GIVEN_ZIPF = 5.0  # but no everyday word: "giuseppe still", "lina win"


def base_form(low: str) -> str:
    """The form the lists know: "mark's" -> "mark", "o'neal" -> "oneal"."""
    if low.endswith("'s"):
        return low[:-2]
    if IRISH_OR_ITALIAN.fullmatch(low):
        return low.replace("'", "")
    return low


def is_cased(text: str) -> bool:
    """Tidy text (capitalised start or punctuation), not lower-case ASR with a stray capital."""
    if text == text.lower():
        return False
    first = next((ch for ch in text if ch.isalpha()), "")
    return first.isupper() or CLAUSE_BREAK.search(text) is not None


def trigger(lows: list[str], i: int) -> bool | None:
    """True after a strong trigger, False after a weak one, None after neither."""
    for size in range(MAX_TRIGGER, 0, -1):
        if i - size >= 0:
            strong = TRIGGERS.get(tuple(lows[i - size : i]))
            if strong is not None:
                return strong
    return None


def namelike(low: str) -> bool:
    """A token that reads as part of a name: a proper noun or unknown, and no ordinary word."""
    if low in STOP or len(low) < 2 or not low.isalpha():
        return False
    return (lexicon.is_proper(low) or lexicon.is_unknown(low)) and not lexicon.is_word(low)


def clearly_name(base: str) -> bool:
    return lexicon.proper_margins().get(base, 0.0) >= CLEAR_MARGIN


def person_of_words(lows: list[str], i: int) -> bool:
    return i > 1 and lows[i - 1] == "of" and lows[i - 2] in PERSON_OF


def sentence_start(text: str, tokens: list[Token], i: int) -> bool:
    return i == 0 or SENTENCE_END.search(text, 0, tokens[i].start) is not None


def triggers_any(low: str) -> bool:
    return (low,) in TRIGGERS or low in CONTACT_VERBS
