"""Redaction of transcript text: the one entry point every outgoing transcript passes through."""

from gateway.redaction.engine import Redaction, detect, detections, redact, warm
from gateway.redaction.jsonline import redact_line_json
from gateway.redaction.placeholders import Placeholders
from gateway.redaction.policies import (
    REDACTOR_VERSION,
    Policy,
    UnknownPolicy,
    get_policy,
    policy_names,
)
from gateway.redaction.pseudonyms import pseudonymize
from gateway.redaction.spans import Span

__all__ = [
    "REDACTOR_VERSION",
    "Placeholders",
    "Policy",
    "Redaction",
    "Span",
    "UnknownPolicy",
    "detect",
    "detections",
    "get_policy",
    "policy_names",
    "pseudonymize",
    "redact",
    "redact_line_json",
    "warm",
]
