"""Rule 4, never audio: the one list of what an interaction may carry out of the gateway."""

from typing import Any

# Audio references are stored only in vault.audio_recordings and device serials only in a
# column; the app role is granted neither (migration 0001), so no query of the web app can
# even name them. On top of that, a developer response is built from this allowlist alone:
# a new column cannot leak by being selected, and no field says whether audio exists.
FIELDS_THAT_LEAVE = frozenset(
    {
        "id",
        "occurred_at",
        "user",
        "session",
        "intent",
        "utterance",
        "response",
        "slots",
        "outcome",
        "order_ref",
    }
)


def only_fields_that_leave(item: dict[str, Any]) -> dict[str, Any]:
    """Return `item` restricted to the fields that may leave; anything else is dropped."""
    return {name: value for name, value in item.items() if name in FIELDS_THAT_LEAVE}
