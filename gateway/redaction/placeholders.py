"""Typed, numbered placeholders shared by the texts of one interaction ("[PHONE_1]")."""

import re
from dataclasses import dataclass, field

_NON_WORD = re.compile(r"[\W_]+")
_NON_DIGIT = re.compile(r"\D")
_DIGIT_TYPES = frozenset({"PHONE", "CARD", "SSN", "ACCOUNT", "NUMBER", "ZIP"})


def canonical(entity: str, value: str) -> str:
    """The form two mentions of one value share ("555-867-5309" and "5558675309")."""
    if entity in _DIGIT_TYPES:
        digits = _NON_DIGIT.sub("", value)
        if entity == "PHONE" and len(digits) == 11 and digits[0] == "1":
            digits = digits[1:]
        if digits:
            return digits
    return _NON_WORD.sub("", value).lower()


@dataclass
class Placeholders:
    """Numbering shared by the texts of one interaction: one value, one placeholder.

    Pass the same instance to every `redact` call for an interaction (utterance, response,
    slot values) so the phone number the user said and the one the assistant repeated both
    become ``[PHONE_1]``.
    """

    _numbers: dict[tuple[str, str], int] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)

    def label(self, entity: str, value: str) -> str:
        """Return the placeholder for `value` of type `entity`, numbering new values in order.

        `value` should already be canonical (see `canonical`); equal values share a number.
        """
        key = (entity, value)
        number = self._numbers.get(key)
        if number is None:
            number = self._counts.get(entity, 0) + 1
            self._counts[entity] = number
            self._numbers[key] = number
        return f"[{entity}_{number}]"
