"""A seeded, labelled corpus of voice-assistant lines in three styles, and its scoring.

Every line carries gold spans by construction: the personal data that must go, with the parts
whose survival counts as a leak, and the spans that must stay (quantities, prices, times,
order references, product names). Used by tests/redaction and bench/redaction.py.
"""

import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from faker import Faker

STYLES = ("written", "asr", "spoken")
STRUCTURED = ("PHONE", "EMAIL", "CARD", "SSN", "IBAN", "IP", "DOB", "ADDRESS")

_DIGIT_WORDS = "zero one two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORDINALS = (
    "_ first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"
).split()
_MONTHS = (
    "January February March April May June July August September October November December"
).split()


@dataclass
class Gold:
    """One entity that must be redacted: its type, span, and the ranges whose survival is a leak."""

    type: str
    start: int
    end: int
    key: list[tuple[int, int]]


@dataclass
class Line:
    """One labelled line: text, style, entities to redact and spans to keep."""

    text: str
    style: str
    gold: list[Gold] = field(default_factory=list)
    keep: list[tuple[int, int]] = field(default_factory=list)

    @property
    def pii_free(self) -> bool:
        return not self.gold


# ---------------------------------------------------------------- spoken renderings


def cardinal(n: int) -> str:
    """English words for 0 <= n < 10000, the way people say house numbers and amounts."""
    if n < 10:
        return _DIGIT_WORDS[n]
    if n < 20:
        return _TEENS[n - 10]
    if n < 100:
        tens, unit = divmod(n, 10)
        return _TENS[tens] + ("" if unit == 0 else " " + _DIGIT_WORDS[unit])
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_DIGIT_WORDS[hundreds]} hundred" + ("" if rest == 0 else " " + cardinal(rest))
    thousands, rest = divmod(n, 1000)
    return f"{cardinal(thousands)} thousand" + ("" if rest == 0 else " " + cardinal(rest))


def pairs(n: int) -> str:
    """A four-digit number said in pairs, like a year: 1985 -> "nineteen eighty five"."""
    high, low = divmod(n, 100)
    if low == 0:
        return f"{cardinal(high)} hundred"
    if low < 10:
        return f"{cardinal(high)} oh {_DIGIT_WORDS[low]}"
    return f"{cardinal(high)} {cardinal(low)}"


def digits_spoken(digits: str, rng: random.Random, groups: Iterable[int] = ()) -> str:
    """Digit by digit, with "oh" or "zero", sometimes "double", and pauses between groups."""
    sizes = list(groups) or [len(digits)]
    out: list[str] = []
    pos = 0
    for g, size in enumerate(sizes):
        chunk = digits[pos : pos + size]
        pos += size
        words: list[str] = []
        k = 0
        while k < len(chunk):
            d = chunk[k]
            word = rng.choice(("oh", "zero")) if d == "0" else _DIGIT_WORDS[int(d)]
            if k + 1 < len(chunk) and chunk[k + 1] == d and rng.random() < 0.3:
                words.append(f"double {word}")
                k += 2
                continue
            words.append(word)
            k += 1
        out.append(" ".join(words))
        if g < len(sizes) - 1:
            out.append(", " if rng.random() < 0.3 else " ")
    return "".join(out)


# ---------------------------------------------------------------- entity values


@dataclass
class Rendered:
    """A value as it appears in a line, with the sub-ranges whose survival is a leak."""

    text: str
    key: list[tuple[int, int]] | None = None  # None: the whole value


