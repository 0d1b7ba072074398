"""IP addresses (v4, also spoken "dot" by "dot"; v6) and MAC addresses."""

import ipaddress
import re

from gateway.redaction.normalise import View
from gateway.redaction.spans import Span

_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
_MAC = re.compile(
    r"(?<![\w:-])[0-9A-Fa-f]{2}(?:([:-])[0-9A-Fa-f]{2})(?:\1[0-9A-Fa-f]{2}){4}(?![\w:-])"
)


def detect(view: View) -> list[Span]:
    """Find IP and MAC addresses in the detection view; spans are in original offsets."""
    found: list[Span] = []
    for match in _IPV4.finditer(view.text):
        if _valid(match.group()):
            found.append(Span("IP", *view.original(match.start(), match.end())))
    if ":" in view.text:
        for match in _IPV6.finditer(view.text):
            if match.group().count(":") >= 2 and _valid(match.group()):
                found.append(Span("IP", *view.original(match.start(), match.end())))
        for match in _MAC.finditer(view.text):
            found.append(Span("SERIAL", *view.original(match.start(), match.end())))
    elif "-" in view.text:
        for match in _MAC.finditer(view.text):
            found.append(Span("SERIAL", *view.original(match.start(), match.end())))
    return found


def _valid(candidate: str) -> bool:
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True
