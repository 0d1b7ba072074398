"""A detection view of a transcript: spoken numbers, "at" and "dot" written out, offsets kept."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

# A token is a run of letters and digits (apostrophe words kept whole); the rest is gap.
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?")
# Gaps a spoken number may pause across: spaces, commas, hyphens ("twenty-three").
_NUMBER_GAP = re.compile(r"[\s,\-]{1,4}")
_SPACE_GAP = re.compile(r"\s{1,3}")

UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
ORDINAL_UNITS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
}
ORDINAL_OTHER = {
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
_SCALES = {"hundred": 100, "thousand": 1000}
_ZERO_WORDS = {"oh", "o"}
_REPEATS = {"double": 2, "triple": 3}
# Top-level domains a spoken e-mail or host may end in; "at" becomes "@" only before one of these.
TLDS = frozenset(
    (
        "com net org edu gov io co us uk de fr ca info biz me app dev ai mil int eu au in jp es "
        "it nl"
    ).split()
)


# Words that make the view differ from the text: without one, the view is the text itself.
_VIEW_WORDS = frozenset(
    {*UNITS, *TEENS, *TENS, *ORDINAL_UNITS, *ORDINAL_OTHER, *_ZERO_WORDS, *_REPEATS}
    | {"dot", "point", "underscore", "dash", "hyphen", "at"}
)


class Token(NamedTuple):
    """One word or number of the original text, with its offsets and lower-case form."""

    # a named tuple: every line makes a dozen, and a frozen dataclass costs twice as much
    start: int
    end: int
    low: str


@dataclass(frozen=True)
class View:
    """Detection text plus, for each of its characters, the original span it came from."""

    text: str
    starts: Sequence[int]
    ends: Sequence[int]

    def original(self, start: int, end: int) -> tuple[int, int]:
        """Map a view span back to the smallest original span covering it."""
        return self.starts[start], self.ends[end - 1]


def identity_view(text: str) -> View:
    """The view of a text that has no spoken numbers or joiners: the text itself."""
    return View(text, range(len(text)), range(1, len(text) + 1))


def tokenize(text: str) -> list[Token]:
    """Split `text` into word and number tokens, keeping character offsets."""
    return [Token(m.start(), m.end(), m.group().lower()) for m in _TOKEN.finditer(text)]


def _is_number_word(low: str) -> bool:
    return (
        low in UNITS or low in TEENS or low in TENS or low in ORDINAL_UNITS or low in ORDINAL_OTHER
    )


def _joined(text: str, left: Token, right: Token, gap: re.Pattern[str]) -> bool:
    """Whether two tokens are separated only by a gap a spoken sequence may contain."""
    between = text[left.end : right.start]
    return between == "" or gap.fullmatch(between) is not None


class _Builder:
    """Accumulates view characters with their original spans."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []

    def verbatim(self, text: str, start: int, end: int) -> None:
        self.parts.append(text[start:end])
        self.starts.extend(range(start, end))
        self.ends.extend(range(start + 1, end + 1))

    def rendered(self, value: str, start: int, end: int) -> None:
        self.parts.append(value)
        self.starts.extend([start] * len(value))
        self.ends.extend([end] * len(value))

    def view(self) -> View:
        return View("".join(self.parts), self.starts, self.ends)


def _number_run(text: str, tokens: list[Token], i: int) -> tuple[int, list[tuple[str, int, int]]]:
    """Read a spoken number run starting at token `i`.

    Returns the index after the run and its pieces as (digits, start, end). Pieces are
    concatenated, which is how people read digit strings: "nineteen eighty five" is 1985,
    "five five five" is 555, "forty two" is 42.
    """
    pieces: list[tuple[str, int, int]] = []
    n = len(tokens)
    j = i
    value: int | None = None  # the cardinal being built
    width_hint = 0
    seg_start = tokens[i].start
    seg_end = tokens[i].end
    last_kind = ""  # unit, teen, tens, scale

    def flush() -> None:
        nonlocal value, last_kind
        if value is not None:
            digits = str(value)
            if width_hint and len(digits) < width_hint:
                digits = digits.zfill(width_hint)
            pieces.append((digits, seg_start, seg_end))
        value = None
        last_kind = ""

    while j < n:
        tok = tokens[j]
        low = tok.low
        if j > i and not _joined(text, tokens[j - 1], tok, _NUMBER_GAP):
            break
        if j > i and low == "and" and last_kind == "scale" and j + 1 < n:
            nxt = tokens[j + 1].low
            if nxt in UNITS or nxt in TEENS or nxt in TENS:
                j += 1
                continue
        if (
            low in _REPEATS
            and j + 1 < n
            and (tokens[j + 1].low in UNITS or tokens[j + 1].low in _ZERO_WORDS)
        ):
            flush()
            digit = "0" if tokens[j + 1].low in _ZERO_WORDS else str(UNITS[tokens[j + 1].low])
            pieces.append((digit * _REPEATS[low], tok.start, tokens[j + 1].end))
            j += 2
            continue
        if low in _ZERO_WORDS:
            # "oh" is zero only inside a run or right before a number word
            prev_num = j > i or _after_spoken_dot(tokens, j)
            next_num = (
                j + 1 < n
                and (_is_number_word(tokens[j + 1].low) or tokens[j + 1].low in _ZERO_WORDS)
                and _joined(text, tok, tokens[j + 1], _NUMBER_GAP)
            )
            if not (prev_num or next_num):
                break
            flush()
            pieces.append(("0", tok.start, tok.end))
            j += 1
            continue
        if low.isdigit():
            flush()
            pieces.append((low, tok.start, tok.end))
            j += 1
            continue
        if low in UNITS:
            if value is not None and last_kind == "tens":
                value += UNITS[low]
                seg_end = tok.end
                last_kind = "unit_after_tens"
            elif value is not None and last_kind == "scale" and value % 100 == 0:
                value += UNITS[low]
                seg_end = tok.end
                last_kind = "unit_after_tens"
            else:
                flush()
                value, seg_start, seg_end, last_kind = UNITS[low], tok.start, tok.end, "unit"
            j += 1
            continue
        if low in TEENS:
            if value is not None and last_kind == "scale" and value % 100 == 0:
                value += TEENS[low]
                seg_end = tok.end
                last_kind = "teen"
            else:
                flush()
                value, seg_start, seg_end, last_kind = TEENS[low], tok.start, tok.end, "teen"
            j += 1
            continue
        if low in TENS:
            if value is not None and last_kind == "scale" and value % 100 == 0:
                value += TENS[low]
                seg_end = tok.end
            else:
                flush()
                value, seg_start, seg_end = TENS[low], tok.start, tok.end
            last_kind = "tens"
            j += 1
            continue
        if (
            low in _SCALES
            and value is not None
            and last_kind in {"unit", "teen", "tens", "unit_after_tens", "scale"}
        ):
            scale = _SCALES[low]
            if scale == 100 and value < 100:
                value *= 100
            elif scale == 1000 and value < 1000:
                value *= 1000
            else:
                break
            seg_end = tok.end
            last_kind = "scale"
            j += 1
            continue
        if low in ORDINAL_UNITS or low in ORDINAL_OTHER:
            # an ordinal closes the run: "march third nineteen eighty five" is a day then a year
            if low in ORDINAL_UNITS and value is not None and last_kind == "tens":
                value += ORDINAL_UNITS[low]
                seg_end = tok.end
            else:
                flush()
                value = ORDINAL_UNITS.get(low) or ORDINAL_OTHER[low]
                seg_start, seg_end = tok.start, tok.end
            flush()
            j += 1
            break
        break
    flush()
    return j, pieces