class Values:
    """Faker-backed values of every entity type, rendered in each style."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)
        self.fake_de = Faker("de_DE")
        self.fake_de.seed_instance(seed + 1)
        self.fake_gb = Faker("en_GB")
        self.fake_gb.seed_instance(seed + 2)

    def render(self, kind: str, style: str) -> Rendered:
        method: Callable[[str], Rendered] = getattr(self, "_" + kind.lower())
        return method(style)

    def _name(self, style: str) -> Rendered:
        parts = [self.fake.first_name()]
        if self.rng.random() < 0.75:
            parts.append(self.fake.last_name())
        text = " ".join(parts)
        return Rendered(text if style == "written" else text.lower(), _word_ranges(text))

    def _phone(self, style: str) -> Rendered:
        digits = str(self.rng.randint(2, 9)) + "".join(
            str(self.rng.randint(0, 9)) for _ in range(9)
        )
        a, b, c = digits[:3], digits[3:6], digits[6:]
        if style == "written":
            fmt = self.rng.choice(
                ("({}) {}-{}", "{}-{}-{}", "{}.{}.{}", "+1 {} {} {}", "1-{}-{}-{}")
            )
            return Rendered(fmt.format(a, b, c))
        if style == "asr":
            return Rendered(f"{a} {b} {c}")
        return Rendered(digits_spoken(digits, self.rng, (3, 3, 4)))

    def _email(self, style: str) -> Rendered:
        address = self.rng.choice((self.fake.free_email, self.fake.email))().lower()
        local, domain = address.split("@")
        if style != "spoken":
            return Rendered(address, [(0, len(local))])
        spoken_local = _spell_local(local, self.rng)
        spoken_domain = domain.replace(".", " dot ")
        text = f"{spoken_local} at {spoken_domain}"
        return Rendered(text, [(0, len(spoken_local))])

    def _card(self, style: str) -> Rendered:
        card_type = self.rng.choice(("visa16", "mastercard", "discover", "amex"))
        digits = self.fake.credit_card_number(card_type=card_type)
        groups = (4, 6, 5) if len(digits) == 15 else (4,) * (len(digits) // 4)
        chunks = _chunks(digits, groups)
        if style == "written":
            return Rendered(self.rng.choice((" ", "-", "")).join(chunks))
        if style == "asr":
            return Rendered(" ".join(chunks))
        return Rendered(digits_spoken(digits, self.rng, groups))

    def _ssn(self, style: str) -> Rendered:
        ssn = self.fake.ssn()
        digits = ssn.replace("-", "")
        if style == "written":
            return Rendered(ssn)
        if style == "asr":
            return Rendered(" ".join(_chunks(digits, (3, 2, 4))))
        return Rendered(digits_spoken(digits, self.rng, (3, 2, 4)))

    def _iban(self, style: str) -> Rendered:
        iban = self.rng.choice((self.fake_de, self.fake_gb)).iban()
        grouped = " ".join(iban[k : k + 4] for k in range(0, len(iban), 4))
        if style == "written":
            return Rendered(grouped)
        if style == "asr":
            return Rendered(grouped.lower())
        words = [_DIGIT_WORDS[int(ch)] if ch.isdigit() else ch.lower() for ch in iban]
        return Rendered(" ".join(words))

    def _ip(self, style: str) -> Rendered:
        ip = self.fake.ipv4_public()
        if style != "spoken":
            return Rendered(ip)
        return Rendered(" dot ".join(digits_spoken(part, self.rng) for part in ip.split(".")))

    def _dob(self, style: str) -> Rendered:
        date = self.fake.date_of_birth(minimum_age=18, maximum_age=90)
        month = _MONTHS[date.month - 1]
        if style == "written":
            fmt = self.rng.choice(("long", "us", "iso"))
            if fmt == "long":
                return Rendered(f"{month} {date.day}, {date.year}")
            if fmt == "us":
                return Rendered(f"{date.month:02d}/{date.day:02d}/{date.year}")
            return Rendered(date.isoformat())
        if style == "asr":
            return Rendered(f"{month.lower()} {date.day} {date.year}")
        day = _ORDINALS[date.day] if date.day <= 20 else _ordinal(date.day)
        return Rendered(f"{month.lower()} {day} {pairs(date.year)}")

    def _address(self, style: str) -> Rendered:
        number = int(self.fake.building_number())
        street = self.fake.street_name()
        unit = self.fake.secondary_address() if self.rng.random() < 0.4 else ""
        tail = ""
        if self.rng.random() < 0.3:
            tail = f"{self.fake.city()}, {self.fake.state_abbr()} {self.fake.postcode()}"
        if style == "spoken":
            said = self.rng.choice((cardinal, pairs if 1000 <= number < 10000 else cardinal))
            head = said(number) if self.rng.random() < 0.6 else digits_spoken(str(number), self.rng)
        else:
            head = str(number)
        street_words = street.split()[:-1]
        text = f"{head} {street}"
        key = [(0, len(head))]
        pos = len(head) + 1
        for word in street_words:
            key.append((pos, pos + len(word)))
            pos += len(word) + 1
        if unit:
            kind, num = unit.split()
            if style == "spoken":
                text += f" {'apartment' if kind.startswith('Apt') else 'suite'} "
                text += digits_spoken(num, self.rng)
            else:
                text += (", " if style == "written" else " ") + unit
        if tail:
            city_state, zipcode = tail.rsplit(" ", 1)
            zip_text = digits_spoken(zipcode, self.rng) if style == "spoken" else zipcode
            if style == "written":
                text += f", {city_state} {zip_text}"
            else:
                text += " " + city_state.replace(",", "") + " " + zip_text
        if style != "written":
            text = text.lower().replace(".", "")
        return Rendered(text, key)


def _ordinal(day: int) -> str:
    tens, unit = divmod(day, 10)
    if unit == 0:
        return {2: "twentieth", 3: "thirtieth"}[tens]
    return f"{_TENS[tens]} {_ORDINALS[unit]}"


def _chunks(digits: str, sizes: Iterable[int]) -> list[str]:
    out, pos = [], 0
    for size in sizes:
        out.append(digits[pos : pos + size])
        pos += size
    return out


def _word_ranges(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]


def _spell_local(local: str, rng: random.Random) -> str:
    out: list[str] = []
    for piece in re.findall(r"[a-z]+|\d+|[._-]", local):
        if piece == ".":
            out.append("dot")
        elif piece == "_":
            out.append("underscore")
        elif piece == "-":
            out.append("dash")
        elif piece.isdigit():
            out.append(digits_spoken(piece, rng))
        else:
            out.append(piece)
    return " ".join(out)


# ---------------------------------------------------------------- things that must stay


def keep_value(kind: str, style: str, rng: random.Random) -> str:
    """A must-stay value (quantity, price, time, order reference, duration, product)."""
    spoken = style == "spoken"
    if kind == "QTY":
        n = rng.randint(1, 12)
        item = rng.choice(("large pizzas", "medium coffees", "bottles of water", "tickets"))
        return f"{cardinal(n) if spoken or rng.random() < 0.5 else n} {item}"
    if kind == "PRICE":
        dollars, cents = rng.randint(1, 250), rng.choice((0, 25, 50, 75, 99))
        if spoken:
            said = f"{cardinal(dollars)} dollars"
            return said + (f" and {cardinal(cents)} cents" if cents else "")
        return f"${dollars}.{cents:02d}"
    if kind == "TIME":
        hour, minute = rng.randint(1, 12), rng.choice((0, 15, 30, 45))
        half = rng.choice(("AM", "PM"))
        if spoken:
            said = cardinal(minute) if minute else "o'clock"
            return f"{cardinal(hour)} {said} {half.lower()}"
        text = f"{hour}:{minute:02d} {half}"
        return text if style == "written" else text.lower()
    if kind == "ORDER":
        ref = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(5))
        if spoken:
            return " ".join(_DIGIT_WORDS[int(ch)] if ch.isdigit() else ch.lower() for ch in ref)
        return ref if style == "written" else ref.lower()
    if kind == "DURATION":
        n = rng.choice((5, 10, 15, 20, 25, 30, 45, 90))
        unit = rng.choice(("minutes", "seconds"))
        return f"{cardinal(n) if spoken else n} {unit}"
    if kind == "PRODUCT":
        product = rng.choice(
            (
                "Margherita Pizza",
                "Pepperoni Pizza",
                "Caesar Salad",
                "Oat Milk Latte",
                "Ibuprofen",
                "Amoxicillin",
                "Chase Sapphire card",
                "Uber Black",
                "Diet Coke",
            )
        )
        return product if style == "written" else product.lower()
    if kind == "YEAR":
        year = rng.randint(1960, 2025)
        return pairs(year) if spoken else str(year)
    if kind == "TEMP":
        n = rng.randint(60, 78)
        return f"{cardinal(n) if spoken else n} degrees"
    raise ValueError(kind)


# ---------------------------------------------------------------- templates

# {TYPE} slots are personal data; {keep:KIND} slots must survive.
PII_TEMPLATES = (
    "Call {NAME} at {PHONE}",
    "my number is {PHONE} if the driver needs it",
    "Text {NAME} that I'm running {keep:DURATION} late",
    "Your driver {NAME} will pick you up at {ADDRESS} at {keep:TIME}",
    "Deliver {keep:QTY} to {ADDRESS} please",
    "Send the receipt to {EMAIL}",
    "my email is {EMAIL}",
    "Pay with card {CARD}",
    "the card number is {CARD} and the total was {keep:PRICE}",
    "My social security number is {SSN}",
    "For verification my SSN is {SSN}",
    "Transfer {keep:PRICE} to IBAN {IBAN}",
    "the account IBAN is {IBAN} thanks",
    "The device at {IP} keeps dropping off the network",
    "my router ip is {IP}",
    "I was born on {DOB}",
    "date of birth {DOB} for the prescription refill",
    "My name is {NAME} and my date of birth is {DOB}",
    "This is {NAME}, I ordered {keep:QTY} and order {keep:ORDER} never arrived",
    "Refill the {keep:PRODUCT} for {NAME} and call {PHONE} when ready",
    "Okay, I've sent the invoice to {EMAIL}",
    "{NAME} will meet you at {ADDRESS}",
    "The pharmacist {NAME} confirmed your order {keep:ORDER} for {keep:TIME}",
    "Ship it to {ADDRESS} and email {EMAIL} the tracking",
    "Message {NAME} saying dinner is at {keep:TIME}",
    "send {keep:PRICE} to {NAME}",
    "Book a ride for {NAME} from {ADDRESS}",
    "Hi {NAME}, your {keep:PRODUCT} is ready",
    "ask {NAME} to call me back at {PHONE}",
    "Thanks {NAME}! Your card ending in {keep:CARD4} was charged {keep:PRICE}",
)
NEGATIVE_TEMPLATES = (
    "set a timer for {keep:DURATION}",
    "order {keep:QTY} from the usual place",
    "what's the status of order {keep:ORDER}",
    "Your total is {keep:PRICE}, arriving at {keep:TIME}",
    "remind me at {keep:TIME} to take the {keep:PRODUCT}",
    "play the top songs from {keep:YEAR}",
    "set the thermostat to {keep:TEMP}",
    "add {keep:QTY} to my cart",
    "how long does a {keep:PRODUCT} take to arrive",
    "book a table for {keep:QTY} at {keep:TIME}",
    "what's the weather like this weekend",
    "turn off the lights in the living room in {keep:DURATION}",
    "reorder the {keep:PRODUCT} I got last week",
    "cancel order {keep:ORDER} and refund {keep:PRICE}",
    "Your ride will arrive in {keep:DURATION}. The fare is {keep:PRICE}.",
    "how many calories are in {keep:QTY}",
    "I'd like a {keep:PRODUCT} and {keep:QTY} please",
    "Order {keep:ORDER} is out for delivery and will arrive by {keep:TIME}",
)
_SLOT = re.compile(r"\{(keep:)?([A-Z0-9]+)\}")


def _literal(text: str, style: str) -> str:
    if style == "written":
        return text
    return re.sub(r"[,.!?]", "", text.lower())


def render_line(template: str, style: str, values: Values) -> Line:
    """Fill `template` in `style`, recording gold and keep spans as the text is built."""
    rng = values.rng
    parts: list[str] = []
    line = Line("", style)
    pos = 0
    last = 0
    for match in _SLOT.finditer(template):
        literal = _literal(template[last : match.start()], style)
        parts.append(literal)
        pos += len(literal)
        kind = match.group(2)
        if match.group(1):
            if kind == "CARD4":
                value = "".join(str(rng.randint(0, 9)) for _ in range(4))
                value = digits_spoken(value, rng) if style == "spoken" else value
            else:
                value = keep_value(kind, style, rng)
            line.keep.append((pos, pos + len(value)))
        else:
            rendered = values.render(kind, style)
            value = rendered.text
            key = rendered.key or [(0, len(value))]
            line.gold.append(
                Gold(kind, pos, pos + len(value), [(pos + a, pos + b) for a, b in key])
            )
        parts.append(value)
        pos += len(value)
        last = match.end()
    parts.append(_literal(template[last:], style))
    line.text = "".join(parts)
    return line


def generate(seed: int = 20261123, per_template: int = 20, negatives: int = 12) -> list[Line]:
    """The labelled corpus: every template in every style, `per_template` times (seeded)."""
    values = Values(seed)
    lines: list[Line] = []
    for template in PII_TEMPLATES:
        for k in range(per_template):
            lines.append(render_line(template, STYLES[k % 3], values))
    for template in NEGATIVE_TEMPLATES:
        for k in range(negatives):
            lines.append(render_line(template, STYLES[k % 3], values))
    return lines


# ---------------------------------------------------------------- scoring


@dataclass
class Score:
    """Counts behind the reported rates."""

    entities: dict[tuple[str, str], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0])
    )
    keeps: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    negatives: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    leaks: list[tuple[str, str, str]] = field(default_factory=list)
    lost: list[tuple[str, str]] = field(default_factory=list)

    def recall(self, kind: str | None = None, style: str | None = None) -> float:
        caught = total = 0
        for (k, s), (c, t) in self.entities.items():
            if (kind is None or k == kind) and (style is None or s == style):
                caught, total = caught + c, total + t
        return caught / total if total else 1.0

    def leak_rate(self) -> float:
        return 1.0 - self.recall()

    def keep_rate(self, style: str | None = None) -> float:
        kept = total = 0
        for s, (k, t) in self.keeps.items():
            if style is None or s == style:
                kept, total = kept + k, total + t
        return kept / total if total else 1.0

    def fp_rate(self, style: str | None = None) -> float:
        flagged = total = 0
        for s, (f, t) in self.negatives.items():
            if style is None or s == style:
                flagged, total = flagged + f, total + t
        return flagged / total if total else 0.0


def _covered(ranges: list[tuple[int, int]], spans: list[tuple[int, int]], text: str) -> bool:
    """Whether every non-space character of each range lies inside some predicted span."""
    for a, b in ranges:
        for p in range(a, b):
            if text[p].isspace():
                continue
            if not any(s <= p < e for s, e in spans):
                return False
    return True


def score(lines: list[Line], predict: Callable[[str], list[tuple[int, int]]]) -> Score:
    """Score a redactor given as `predict(text) -> [(start, end), ...]` on `lines`.

    An entity is caught when every character of its identifying parts (each name token, an
    e-mail's local part, house number and street name, the whole of a number) is covered by
    some predicted span, whatever its type; a keep span is kept when no prediction touches it;
    a PII-free line is a false positive when anything in it is predicted.
    """
    result = Score()
    for line in lines:
        spans = predict(line.text)
        for gold in line.gold:
            counts = result.entities[(gold.type, line.style)]
            counts[1] += 1
            if _covered(gold.key, spans, line.text):
                counts[0] += 1
            else:
                result.leaks.append((gold.type, line.style, line.text))
        for a, b in line.keep:
            counts = result.keeps[line.style]
            counts[1] += 1
            if any(s < b and a < e for s, e in spans):
                result.lost.append((line.style, line.text[a:b]))
            else:
                counts[0] += 1
        if line.pii_free:
            counts = result.negatives[line.style]
            counts[1] += 1
            counts[0] += bool(spans)
    return result
