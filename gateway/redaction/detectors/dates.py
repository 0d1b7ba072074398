"""Dates of birth: a date (written, numeric or spoken) in a birth context; other dates stay."""

import re

from gateway.redaction.detectors import context
from gateway.redaction.normalise import View
from gateway.redaction.spans import Span

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:\d{4}|'?\d{2})"
_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+(?:the\s+)?{_DAY}(?:,?\s+{_YEAR})?"
    rf"|(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?"
    rf"|{_MONTH},?\s+\d{{4}}"
    r"|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
    r"|\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})"
    r"|\d{8})\b",
    re.I,
)


def detect(view: View) -> list[Span]:
    """Find dates that follow a birth context ("born", "date of birth", "DOB")."""
    found: list[Span] = []
    if context.BIRTH_CONTEXT.search(view.text) is None:
        return found
    for match in _DATE.finditer(view.text):
        if context.before(view, match.start(), context.BIRTH_CONTEXT, window=50):
            found.append(Span("DOB", *view.original(match.start(), match.end())))
    return found
