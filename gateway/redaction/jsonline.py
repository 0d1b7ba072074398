"""One line of `skillgw redact --json`: the redacted text and the spans found, as plain data."""

from typing import Any

from gateway.redaction.engine import Placeholders, redact
from gateway.redaction.policies import Policy


def redact_line_json(
    text: str, policy: str | Policy = "strict", *, placeholders: Placeholders | None = None
) -> dict[str, Any]:
    """Redact one line and return ``{"text": ..., "spans": [{"type", "start", "end"}, ...]}``.

    Offsets are character offsets in the original line (not bytes), sorted by start.
    Raises `UnknownPolicy` for a policy name that is not configured.
    """
    result = redact(text, policy, placeholders=placeholders)
    return {
        "text": result.text,
        "spans": [{"type": s.type, "start": s.start, "end": s.end} for s in result.spans],
    }
