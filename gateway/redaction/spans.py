"""Spans of personal data and how overlapping detections are resolved."""

from dataclasses import dataclass

# Most specific first: a validated number beats a context guess, which beats the catch-all.
PRIORITY: dict[str, int] = {
    "EMAIL": 10,
    "CARD": 10,
    "IBAN": 10,
    "IP": 10,
    "SSN": 9,
    "PHONE": 8,
    "DOB": 7,
    "ADDRESS": 6,
    "ACCOUNT": 5,
    "SERIAL": 5,
    "NAME": 4,
    "ZIP": 3,
    "NUMBER": 1,
}


@dataclass(frozen=True)
class Span:
    """One detected entity: its type and its offsets in the original text."""

    type: str
    start: int
    end: int


def merge(found: list[Span]) -> list[Span]:
    """Resolve overlapping detections into disjoint spans, sorted by start.

    Overlapping spans are united, never trimmed: trimming is how the "42" of "42 Elm Street"
    leaks when a name detector claims "Elm". The union takes the type of its most specific
    member (then the longest, then the earliest), so the result is deterministic.
    """
    if not found:
        return []
    ordered = sorted(found, key=lambda s: (s.start, -s.end))
    merged: list[Span] = []
    group = [ordered[0]]
    end = ordered[0].end
    for span in ordered[1:]:
        if span.start < end:
            group.append(span)
            end = max(end, span.end)
            continue
        merged.append(_union(group, end))
        group, end = [span], span.end
    merged.append(_union(group, end))
    return merged


def _union(group: list[Span], end: int) -> Span:
    best = max(group, key=lambda s: (PRIORITY.get(s.type, 0), s.end - s.start, -s.start))
    return Span(best.type, group[0].start, end)
