"""Digit runs: payment cards (Luhn), phone numbers, SSNs, ZIP codes and long bare numbers."""

import re

import phonenumbers
from stdnum import luhn

from gateway.redaction.detectors import context
from gateway.redaction.normalise import View
from gateway.redaction.spans import Span

# Digit groups joined by a space, a dash or a dot, with an optional "+" and bracketed area code.
# The look-arounds keep times ("7:30"), prices ("$23.50") and codes ("8F3K2") out.
_DIGIT_RUN = re.compile(
    r"(?<![\w.@$€£/:])(?:\+\s?)?(?:\(\d+\)\s?|\d+)"
    r"(?:(?:[ \t]{1,2}|[ \t]?[-.][ \t]?)(?:\(\d+\)|\d+))*(?![\w@/:]|\.\d)"
)
_SSN_SHAPE = re.compile(r"\d{3}([- ])\d{2}\1\d{4}")
_IP_SHAPE = re.compile(r"(?:\d{1,3}\.){3}\d{1,3}")
_DATE_SHAPE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[-.]\d{1,2}[-.](?:\d{2}|\d{4})")
_NON_DIGIT = re.compile(r"\D")

MIN_BARE_DIGITS = 7  # a run this long is redacted even when nothing says what it is


def detect(view: View) -> list[Span]:
    """Find number-like personal data in the detection view; spans are in original offsets."""
    found: list[Span] = []
    text = view.text
    for match in _DIGIT_RUN.finditer(text):
        raw = match.group()
        digits = _NON_DIGIT.sub("", raw)
        n = len(digits)
        if n < 5 or _IP_SHAPE.fullmatch(raw) or _DATE_SHAPE.fullmatch(raw):
            continue
        start, end = match.start(), match.end()
        kind = _classify(view, raw, digits, start, end)
        if kind is not None:
            found.append(Span(kind, *view.original(start, end)))
    return found


def _classify(view: View, raw: str, digits: str, start: int, end: int) -> str | None:
    n = len(digits)
    if context.is_money(view, start, end):
        return None
    if 13 <= n <= 19 and luhn.is_valid(digits):
        return "CARD"
    if _SSN_SHAPE.fullmatch(raw) or (n == 9 and context.before(view, start, context.SSN_CONTEXT)):
        return "SSN"
    if _is_phone(raw, digits):
        return "PHONE"
    if n == 7 and context.before(view, start, context.PHONE_CONTEXT):
        return "PHONE"
    if n in (5, 9) and context.before(view, start, context.ZIP_CONTEXT, window=20):
        return "ZIP"
    if n >= MIN_BARE_DIGITS:
        return "NUMBER"
    return None


def _is_phone(raw: str, digits: str) -> bool:
    n = len(digits)
    if raw.startswith("+"):
        return 8 <= n <= 15 and _possible("+" + digits, None)
    if n == 10 or (n == 11 and digits[0] == "1"):
        return _possible(digits, "US")
    if n == 11 and digits[0] == "0":
        # national format with a trunk prefix, as in the UK ("020 7946 0958")
        return _possible(digits, "GB")
    return False


def _possible(number: str, region: str | None) -> bool:
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(number, region))
    except phonenumbers.NumberParseException:
        return False
