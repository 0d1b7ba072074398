"""Find personal data in one text and replace it as a policy says."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gateway.redaction.detectors import (
    accounts,
    addresses,
    dates,
    email,
    iban,
    names,
    network,
    numbers,
)
from gateway.redaction.normalise import Token, View, build_view, tokenize
from gateway.redaction.placeholders import Placeholders, canonical
from gateway.redaction.policies import Policy, get_policy
from gateway.redaction.spans import Span, merge

__all__ = ["Placeholders", "Redaction", "Span", "detect", "redact", "warm"]

_Detector = Callable[[str, list[Token], View], list[Span]]
_DETECTORS: dict[str, _Detector] = {
    "numbers": lambda text, tokens, view: numbers.detect(view),
    "network": lambda text, tokens, view: network.detect(view),
    "iban": lambda text, tokens, view: iban.detect(text, view),
    "email": lambda text, tokens, view: email.detect(view),
    "dates": lambda text, tokens, view: dates.detect(view),
    "addresses": lambda text, tokens, view: addresses.detect(view),
    "accounts": lambda text, tokens, view: accounts.detect(view),
    "names": lambda text, tokens, view: names.detect(text, tokens),
}


@dataclass(frozen=True)
class Redaction:
    """A redacted text and the spans (offsets in the original text, sorted) it replaced."""

    text: str
    spans: list[Span]


def _as_policy(policy: str | Policy) -> Policy:
    return get_policy(policy) if isinstance(policy, str) else policy


def detect(
    text: str, policy: str | Policy = "strict", *, findings: tuple[Span, ...] | None = None
) -> list[Span]:
    """Return the disjoint, sorted spans of `text` that `policy` redacts.

    Types the policy keeps are left out.

    Raises `UnknownPolicy` for a policy name that is not configured.
    """
    policy = _as_policy(policy)
    found = findings if findings is not None else detections(text, policy.detectors)
    return merge([s for s in found if policy.action(s.type) != "keep"])


def detections(text: str, detectors: tuple[str, ...] | None = None) -> tuple[Span, ...]:
    """Every detection in `text`, before any policy decides what to keep.

    Policies differ only in what they keep and how they replace, so a caller redacting one
    text under several policies detects once and passes the result as `findings`.
    """
    tokens = tokenize(text)
    if not tokens:
        return ()
    view = build_view(text, tokens)
    found: list[Span] = []
    for name in detectors if detectors is not None else tuple(_DETECTORS):
        found.extend(_DETECTORS[name](text, tokens, view))
    return tuple(found)


def warm() -> None:
    """Load every word list now rather than on the first call (a few tenths of a second)."""
    detect("warm up: text mark's friend in new york at 42 elm street")


def _inside_kept(text: str, spans: list[Span], keep: Iterable[str]) -> list[Span]:
    """Drop spans that lie wholly inside an occurrence of a value shown in clear anyway."""
    lowered = text.lower()
    kept: list[tuple[int, int]] = []
    for value in keep:
        needle = value.strip().lower()
        start = lowered.find(needle) if needle else -1
        while start >= 0:
            kept.append((start, start + len(needle)))
            start = lowered.find(needle, start + 1)
    if not kept:
        return spans
    return [s for s in spans if not any(a <= s.start and s.end <= b for a, b in kept)]


def redact(
    text: str,
    policy: str | Policy = "strict",
    *,
    placeholders: Placeholders | None = None,
    keep: Iterable[str] = (),
    findings: tuple[Span, ...] | None = None,
) -> Redaction:
    """Return `text` with every detected entity handled as `policy` says, and the spans found.

    Entities become typed placeholders (``[PHONE_1]``), numbered through `placeholders` so
    that one value gets one number across the texts of an interaction; a policy may instead
    drop an entity or mask it partially (``[CARD ending 1111]``). This is where docs/rules.md
    rule 5 (names, contacts, account numbers and serials never leave) is applied.
    `keep` names values the caller shows in clear anyway (an order reference): a detection
    wholly inside one of them is left alone, so the text and the field agree.
    `findings`: `detections(text)` already made, when one text is redacted under several
    policies. Raises `UnknownPolicy` for a policy name that is not configured.
    """
    policy = _as_policy(policy)
    placeholders = placeholders if placeholders is not None else Placeholders()
    spans = _inside_kept(text, detect(text, policy, findings=findings), keep)
    if not spans:
        return Redaction(text, [])
    out: list[str] = []
    cursor = 0
    for span in spans:
        out.append(text[cursor : span.start])
        out.append(_replacement(text[span.start : span.end], span.type, policy, placeholders))
        cursor = span.end
    out.append(text[cursor:])
    return Redaction("".join(out), spans)


def _replacement(value: str, entity: str, policy: Policy, placeholders: Placeholders) -> str:
    action = policy.action(entity)
    if action == "drop":
        return ""
    spoken = canonical(entity, build_view(value, tokenize(value)).text)
    if action == "mask_last4" and len(spoken) >= 4 and spoken.isdigit():
        return f"[{entity} ending {spoken[-4:]}]"
    if action == "mask_zip3" and len(spoken) >= 5 and spoken.isdigit():
        return f"[{entity} {spoken[:3]}xx]"
    return placeholders.label(entity, spoken)
