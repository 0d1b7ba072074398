"""Rule 2, consent: an interaction is readable only if its user held an active consent for
that skill when it happened and has not revoked it since; no consent is the default.

The read side is one clause of the developer read path's statement,
`repositories/consents.py: CONSENTED_AT_THE_TIME` (with the sensitive-category cover of
rule 6). Nothing about consent is cached anywhere, so a revocation holds from the very next
request on every instance. History is kept: revoking closes the open row, granting again adds
a new one, and periods never overlap (one open row per user and skill, by a unique index).
"""

from datetime import datetime
from typing import Any

from gateway.exceptions import InvalidInput, NotFound
from gateway.models import Conn, Keyring, Row
from gateway.repositories import consents as consents_repo

# re-exported: the pages offer the same categories the service accepts
from gateway.repositories.protected_groups import SENSITIVE_CATEGORIES as SENSITIVE_CATEGORIES
from gateway.services import audit
from gateway.services.redaction import user_pseudonym_for
from gateway.services.webhooks import notify_consent_revoked


def grant_consent(
    conn: Conn,
    *,
    actor: audit.Actor,
    user_id: str,
    skill_id: str,
    categories: list[str] | None = None,
    granted_at: datetime | None = None,
) -> None:
    """Open a consent period for the user and skill, covering `categories` (health, finance).

    A consent already open is closed first, so a grant that changes the covered categories
    starts a new period instead of rewriting the old one. Audited as `consent.granted` by
    `actor` (the user, or the platform relaying what they said; rule 7). Raises `InvalidInput`
    for an unknown category.
    """
    unknown = sorted(set(categories or []) - set(SENSITIVE_CATEGORIES))
    if unknown:
        raise InvalidInput(details={"categories": [f"Unknown category: {', '.join(unknown)}."]})
    consents_repo.update_revoked(conn, user_id=user_id, skill_id=skill_id, revoked_at=granted_at)
    consents_repo.insert_consent(
        conn,
        user_id=user_id,
        skill_id=skill_id,
        categories=sorted(set(categories or [])),
        granted_at=granted_at,
    )
    audit.record(
        conn,
        actor=actor,
        action="consent.granted",
        skill_id=skill_id,
        subject=str(user_id),
        details={"categories": sorted(set(categories or []))},
    )


def revoke_consent(
    conn: Conn,
    *,
    actor: audit.Actor,
    user_id: str,
    skill_id: str,
    revoked_at: datetime | None = None,
) -> bool:
    """Close the user's open consent for the skill; return whether one was open (rule 2).

    A revocation that closed a consent is audited as `consent.revoked` by `actor` (rule 7).
    """
    revoked = consents_repo.update_revoked(
        conn, user_id=user_id, skill_id=skill_id, revoked_at=revoked_at
    )
    if revoked:
        audit.record(
            conn,
            actor=actor,
            action="consent.revoked",
            skill_id=skill_id,
            subject=str(user_id),
        )
    return revoked


# --- the user's side: what they use, and consent they give and take back


def _state(skill: Row, history: list[Row]) -> dict[str, Any]:
    current = next((period for period in history if period["revoked_at"] is None), None)
    return {
        "skill": {"id": str(skill["skill_id"]), "name": skill["skill_name"]},
        "developer": {"id": int(skill["developer_id"]), "name": skill["developer_name"]},
        "consented": current is not None,
        # since when it may read (consented), or since when it may not (revoked); None: never
        "since": (
            current["granted_at"]
            if current is not None
            else (history[0]["revoked_at"] if history else None)
        ),
        "categories": list(current["categories"]) if current is not None else [],
        "history": [
            {
                "granted_at": period["granted_at"],
                "revoked_at": period["revoked_at"],
                "categories": list(period["categories"]),
            }
            for period in history
        ],
    }


def list_my_consents(conn: Conn, *, user_id: str) -> list[dict[str, Any]]:
    """Every skill the user uses (has interactions with, or ever consented to), its developer,
    whether it may read the user's transcripts and since when, the sensitive categories
    covered, and the whole consent history, newest period first (rule 2)."""
    skills = consents_repo.list_skills_in_use(conn, user_id=user_id)
    history = consents_repo.list_history(
        conn, user_id=user_id, skill_ids=[str(s["skill_id"]) for s in skills]
    )
    by_skill: dict[str, list[Row]] = {}
    for period in history:
        by_skill.setdefault(str(period["skill_id"]), []).append(period)
    return [_state(skill, by_skill.get(str(skill["skill_id"]), [])) for skill in skills]


def _my_consent(conn: Conn, *, user_id: str, skill_id: str) -> dict[str, Any]:
    found = [s for s in list_my_consents(conn, user_id=user_id) if s["skill"]["id"] == skill_id]
    if not found:  # pragma: no cover - the skill exists and the user just acted on it
        raise NotFound()
    return found[0]


def _skill_developer(conn: Conn, skill_id: str) -> int:
    developer_id = consents_repo.find_skill_developer(conn, skill_id=skill_id)
    if developer_id is None:
        raise NotFound()
    return developer_id


def give_consent(
    conn: Conn,
    *,
    actor: audit.Actor,
    user_id: str,
    skill_id: str,
    categories: list[str] | None = None,
) -> dict[str, Any]:
    """Let the skill's developer read the user's transcripts from now on, covering
    `categories` (health, finance); return the skill's consent state.

    Idempotent: the same consent already open changes nothing and records nothing. Other
    categories close the open period and start a new one (history is never rewritten, periods
    never overlap). Raises `NotFound` for an unknown skill, `InvalidInput` for an unknown
    category. Audited as `consent.granted` by `actor` (rule 7).
    """
    _skill_developer(conn, skill_id)
    wanted = sorted(set(categories or []))
    current = consents_repo.find_open(conn, user_id=user_id, skill_id=skill_id)
    if current is None or sorted(current["categories"]) != wanted:
        grant_consent(conn, actor=actor, user_id=user_id, skill_id=skill_id, categories=wanted)
    return _my_consent(conn, user_id=user_id, skill_id=skill_id)


def withdraw_consent(
    conn: Conn, *, actor: audit.Actor, user_id: str, skill_id: str, keyring: Keyring
) -> dict[str, Any]:
    """Stop the skill's developer reading the user's transcripts; return the consent state.

    Holds from the developer's very next request on every instance, since the read path
    checks consent in its own statement and nothing caches it (rule 2). Queues the signed
    `consent.revoked` notice to the developer, with its pseudonym for the user, in the same
    transaction. Idempotent: with no open consent nothing changes. Raises `NotFound` for an
    unknown skill. Audited as `consent.revoked` by `actor` (rule 7).
    """
    developer_id = _skill_developer(conn, skill_id)
    if revoke_consent(conn, actor=actor, user_id=user_id, skill_id=skill_id):
        closed = consents_repo.list_history(conn, user_id=user_id, skill_ids=[skill_id])[0]
        notify_consent_revoked(
            conn,
            user_pseudonym=user_pseudonym_for(developer_id, user_id, keyring),
            developer_id=developer_id,
            skill_id=skill_id,
            revoked_at=closed["revoked_at"],
        )
    return _my_consent(conn, user_id=user_id, skill_id=skill_id)
