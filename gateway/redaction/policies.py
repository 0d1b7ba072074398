"""Named redaction policies: which detectors run and what each does with a match."""

from dataclasses import dataclass, field


class UnknownPolicy(ValueError):
    """Raised for a policy name that is not configured."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown redaction policy {name!r}; known: {', '.join(policy_names())}")
        self.name = name


@dataclass(frozen=True)
class Policy:
    name: str
    # entity type -> action: "placeholder", "drop", "mask_last4" or "keep"
    actions: dict[str, str] = field(default_factory=dict)


_ALL_PLACEHOLDER = {"EMAIL": "placeholder", "PHONE": "placeholder", "CARD": "placeholder"}

POLICIES: dict[str, Policy] = {
    "strict": Policy("strict", dict(_ALL_PLACEHOLDER)),
    "standard": Policy("standard", dict(_ALL_PLACEHOLDER)),
    "trusted": Policy("trusted", {**_ALL_PLACEHOLDER, "CARD": "mask_last4"}),
}


def policy_names() -> list[str]:
    return sorted(POLICIES)


def get_policy(name: str) -> Policy:
    """Return the policy called `name`; raise `UnknownPolicy` when there is none."""
    try:
        return POLICIES[name]
    except KeyError:
        raise UnknownPolicy(name) from None
