"""IBANs, written, grouped or spelled letter by letter, kept only when the mod-97 check passes."""

import re

from stdnum import iban as stdnum_iban

from gateway.redaction.normalise import View, identity_view
from gateway.redaction.spans import Span

# Country code and check digits, then up to 30 more letters or digits across single spaces.
_CANDIDATE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z] ?[A-Za-z] ?\d ?\d(?:[ -]?[A-Za-z0-9]){10,32}", re.ASCII
)
_MIN_LENGTH = 15  # Norway's, the shortest IBAN


def detect(text: str, view: View) -> list[Span]:
    """Find checksum-valid IBANs in the detection view and in the original text.

    The original is searched too because a bank code can be a number word ("GB87 FOUR ...").
    Spans are in original offsets.
    """
    found = _detect(text, view)
    if view.text != text:
        found.extend(_detect(text, identity_view(text)))
    return found


def _detect(text: str, view: View) -> list[Span]:
    found: list[Span] = []
    for match in _CANDIDATE.finditer(view.text):
        positions = [match.start() + k for k, ch in enumerate(match.group()) if ch.isalnum()]
        compact = "".join(view.text[p] for p in positions).upper()
        # a spelled letter "o" reads as zero in the view; try it as the letter too
        spelled_o = "".join(
            "O" if view.text[p] == "0" and _said_o(text, view, p) else ch
            for p, ch in zip(positions, compact, strict=True)
        )
        for candidate in dict.fromkeys((compact, spelled_o)):
            end = _longest_valid(candidate, positions)
            if end is not None:
                found.append(Span("IBAN", *view.original(match.start(), end)))
                break
    return found


def _said_o(text: str, view: View, p: int) -> bool:
    start, end = view.original(p, p + 1)
    return text[start:end].lower() in {"o", "oh"}


def _mod97_lengths(compact: str) -> list[int]:
    """Prefix lengths (at least `_MIN_LENGTH`) of `compact` whose IBAN mod-97 check passes.

    One pass instead of a full validation per prefix: the remainder of the rearranged number
    (the rest, then the country code and check digits) is carried along the rest.
    """
    if not (compact[:2].isalpha() and compact[2:4].isdigit()):
        return []
    head = "".join(str(int(ch, 36)) for ch in compact[:4])  # six digits: letters are 10..35
    tail = int(head)
    scale = 10 ** len(head)
    lengths = []
    rem = 0
    for length in range(5, len(compact) + 1):
        value = int(compact[length - 1], 36)
        rem = (rem * (100 if value > 9 else 10) + value) % 97
        if length >= _MIN_LENGTH and (rem * scale + tail) % 97 == 1:
            lengths.append(length)
    return lengths


def _longest_valid(compact: str, positions: list[int]) -> int | None:
    """The view offset just past the longest valid IBAN that `compact` starts with."""
    for length in reversed(_mod97_lengths(compact)):
        if stdnum_iban.is_valid(compact[:length]):  # country, length and format
            return positions[length - 1] + 1
    return None
