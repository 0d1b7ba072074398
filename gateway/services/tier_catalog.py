"""Rule 3, tiers as data admins manage: listing, creating and changing them, each write checked
(a known redaction policy, a rate limit that parses, re-certification of the top tier) and
audited. Nothing caches a tier: every request reads it, so a change holds from the next one."""

from collections.abc import Mapping
from typing import Any

from limits import parse_many

from gateway.exceptions import InvalidInput, NotFound
from gateway.models import Conn, Row
from gateway.redaction import policy_names
from gateway.repositories import tiers as tiers_repo
from gateway.services import audit

# The interaction fields a tier may show (the tiers table's CHECK holds the same list).
FIELDS = ("utterance", "response", "intent", "slots", "outcome", "order_ref", "session")
# Whole conversations: a tier that shows any of these is a top tier, whose grants must be
# re-certified (`recertify_days`, at most 365).
CONVERSATION_FIELDS = frozenset({"response", "slots", "session"})
MAX_RECERTIFY_DAYS = 365
# Where an expired or revoked grant leaves a developer.
NO_TIER = "none"
SETTINGS = tuple(column for column in tiers_repo.TIER_COLUMNS if column != "name")
REQUIRED_TO_CREATE = (
    "transcripts_readable",
    "retention_days",
    "redaction_policy",
    "page_size",
    "rate_limit",
)


def list_tiers(conn: Conn) -> list[Row]:
    """Every tier with all its settings, by name."""
    return tiers_repo.list_tiers(conn)


def find_tier(conn: Conn, *, name: str) -> Row | None:
    """One tier, or None."""
    return tiers_repo.find_tier(conn, name)


def get_tier(conn: Conn, *, name: str) -> Row:
    """One tier; raises `NotFound` for an unknown name."""
    tier = tiers_repo.find_tier(conn, name)
    if tier is None:
        raise NotFound(f"No tier named {name!r}.")
    return tier


def is_top_tier(tier: Mapping[str, Any]) -> bool:
    """Whether grants of the tier must be re-certified (`recertify_days` set)."""
    return tier.get("recertify_days") is not None


def _check(name: str, tier: Mapping[str, Any]) -> None:
    """Raise `InvalidInput` (422) naming each setting of the whole tier `tier` that is refused."""
    problems: dict[str, list[str]] = {}
    policy = tier["redaction_policy"]
    if policy not in policy_names():
        # a policy that does not exist would be replaced by the strictest one at read time;
        # refusing it here keeps the tier saying what developers actually get
        problems["redaction_policy"] = [
            f"No redaction policy named {policy!r}; known: {', '.join(policy_names())}."
        ]
    try:
        items = parse_many(str(tier["rate_limit"]))
    except ValueError:
        items = []
    if not items or any(item.amount < 1 for item in items):
        problems["rate_limit"] = [
            "Not a rate limit: write it like '60 per minute' or '1000 per hour; 30 per minute'."
        ]
    unknown = sorted(set(tier["fields"]) - set(FIELDS))
    if unknown:
        problems["fields"] = [f"Unknown fields: {', '.join(unknown)}; known: {', '.join(FIELDS)}."]
    recertify = tier.get("recertify_days")
    if recertify is not None and not 1 <= recertify <= MAX_RECERTIFY_DAYS:
        problems["recertify_days"] = [f"Between 1 and {MAX_RECERTIFY_DAYS} days."]
    shows_conversations = tier["transcripts_readable"] and CONVERSATION_FIELDS & set(tier["fields"])
    if shows_conversations and recertify is None:
        problems.setdefault("recertify_days", []).append(
            "A tier that shows whole conversations (response, slots or session) is a top tier: "
            f"its grants must be re-certified, at least every {MAX_RECERTIFY_DAYS} days."
        )
    if name == NO_TIER and (tier["transcripts_readable"] or recertify is not None):
        problems["transcripts_readable" if tier["transcripts_readable"] else "recertify_days"] = [
            "Tier 'none' is where expired and revoked grants leave a developer: it reads no "
            "transcripts and never expires."
        ]
    if problems:
        raise InvalidInput(details=problems)


def _label(value: Any) -> Any:
    """A setting as the audit log may hold it: ids, counts and labels, never prose."""
    if value is None:
        return "unset"
    if isinstance(value, bool | int):
        return value
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return str(value).replace(" ", "_").replace(";", "")


def create_tier(conn: Conn, *, actor: audit.Actor, **fields: Any) -> Row:
    """Create a tier (`name` and the settings of SETTINGS; description, fields, k, stats weeks
    and re-certification have defaults); the new row.

    Raises `InvalidInput` for a missing or refused setting (an unknown redaction policy, a rate
    limit that does not parse, a top tier without re-certification) and `Conflict` when the
    name is taken. Audited as `tier.created` (rule 7).
    """
    unknown = sorted(set(fields) - {"name", *SETTINGS})
    if unknown:
        raise InvalidInput(details={name: ["Unknown field."] for name in unknown})
    missing = [name for name in ("name", *REQUIRED_TO_CREATE) if fields.get(name) is None]
    if missing:
        raise InvalidInput(details={name: ["Missing data for required field."] for name in missing})
    tier = {"fields": [], "k_threshold": 10, "description": "", "recertify_days": None, **fields}
    tier["fields"] = list(tier["fields"])
    _check(str(tier["name"]), tier)
    row = tiers_repo.insert_tier(conn, tier)
    audit.record(
        conn,
        actor=actor,
        action="tier.created",
        subject=str(row["name"]),
        details={name: _label(row[name]) for name in SETTINGS if name != "description"},
    )
    return row


def update_tier(conn: Conn, *, actor: audit.Actor, name: str, **changes: Any) -> Row:
    """Change some of a tier's settings; the tier as it now is. Every developer on the tier is
    held to the change from its very next request, on every instance (nothing caches a tier).

    Raises `NotFound` for an unknown tier and `InvalidInput` for an unknown or refused setting
    (checked on the tier as it would be). Audited as `tier.changed` with the names and the
    before and after of the settings that changed (a description only by name: it is prose);
    a change that changes nothing records nothing.
    """
    unknown = sorted(set(changes) - set(SETTINGS))
    if unknown:
        raise InvalidInput(details={field: ["Unknown field."] for field in unknown})
    before = tiers_repo.find_tier(conn, name, for_update=True)
    if before is None:
        raise NotFound(f"No tier named {name!r}.")
    if "fields" in changes:
        changes["fields"] = list(changes["fields"])
    changed = {field: value for field, value in changes.items() if before[field] != value}
    if not changed:
        return before
    _check(name, {**before, **changed})
    after = tiers_repo.update_tier(conn, name, changed)
    details: dict[str, Any] = {"changed": sorted(changed)}
    for field in sorted(changed):
        if field != "description":
            details[f"before_{field}"] = _label(before[field])
            details[f"after_{field}"] = _label(after[field])
    audit.record(conn, actor=actor, action="tier.changed", subject=name, details=details)
    return after
