"""Rule 3, asking for a tier: a developer files a request (the tier, its purpose in its own
words, the data-use terms acknowledged), one pending at a time; an admin approves it (making
a grant) or denies it with a reason the developer reads. Every step is audited (rule 7)."""

from datetime import datetime

from gateway.exceptions import Conflict, InvalidInput, NotFound
from gateway.models import Conn, Row
from gateway.repositories import tier_requests as requests_repo
from gateway.repositories import tiers as tiers_repo
from gateway.services import audit, whitelist
from gateway.services.tier_catalog import NO_TIER

# The version of the data-use terms a request acknowledges (README, "The whitelist workflow").
TERMS_VERSION = "2026-12"
STATUSES = ("pending", "approved", "denied")
MAX_PURPOSE = 4000


def submit_request(
    conn: Conn,
    *,
    actor: audit.Actor,
    developer_id: int,
    tier: str,
    purpose: str,
    accepted_terms: bool,
) -> Row:
    """File the developer's request for `tier`; the request (pending).

    Raises `InvalidInput` unless `accepted_terms` is exactly True (the developer acknowledges
    the data-use terms), for an unknown tier or `none`, or an empty purpose; `Conflict` while
    another request of the developer is pending. Audited as `tier_request.made` (the purpose
    stays in tier_requests: it is prose).
    """
    if accepted_terms is not True:
        raise InvalidInput(
            "Accept the data-use terms to ask for a tier.",
            details={"accepted_terms": ["Must be true: acknowledge the data-use terms."]},
        )
    text = (purpose or "").strip()
    if not text or len(text) > MAX_PURPOSE:
        raise InvalidInput(
            details={"purpose": [f"Say what you need it for, in 1 to {MAX_PURPOSE} characters."]}
        )
    if tier == NO_TIER or tiers_repo.find_tier(conn, tier) is None:
        known = [row["name"] for row in tiers_repo.list_tiers(conn) if row["name"] != NO_TIER]
        raise InvalidInput(
            details={"tier": [f"No tier to ask for named {tier!r}; known: {', '.join(known)}."]}
        )
    request = requests_repo.insert_request(
        conn,
        developer_id=developer_id,
        tier=tier,
        purpose=text,
        # what the developer sent: the database refuses a request without it, too
        accepted_terms=accepted_terms,
        terms_version=TERMS_VERSION,
    )
    audit.record(
        conn,
        actor=actor,
        action="tier_request.made",
        developer_id=developer_id,
        subject=str(request["id"]),
        details={"tier": tier, "terms": TERMS_VERSION},
    )
    return request


def list_requests(
    conn: Conn,
    *,
    status: str | None = None,
    developer_id: int | None = None,
    after: int | None = None,
    limit: int | None = None,
) -> list[Row]:
    """Requests, oldest first, optionally only of one status or developer (a developer's
    transaction sees its own only: row-level security)."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(details={"status": [f"One of: {', '.join(STATUSES)}."]})
    return requests_repo.list_requests(
        conn, status=status, developer_id=developer_id, after=after, limit=limit
    )


def _pending(conn: Conn, request_id: int) -> Row:
    request = requests_repo.find_request_for_update(conn, request_id)
    if request is None:
        raise NotFound()
    if request["status"] != "pending":
        raise Conflict(f"This request was {request['status']} already.")
    return request


def approve_request(
    conn: Conn,
    *,
    actor: audit.Actor,
    request_id: int,
    expires_at: datetime | None = None,
    reason: str | None = None,
    now: datetime,
) -> Row:
    """Approve a pending request: the developer is granted its tier now (`whitelist.grant_tier`,
    with the top tier's re-certification), until `expires_at`. The grant's reason is `reason`,
    or says which request it approves. Returns the decided request.

    Raises `NotFound` for an unknown request, `Conflict` for one decided already, and what
    `grant_tier` raises. Audited as `grant.made` and `tier_request.decided`.
    """
    request = _pending(conn, request_id)
    text = (reason or "").strip() or None
    grant_id = whitelist.grant_tier(
        conn,
        actor=actor,
        developer_id=request["developer_id"],
        tier=request["tier"],
        reason=text or f"Approved tier request {request_id}.",
        expires_at=expires_at,
        now=now,
        request_id=request_id,
    )
    decided = requests_repo.record_decision(
        conn,
        request_id,
        status="approved",
        decided_by=str(actor),
        reason=text,
        grant_id=grant_id,
    )
    audit.record(
        conn,
        actor=actor,
        action="tier_request.decided",
        developer_id=request["developer_id"],
        subject=str(request_id),
        details={"decision": "approved", "tier": request["tier"], "grant": grant_id},
    )
    return decided


def deny_request(
    conn: Conn, *, actor: audit.Actor, request_id: int, reason: str, now: datetime
) -> Row:
    """Deny a pending request with `reason` (required: the developer reads it). Returns the
    decided request. Raises `NotFound`, `Conflict` (decided already), `InvalidInput` (no
    reason). Audited as `tier_request.decided`."""
    text = (reason or "").strip()
    if not text or len(text) > whitelist.MAX_REASON:
        raise InvalidInput(
            details={"reason": [f"Say why, in 1 to {whitelist.MAX_REASON} characters."]}
        )
    request = _pending(conn, request_id)
    decided = requests_repo.record_decision(
        conn, request_id, status="denied", decided_by=str(actor), reason=text, grant_id=None
    )
    audit.record(
        conn,
        actor=actor,
        action="tier_request.decided",
        developer_id=request["developer_id"],
        subject=str(request_id),
        details={"decision": "denied", "tier": request["tier"]},
    )
    return decided
