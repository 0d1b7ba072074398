"""IBANs, written, grouped or spelled letter by letter, kept only when the mod-97 check passes."""

import re

from stdnum import iban as stdnum_iban

from gateway.redaction.normalise import View
from gateway.redaction.spans import Span

# Country code and check digits, then up to 30 more letters or digits across single spaces.
_CANDIDATE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z] ?[A-Za-z] ?\d ?\d(?:[ -]?[A-Za-z0-9]){10,32}", re.ASCII
)
_MIN_LENGTH = 15  # Norway's, the shortest IBAN


def detect(view: View) -> list[Span]:
    """Find checksum-valid IBANs in the detection view; spans are in original offsets."""
    found: list[Span] = []
    for match in _CANDIDATE.finditer(view.text):
        positions = [match.start() + k for k, ch in enumerate(match.group()) if ch.isalnum()]
        compact = "".join(view.text[p] for p in positions).upper()
        for length in range(len(compact), _MIN_LENGTH - 1, -1):
            if stdnum_iban.is_valid(compact[:length]):
                end = positions[length - 1] + 1
                found.append(Span("IBAN", *view.original(match.start(), end)))
                break
    return found
