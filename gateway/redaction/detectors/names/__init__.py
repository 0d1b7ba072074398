"""Person names as people say them: listed, possessive, full, and announced by context."""

from gateway.redaction.detectors.names.context import (
    announced,
    contacted,
    possessives,
    proper_names,
)
from gateway.redaction.detectors.names.line import Line
from gateway.redaction.detectors.names.listed import listed_names
from gateway.redaction.detectors.names.widen import widen
from gateway.redaction.normalise import Token
from gateway.redaction.spans import Span


def detect(text: str, tokens: list[Token]) -> list[Span]:
    """Find person names among `tokens` of `text`; spans are in original offsets.

    Evidence, strongest first: a context that announces a person ("email ...", "with ...",
    "my friend ...", "did ... send"), a possessive ("mark's email"), a given name followed by
    a family name, a given name no English word shares. A token that no list knows and that
    is no English word is a name when a context announces one ("send email to zorvath").
    Places, brands, dishes and the assistant's own name stay ("new york", "egg foo young",
    "hey olly"), and so do performers in a music request ("play michael jackson").
    """
    line = Line(text, tokens)
    if line.music:
        ranges = contacted(line)  # "play adele": performers stay, "text adele" does not
    else:
        ranges = listed_names(line) + announced(line) + possessives(line) + proper_names(line)
    ranges = widen(line, ranges)
    return [Span("NAME", tokens[i].start, tokens[j - 1].end) for i, j in ranges]
