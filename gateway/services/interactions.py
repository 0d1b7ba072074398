"""The developer read path: which interactions a developer may read, redacted and logged."""

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from gateway.exceptions import Forbidden, NotFound
from gateway.models import Conn, Developer, Keyring, Row
from gateway.redaction import (
    Placeholders,
    Policy,
    UnknownPolicy,
    get_policy,
    pseudonymize,
    redact,
)
from gateway.repositories import access_log as access_log_repo
from gateway.repositories import interactions as interactions_repo
from gateway.repositories import pseudonyms as pseudonyms_repo
from gateway.repositories.interactions import InteractionFilter
from gateway.services.developers import get_skill

__all__ = ["InteractionFilter", "Page", "read_interaction", "read_interactions"]

logger = logging.getLogger(__name__)

STRICTEST_POLICY = "strict"

# Fields whose text is a transcript and always passes the tier's redaction policy (rule 5).
_TEXT_FIELDS = ("utterance", "response")


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    # keyset of the last item when more may follow; the view turns it into a signed cursor
    next_after: tuple[datetime, str] | None


def _require_transcripts(developer: Developer) -> None:
    if not developer.tier.transcripts_readable:
        raise Forbidden(
            f"Tier {developer.tier.name!r} does not include transcripts; "
            "ask for a tier with POST /v1/developer/tier-requests.",
            details={"tier": developer.tier.name},
        )


def _not_before(developer: Developer, now: datetime) -> datetime:
    return now - timedelta(days=developer.tier.retention_days)


def _user_pseudonym(developer: Developer, user_id: str, keyring: Keyring) -> str:
    return pseudonymize(
        user_id, scope=f"developer:{developer.id}", keys=keyring.keys, key_id=keyring.current
    )


def _policy_of(developer: Developer) -> Policy:
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


def _present(row: Row, developer: Developer, keyring: Keyring) -> dict[str, Any]:
    """Shape one row for the developer: tier fields only, text redacted, ids pseudonymous."""
    allowed = set(developer.tier.fields)
    policy = _policy_of(developer)
    placeholders = Placeholders()  # one numbering across all texts of this interaction
    # the order reference is shown as a field, so hiding it inside the text would only confuse
    shown = [row["order_ref"]] if "order_ref" in allowed and row["order_ref"] else []
    item: dict[str, Any] = {
        "id": str(row["id"]),
        "occurred_at": row["occurred_at"],
        "user": _user_pseudonym(developer, str(row["user_id"]), keyring),
    }
    for name in _TEXT_FIELDS:
        if name in allowed:
            item[name] = redact(row[name], policy, placeholders=placeholders, keep=shown).text
    for name in ("intent", "outcome", "order_ref"):
        if name in allowed:
            item[name] = row[name]
    if "slots" in allowed:
        item["slots"] = [
            {
                "name": str(key),
                "value": redact(
                    _slot_text(value), policy, placeholders=placeholders, keep=shown
                ).text,
            }
            for key, value in sorted(row["slots"].items())
        ]
    if "session" in allowed and row["session_id"]:
        item["session"] = pseudonymize(
            row["session_id"],
            scope=f"developer:{developer.id}:session",
            keys=keyring.keys,
            key_id=keyring.current,
        )
    return item


def _slot_text(value: Any) -> str:
    # slot values arrive as JSON of any shape; only their text is ever shown, redacted
    return value if isinstance(value, str) else str(value)


def _log_reads(
    conn: Conn,
    rows: list[Row],
    *,
    developer: Developer,
    client_id: str,
    skill_id: str,
    endpoint: str,
    keyring: Keyring,
) -> None:
    access_log_repo.insert_reads(
        conn,
        developer_id=developer.id,
        client_id=client_id,
        skill_id=skill_id,
        endpoint=endpoint,
        reads=[(str(row["id"]), str(row["user_id"])) for row in rows],
    )
    pairs = {
        (_user_pseudonym(developer, str(r["user_id"]), keyring), str(r["user_id"])) for r in rows
    }
    pseudonyms_repo.insert_pseudonyms(conn, developer_id=developer.id, pairs=sorted(pairs))


def read_interactions(
    conn: Conn,
    *,
    developer: Developer,
    client_id: str,
    skill_id: str,
    filters: InteractionFilter,
    user_pseudonym: str | None,
    after: tuple[datetime, str] | None,
    limit: int | None,
    now: datetime,
    keyring: Keyring,
) -> Page:
    """Return one page of the skill's interactions the developer may read, newest first.

    Enforces rules 1 (own skills: `NotFound` otherwise), 2 (consent at the time, not revoked
    since), 3 (tier: `Forbidden` without transcripts; fields, retention and page size),
    5 (redaction and pseudonyms), 6 (no child profiles; sensitive only with cover) and
    7 (each returned interaction is written to the access log in this transaction).
    """
    get_skill(conn, developer_id=developer.id, skill_id=skill_id)
    _require_transcripts(developer)
    page_size = min(limit or developer.tier.page_size, developer.tier.page_size)
    if user_pseudonym is not None:
        user_id = pseudonyms_repo.find_user_id(
            conn, developer_id=developer.id, pseudonym=user_pseudonym
        )
        if user_id is None:
            return Page([], None)  # a pseudonym this developer was never shown matches nothing
        filters = replace(filters, user_id=user_id)
    rows = interactions_repo.list_readable(
        conn,
        developer_id=developer.id,
        skill_id=skill_id,
        not_before=_not_before(developer, now),
        filters=filters,
        after=after,
        limit=page_size + 1,  # one extra row tells whether another page exists
    )
    more = len(rows) > page_size
    rows = rows[:page_size]
    _log_reads(
        conn,
        rows,
        developer=developer,
        client_id=client_id,
        skill_id=skill_id,
        endpoint="list",
        keyring=keyring,
    )
    next_after = (rows[-1]["occurred_at"], str(rows[-1]["id"])) if more else None
    return Page([_present(row, developer, keyring) for row in rows], next_after)


def read_interaction(
    conn: Conn,
    *,
    developer: Developer,
    client_id: str,
    skill_id: str,
    interaction_id: str,
    now: datetime,
    keyring: Keyring,
) -> dict[str, Any]:
    """Return one interaction under the same rules as `read_interactions`.

    Raises `NotFound` for anything the developer may not read, exactly as for a missing id.
    """
    get_skill(conn, developer_id=developer.id, skill_id=skill_id)
    _require_transcripts(developer)
    row = interactions_repo.find_readable(
        conn,
        developer_id=developer.id,
        skill_id=skill_id,
        interaction_id=interaction_id,
        not_before=_not_before(developer, now),
    )
    if row is None:
        raise NotFound()
    _log_reads(
        conn,
        [row],
        developer=developer,
        client_id=client_id,
        skill_id=skill_id,
        endpoint="detail",
        keyring=keyring,
    )
    return _present(row, developer, keyring)
