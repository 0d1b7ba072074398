"""Named redaction policies as data: which detectors run and what each entity type becomes."""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# The detectors' version: bump it whenever a detector finds something different, so text
# redacted and stored under an older version can be told apart (tests/redaction/test_version.py
# fails until it is bumped). 1: census names and the first address list; 2: names as people say
# them (possessives, full names, announced unknown names, non-US lists, places and brands kept)
# and every USPS street suffix.
REDACTOR_VERSION = 2

# What a policy may do with a detected entity.
ACTIONS = frozenset({"placeholder", "drop", "mask_last4", "mask_zip3", "keep"})
ENTITY_TYPES = (
    "NAME",
    "ADDRESS",
    "ZIP",
    "PHONE",
    "EMAIL",
    "CARD",
    "SSN",
    "IBAN",
    "IP",
    "DOB",
    "ACCOUNT",
    "SERIAL",
    "NUMBER",
)
# DESIGN §2 rule 5: names, contact details, account numbers and device serials never leave,
# whatever the tier. A policy that would keep one of these is refused when it is built.
NEVER_KEPT = frozenset(
    {"NAME", "ADDRESS", "PHONE", "EMAIL", "CARD", "SSN", "IBAN", "ACCOUNT", "SERIAL", "NUMBER"}
)
DETECTORS = (
    "numbers",
    "network",
    "iban",
    "email",
    "dates",
    "addresses",
    "accounts",
    "names",
)


class UnknownPolicy(ValueError):
    """Raised for a policy name that is not configured."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown redaction policy {name!r}; known: {', '.join(policy_names())}")
        self.name = name


@dataclass(frozen=True)
class Policy:
    """A redaction policy: an action per entity type ("placeholder" when not listed)."""

    name: str
    actions: Mapping[str, str] = field(default_factory=dict)
    detectors: tuple[str, ...] = DETECTORS
    description: str = ""

    def __post_init__(self) -> None:
        for entity, action in self.actions.items():
            if action not in ACTIONS:
                raise ValueError(f"policy {self.name!r}: unknown action {action!r} for {entity}")
            if action == "keep" and entity in NEVER_KEPT:
                raise ValueError(f"policy {self.name!r}: {entity} may never be kept")
        missing = set(DETECTORS) - set(self.detectors)
        if missing:
            # every detector runs: skipping one would let what it finds leave unredacted
            raise ValueError(f"policy {self.name!r}: detectors {sorted(missing)} must run")
        object.__setattr__(self, "actions", MappingProxyType(dict(self.actions)))

    @property
    def version(self) -> str:
        """What stored redacted text records: the detectors' version and this policy's actions.

        ``"2.3f9a1c0e"``: `REDACTOR_VERSION`, then a digest of the name, actions and detectors,
        so it changes when the detectors or what the policy does with their findings change.
        """
        actions = ",".join(f"{entity}={action}" for entity, action in sorted(self.actions.items()))
        spec = f"{self.name}|{actions}|{','.join(self.detectors)}"
        return f"{REDACTOR_VERSION}.{hashlib.sha256(spec.encode()).hexdigest()[:8]}"

    def action(self, entity: str) -> str:
        """The action for `entity`; types a policy does not mention are placeholdered."""
        return self.actions.get(entity, "placeholder")


_STRICT = {entity: "placeholder" for entity in ENTITY_TYPES}

POLICIES: dict[str, Policy] = {
    "strict": Policy(
        "strict",
        _STRICT,
        description="Every detected entity becomes a numbered placeholder. The default.",
    ),
    "standard": Policy(
        "standard",
        {**_STRICT, "ZIP": "mask_zip3"},
        description="As strict, but a ZIP code keeps its first three digits (region).",
    ),
    "trusted": Policy(
        "trusted",
        {**_STRICT, "ZIP": "keep", "CARD": "mask_last4"},
        description="As standard, but ZIP codes stay and a card shows its last four digits.",
    ),
}


def policy_names() -> list[str]:
    """Names of the configured policies, sorted."""
    return sorted(POLICIES)


def get_policy(name: str) -> Policy:
    """Return the policy called `name`; raise `UnknownPolicy` when there is none."""
    try:
        return POLICIES[name]
    except KeyError:
        raise UnknownPolicy(name) from None
