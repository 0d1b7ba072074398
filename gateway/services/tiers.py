"""Rule 3, the tier: whether transcripts are readable, which fields, how far back, which
redaction policy and how many per page. Tiers are rows admins edit, never names in code."""

import logging
from datetime import datetime, timedelta

from gateway.exceptions import Forbidden
from gateway.models import Developer
from gateway.redaction import Policy, UnknownPolicy, get_policy

logger = logging.getLogger(__name__)

# What a tier naming no known policy gets: the strictest one (see `redaction_policy`).
STRICTEST_POLICY = "strict"


def require_transcripts(developer: Developer) -> None:
    """Raise `Forbidden` unless the developer's tier lets it read transcripts at all.

    Keyed on the tier's `transcripts_readable` flag, never on its name: an admin may create a
    tier of any name with transcripts off.
    """
    if not developer.tier.transcripts_readable:
        raise Forbidden(
            f"Tier {developer.tier.name!r} does not include transcripts; "
            "the platform's admins decide who is whitelisted.",
            details={"tier": developer.tier.name},
        )


def visible_fields(developer: Developer) -> frozenset[str]:
    """The interaction fields the tier shows besides id, time and the user pseudonym."""
    return frozenset(developer.tier.fields)


def not_before(developer: Developer, now: datetime) -> datetime:
    """The oldest moment the tier's retention window reaches back to."""
    return now - timedelta(days=developer.tier.retention_days)


def page_size(developer: Developer, requested: int | None) -> int:
    """The page size: what the caller asked for, never more than the tier allows."""
    return min(requested or developer.tier.page_size, developer.tier.page_size)


def redaction_policy(developer: Developer) -> Policy:
    """The tier's redaction policy; a name no policy has falls back to the strictest one.

    Tiers are data an admin edits, so a typo must not become either a 500 or an unredacted
    transcript (rule 5): fail closed and say so in the log.
    """
    try:
        return get_policy(developer.tier.redaction_policy)
    except UnknownPolicy:
        logger.error(
            "tier %r names unknown redaction policy %r; using %r",
            developer.tier.name,
            developer.tier.redaction_policy,
            STRICTEST_POLICY,
        )
        return get_policy(STRICTEST_POLICY)
