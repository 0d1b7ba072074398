"""Rule 2, consent: an interaction is readable only if its user held an active consent for
that skill when it happened and has not revoked it since; no consent is the default.

The read side is one clause of the developer read path's statement,
`repositories/consents.py: CONSENTED_AT_THE_TIME` (with the sensitive-category cover of
rule 6). Nothing about consent is cached anywhere, so a revocation holds from the very next
request on every instance. History is kept: revoking closes the open row, granting again adds
a new one, and periods never overlap (one open row per user and skill, by a unique index).
"""

from datetime import datetime

from gateway.exceptions import InvalidInput
from gateway.models import Conn
from gateway.repositories import consents as consents_repo
from gateway.repositories.protected_groups import SENSITIVE_CATEGORIES
from gateway.services import audit


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
