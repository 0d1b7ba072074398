"""Redaction of transcript text: the one entry point every outgoing transcript passes through."""

from gateway.redaction.engine import Placeholders, Redaction, Span, redact
from gateway.redaction.policies import Policy, UnknownPolicy, get_policy, policy_names
from gateway.redaction.pseudonyms import pseudonymize

__all__ = [
    "Placeholders",
    "Policy",
    "Redaction",
    "Span",
    "UnknownPolicy",
    "get_policy",
    "policy_names",
    "pseudonymize",
    "redact",
]
