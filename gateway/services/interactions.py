"""The developer read path: the thin orchestration of the rules over one skill's interactions.

Each rule has its own module; this one only calls them in order:
skills (1), tiers (3), the readable-rows statement (1, 2, 3, 6 in one query), redaction and
pseudonyms (5, with the audio allowlist of rule 4), access_log (7).
"""

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from gateway.exceptions import NotFound
from gateway.models import Conn, Developer, Keyring, Row
from gateway.repositories import interactions as interactions_repo
from gateway.repositories.interactions import InteractionFilter
from gateway.services import access_log, redaction, skills, tiers

__all__ = [
    "InteractionFilter",
    "Page",
    "read_conversation",
    "read_interaction",
    "read_interactions",
]

# The most turns one conversation answers with: far above any real session's length.
MAX_TURNS = 500


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    # keyset of the last item when more may follow; the view turns it into a signed cursor
    next_after: tuple[datetime, str] | None


def _deliver(
    conn: Conn,
    rows: list[Row],
    *,
    developer: Developer,
    client_id: str,
    skill_id: str,
    endpoint: str,
    keyring: Keyring,
) -> list[dict[str, Any]]:
    """Log the reads (rule 7), remember the pseudonyms shown, and present the rows with their
    current redacted forms (rule 5)."""
    access_log.log_reads(
        conn, rows, developer=developer, client_id=client_id, skill_id=skill_id, endpoint=endpoint
    )
    redaction.remember_pseudonyms(
        conn, rows, developer=developer, skill_id=skill_id, keyring=keyring
    )
    rows = redaction.ensure_current_forms(conn, rows, developer)
    return [redaction.present_interaction(row, developer, keyring) for row in rows]


def read_interactions(
    conn: Conn,
    *,
    developer: Developer,
    client_id: str,
    skill_id: str,
    filters: InteractionFilter,
    user_pseudonym: str | None,
    session_pseudonym: str | None = None,
    after: tuple[datetime, str] | None,
    limit: int | None,
    now: datetime,
    keyring: Keyring,
) -> Page:
    """Return one page of the skill's interactions the developer may read, newest first.

    Enforces rules 1 (own skills: `NotFound` otherwise), 2 (consent at the time, not revoked
    since), 3 (tier: `Forbidden` without transcripts; fields, retention and page size),
    4 (no audio), 5 (redaction and pseudonyms), 6 (no child profiles; sensitive only with
    cover) and 7 (each returned interaction is written to the access log in this transaction).
    """
    skills.get_skill(conn, developer_id=developer.id, skill_id=skill_id)
    tiers.require_transcripts(developer)
    page_size = tiers.page_size(developer, limit)
    if user_pseudonym is not None:
        user_id = redaction.resolve_user_pseudonym(
            conn, developer=developer, pseudonym=user_pseudonym
        )
        if user_id is None:
            return Page([], None)  # a pseudonym this developer was never shown matches nothing
        filters = replace(filters, user_id=user_id)
    if session_pseudonym is not None:
        session_id = redaction.resolve_session_pseudonym(
            conn, developer=developer, skill_id=skill_id, pseudonym=session_pseudonym
        )
        if session_id is None:
            return Page([], None)  # likewise for a session pseudonym
        filters = replace(filters, session_id=session_id)
    policy = tiers.redaction_policy(developer)
    rows = interactions_repo.list_readable(
        conn,
        developer_id=developer.id,
        skill_id=skill_id,
        not_before=tiers.not_before(developer, now),
        policy=policy.name,
        version=redaction.form_version(policy),
        filters=filters,
        # search only what this tier shows (rule 3): never a field it hides
        search_in=tiers.visible_fields(developer) & {"utterance", "response", "slots"},
        after=after,
        limit=page_size + 1,  # one extra row tells whether another page exists
    )
    more = len(rows) > page_size
    rows = rows[:page_size]
    items = _deliver(
        conn,
        rows,
        developer=developer,
        client_id=client_id,
        skill_id=skill_id,
        endpoint="list",
        keyring=keyring,
    )
    next_after = (rows[-1]["occurred_at"], str(rows[-1]["id"])) if more else None
    return Page(items, next_after)


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
    skills.get_skill(conn, developer_id=developer.id, skill_id=skill_id)
    tiers.require_transcripts(developer)
    row = interactions_repo.find_readable(
        conn,
        developer_id=developer.id,
        skill_id=skill_id,
        interaction_id=interaction_id,
        not_before=tiers.not_before(developer, now),
        policy=tiers.redaction_policy(developer).name,
    )
    if row is None:
        raise NotFound()
    (item,) = _deliver(
        conn,
        [row],
        developer=developer,
        client_id=client_id,
        skill_id=skill_id,
        endpoint="detail",
        keyring=keyring,
    )
    return item


def read_conversation(
    conn: Conn,
    *,
    developer: Developer,
    client_id: str,
    skill_id: str,
    session_pseudonym: str,
    now: datetime,
    keyring: Keyring,
) -> list[dict[str, Any]]:
    """Return the readable turns of one conversation, oldest first, under the same rules as
    `read_interactions`: a conversation that crosses a consent change shows only the turns
    its consent covers.

    Raises `NotFound` for a session pseudonym this developer was never shown for this skill,
    and for a conversation with no readable turn, exactly as for one that does not exist.
    """
    skills.get_skill(conn, developer_id=developer.id, skill_id=skill_id)
    tiers.require_transcripts(developer)
    session_id = redaction.resolve_session_pseudonym(
        conn, developer=developer, skill_id=skill_id, pseudonym=session_pseudonym
    )
    if session_id is None:
        raise NotFound()
    rows = interactions_repo.list_readable_session(
        conn,
        developer_id=developer.id,
        skill_id=skill_id,
        session_id=session_id,
        not_before=tiers.not_before(developer, now),
        policy=tiers.redaction_policy(developer).name,
        limit=MAX_TURNS,
    )
    if not rows:
        raise NotFound()
    return _deliver(
        conn,
        rows,
        developer=developer,
        client_id=client_id,
        skill_id=skill_id,
        endpoint="session",
        keyring=keyring,
    )
