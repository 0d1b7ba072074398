"""Context words that turn an ambiguous number into personal data ("my social is ...")."""

import re

from gateway.redaction.normalise import View

_WINDOW = 40  # characters of view text looked at before a candidate

PHONE_CONTEXT = re.compile(
    r"\b(?:call|calling|phone|cell|mobile|text|txt|number|reach|dial|contact|fax|tel)\b", re.I
)
SSN_CONTEXT = re.compile(r"\b(?:social|ssn|s s n|security|taxpayer|tin)\b", re.I)
ZIP_CONTEXT = re.compile(r"\b(?:zip|zipcode|postal|post code|postcode)\b", re.I)
BIRTH_CONTEXT = re.compile(
    r"\b(?:born|birth|birthday|birthdate|dob|d\.o\.b|bday|b-day|date of birth)\b", re.I
)
MONEY_BEFORE = re.compile(r"[$€£]\s?$")
MONEY_AFTER = re.compile(r"^\s?(?:dollars?|bucks|cents?|euros?|pounds?|usd|k\b|percent|%)", re.I)


def before(view: View, start: int, pattern: re.Pattern[str], window: int = _WINDOW) -> bool:
    """Whether `pattern` occurs in the view text just before `start`."""
    return pattern.search(view.text, max(0, start - window), start) is not None


def is_money(view: View, start: int, end: int) -> bool:
    """Whether the number at [start, end) of the view is an amount of money or a percentage."""
    return (
        MONEY_BEFORE.search(view.text[max(0, start - 2) : start]) is not None
        or MONEY_AFTER.match(view.text[end : end + 10]) is not None
    )