def build_view(text: str, tokens: list[Token]) -> View:
    """Return the detection view of `text`: spoken numbers become digits, and spoken
    "at", "dot", "dash", "underscore", "plus" become symbols where they join an address.

    Every view character maps back to the original span it came from, so a match in the
    view redacts exactly the spoken words in the original.
    """
    if not any(tok.low in _VIEW_WORDS for tok in tokens):
        return identity_view(text)  # most lines: nothing spoken to rewrite
    out = _Builder()
    n = len(tokens)
    cursor = 0
    i = 0
    glue = False  # drop the gap before the next token (inside a spoken address)
    while i < n:
        tok = tokens[i]
        symbol = _symbol(text, tokens, i)
        if symbol is not None:
            # the spoken joiner and the pauses around it vanish: "john dot smith" -> "john.smith"
            out.rendered(symbol, tok.start, tok.end)
            cursor = tok.end
            glue = True
            i += 1
            continue
        if not glue:
            out.verbatim(text, cursor, tok.start)
        glue = False
        if _starts_number(tokens, i):
            j, pieces = _number_run(text, tokens, i)
            if j > i and pieces and any(not tokens[k].low.isdigit() for k in range(i, j)):
                prev_end = tok.start
                for digits, start, end in pieces:
                    out.rendered(digits, start, end)
                    prev_end = end
                cursor = prev_end
                i = j
                continue
        out.verbatim(text, tok.start, tok.end)
        cursor = tok.end
        i += 1
    out.verbatim(text, cursor, len(text))
    return out.view()


def _starts_number(tokens: list[Token], i: int) -> bool:
    low = tokens[i].low
    if _is_number_word(low) or low.isdigit():
        return True
    if low in _REPEATS or low in _ZERO_WORDS:
        nxt = tokens[i + 1].low if i + 1 < len(tokens) else ""
        return _is_number_word(nxt) or nxt in _ZERO_WORDS or _after_spoken_dot(tokens, i)
    return False


def _after_spoken_dot(tokens: list[Token], i: int) -> bool:
    """Whether token `i` follows "<number> dot", where a lone "oh" is a zero ("one dot oh")."""
    return i >= 2 and tokens[i - 1].low in {"dot", "point"} and _numeric(tokens[i - 2].low)


def _symbol(text: str, tokens: list[Token], i: int) -> str | None:
    """The symbol a spoken joiner word stands for at token `i`, or None when it is a plain word."""
    low = tokens[i].low
    if i == 0 or i + 1 >= len(tokens):
        return None
    prev, nxt = tokens[i - 1], tokens[i + 1]
    tok = tokens[i]
    if not (_joined(text, prev, tok, _SPACE_GAP) and _joined(text, tok, nxt, _SPACE_GAP)):
        return None
    if low == "dot" or (low == "point" and _numeric(prev.low) and _numeric(nxt.low)):
        return "."
    if low == "underscore":
        return "_"
    if low in {"dash", "hyphen"}:
        return "-"
    if low == "at" and _domain_follows(text, tokens, i + 1):
        return "@"
    return None


def _numeric(low: str) -> bool:
    return low.isdigit() or _is_number_word(low) or low in _ZERO_WORDS


def _domain_follows(text: str, tokens: list[Token], i: int) -> bool:
    """Whether tokens from `i` read like a host name: word (dot word)* dot TLD."""
    j = i + 1
    while j + 1 < len(tokens) and tokens[j].low in {"dot", "dash", "hyphen"}:
        if tokens[j].low == "dot" and tokens[j + 1].low in TLDS:
            return True
        j += 2
    # a written host after a spoken "at": "john at gmail.com"
    return (
        re.match(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b", text[tokens[i].start :])
        is not None
    )
