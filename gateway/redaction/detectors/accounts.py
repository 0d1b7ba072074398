"""Account, membership and policy numbers and device serials, recognised by what precedes them."""

import re

from gateway.redaction.normalise import View
from gateway.redaction.spans import Span

_ID = r"(?:number|num|no\.?|#|id|code)"
_VALUE = (
    r"(?P<value>(?:[A-Za-z]{1,3}[ -]?)?[A-Za-z0-9-]*\d[A-Za-z0-9-]*"
    r"(?:[ ](?:[A-Za-z]{1,3}[ ])?[A-Za-z0-9-]*\d[A-Za-z0-9-]*)*)"
)
_ACCOUNT = re.compile(
    r"\b(?:account|acct|member(?:ship)?|loyalty|rewards|customer|policy|routing|subscriber"
    r"|patient|insurance|licen[cs]e|passport|prescription|rx|user ?id)"
    rf"(?:\s+{_ID})?(?:\s+(?:is|was|:))?\s*:?\s*{_VALUE}",
    re.I,
)
_SERIAL = re.compile(
    rf"\b(?:serial|s/n|imei|device(?:\s+id)?|mac address)(?:\s+{_ID})?(?:\s+(?:is|was))?\s*:?\s*"
    + _VALUE,
    re.I,
)
_MIN_CHARS = 4  # shorter values ("plan 2") are not identifiers


def detect(view: View) -> list[Span]:
    """Find identifiers announced by their context ("account number ...", "serial ...")."""
    found: list[Span] = []
    for kind, pattern in (("ACCOUNT", _ACCOUNT), ("SERIAL", _SERIAL)):
        for match in pattern.finditer(view.text):
            value = match.group("value")
            if sum(ch.isalnum() for ch in value) >= _MIN_CHARS:
                found.append(Span(kind, *view.original(match.start("value"), match.end("value"))))
    return found
