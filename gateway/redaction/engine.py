"""Find personal data in one text and replace it as a policy says (first pass: email, phone, card)."""

import re
from dataclasses import dataclass, field

from gateway.redaction.policies import Policy, get_policy

_PATTERNS = {
    "EMAIL": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "CARD": re.compile(r"\b(?:\d[ -]?){12,18}\d\b"),
    "PHONE": re.compile(r"(?:\+?\d{1,2}[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}\b"),
}


@dataclass(frozen=True)
class Span:
    type: str
    start: int
    end: int


@dataclass(frozen=True)
class Redaction:
    text: str
    spans: list[Span]


@dataclass
class Placeholders:
    """Numbering shared by the texts of one interaction: one value, one placeholder."""

    _numbers: dict[tuple[str, str], int] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)

    def label(self, entity: str, value: str) -> str:
        key = (entity, re.sub(r"\W", "", value).lower())
        if key not in self._numbers:
            self._counts[entity] = self._counts.get(entity, 0) + 1
            self._numbers[key] = self._counts[entity]
        return f"[{entity}_{self._numbers[key]}]"


def _find(text: str) -> list[Span]:
    spans: list[Span] = []
    for entity, pattern in _PATTERNS.items():
        for match in pattern.finditer(text):
            if not any(s.start < match.end() and match.start() < s.end for s in spans):
                spans.append(Span(entity, match.start(), match.end()))
    return sorted(spans, key=lambda s: s.start)


def redact(
    text: str, policy: str | Policy = "strict", *, placeholders: Placeholders | None = None
) -> Redaction:
    """Return `text` with every detected entity handled as `policy` says, and the spans found.

    Raises `UnknownPolicy` for a policy name that is not configured.
    """
    if isinstance(policy, str):
        policy = get_policy(policy)
    placeholders = placeholders if placeholders is not None else Placeholders()
    spans = _find(text)
    out, cursor = [], 0
    for span in spans:
        out.append(text[cursor : span.start])
        value = text[span.start : span.end]
        action = policy.actions.get(span.type, "placeholder")
        if action == "keep":
            out.append(value)
        elif action == "mask_last4":
            digits = re.sub(r"\D", "", value)
            out.append(f"[{span.type} ending {digits[-4:]}]")
        elif action == "placeholder":
            out.append(placeholders.label(span.type, value))
        cursor = span.end
    out.append(text[cursor:])
    return Redaction("".join(out), spans)
