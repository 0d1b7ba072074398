"""E-mail addresses, written or spoken ("john dot smith at gmail dot com")."""

import re

from gateway.redaction.normalise import View
from gateway.redaction.spans import Span

_EMAIL = re.compile(
    r"[A-Za-z0-9._%+'-]*[A-Za-z0-9]@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
# A spoken local part often splits a word from its digits: "john eighty five at ..." -> "john 85@".
_WORD_BEFORE = re.compile(r"([A-Za-z]+) $")
_NOT_LOCAL = frozenset(
    "to is at me my email address mail send it the a an and or of for from e-mail was".split()
)


def detect(view: View) -> list[Span]:
    """Find e-mail addresses in the detection view; spans are in original offsets."""
    found: list[Span] = []
    if "@" not in view.text:
        return found
    for match in _EMAIL.finditer(view.text):
        start = match.start()
        if match.group()[0].isdigit():
            word = _WORD_BEFORE.search(view.text, max(0, start - 30), start)
            if word is not None and word.group(1).lower() not in _NOT_LOCAL:
                start = word.start(1)
        found.append(Span("EMAIL", *view.original(start, match.end())))
    return found
