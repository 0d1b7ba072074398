"""Notices to developers (rule 8): where they go, signed how, queued in the transaction that
revokes or deletes, and delivered by the worker until acknowledged."""

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from standardwebhooks.webhooks import Webhook

from gateway import security
from gateway.exceptions import InvalidInput, NotFound
from gateway.models import Conn, Row
from gateway.repositories import webhooks as webhooks_repo
from gateway.webhook_delivery import Resolver, Target, UnsafeTarget, check_target, resolve

# names the key derivation for sealing signing secrets (not a secret itself)
SEALING_PURPOSE = "webhook signing secret"
MAX_BACKOFF = timedelta(hours=6)
EVENT_TYPES = ("consent.revoked", "interactions.deleted")


@dataclass(frozen=True)
class WebhookRegistration:
    url: str
    # shown once, when the endpoint is first registered (later PUTs change the URL only)
    secret: str | None


def register_webhook(
    conn: Conn,
    *,
    developer_id: int,
    url: str,
    server_secret: str,
    allow_loopback: bool,
    resolver: Resolver = resolve,
) -> WebhookRegistration:
    """Set the developer's notice URL; the first time, also make its signing secret.

    Raises `InvalidInput` for a URL that is not public HTTPS (checked after DNS resolution:
    private, loopback, link-local and metadata addresses are refused).
    """
    try:
        check_target(url, allow_loopback=allow_loopback, resolver=resolver)
    except UnsafeTarget as exc:
        raise InvalidInput(str(exc), details={"url": [str(exc)]}) from exc
    existing = webhooks_repo.find_webhook(conn, developer_id=developer_id)
    if existing is not None:
        webhooks_repo.update_url(conn, developer_id=developer_id, url=url)
        return WebhookRegistration(url, None)
    secret = security.new_webhook_secret()
    webhooks_repo.insert_webhook(
        conn,
        developer_id=developer_id,
        url=url,
        secret_ciphertext=security.seal(
            secret, server_secret=server_secret, purpose=SEALING_PURPOSE
        ),
    )
    return WebhookRegistration(url, secret)


def rotate_webhook_secret(
    conn: Conn, *, developer_id: int, server_secret: str, now: datetime, grace: timedelta
) -> str:
    """Make a new signing secret and return it (once); the old one keeps signing, as a second
    signature, for `grace`. Raises `NotFound` when no webhook is registered."""
    existing = webhooks_repo.find_webhook(conn, developer_id=developer_id)
    if existing is None:
        raise NotFound("No webhook is registered; PUT one first.")
    secret = security.new_webhook_secret()
    webhooks_repo.update_secret(
        conn,
        developer_id=developer_id,
        secret_ciphertext=security.seal(
            secret, server_secret=server_secret, purpose=SEALING_PURPOSE
        ),
        previous_ciphertext=bytes(existing["secret_ciphertext"]),
        previous_expires_at=now + grace,
    )
    return secret


def describe_webhook(conn: Conn, *, developer_id: int) -> dict[str, Any]:
    """The developer's webhook URL and its notices by state; `NotFound` when none is set."""
    existing = webhooks_repo.find_webhook(conn, developer_id=developer_id)
    if existing is None:
        raise NotFound("No webhook is registered.")
    return {
        "url": existing["url"],
        "created_at": existing["created_at"],
        "updated_at": existing["updated_at"],
        "notices": webhooks_repo.count_by_status(conn, developer_id=developer_id),
    }


def queue_notice(
    conn: Conn,
    *,
    developer_id: int,
    event_type: str,
    data: dict[str, Any],
    user_id: str | None = None,
    deletion_id: str | None = None,
) -> str:
    """Queue a notice in the caller's transaction (the outbox) and return its id.

    It commits or rolls back with the action it reports, and carries ids and pseudonyms only.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    delivery_id = "msg_" + secrets.token_hex(16)
    webhooks_repo.insert_delivery(
        conn,
        delivery_id=delivery_id,
        developer_id=developer_id,
        event_type=event_type,
        payload={"type": event_type, "data": data},
        user_id=user_id,
        deletion_id=deletion_id,
    )
    return delivery_id


@dataclass(frozen=True)
class Attempt:
    """One claimed notice, ready to send: where, what, signed how."""

    delivery_id: str
    developer_id: int
    attempts: int
    target: Target | None
    body: bytes
    headers: dict[str, str]
    refusal: str | None  # why it cannot be sent now (no webhook, an unsafe URL)


def _secrets(row: Row, *, server_secret: str, now: datetime) -> list[str]:
    found = [
        security.unseal(
            bytes(row["secret_ciphertext"]), server_secret=server_secret, purpose=SEALING_PURPOSE
        )
    ]
    expires = row["previous_secret_expires_at"]
    if row["previous_secret_ciphertext"] is not None and expires is not None and now < expires:
        found.append(
            security.unseal(
                bytes(row["previous_secret_ciphertext"]),
                server_secret=server_secret,
                purpose=SEALING_PURPOSE,
            )
        )
    return found


def sign(delivery_id: str, timestamp: datetime, body: str, secrets_: list[str]) -> dict[str, str]:
    """Standard Webhooks headers: webhook-id, webhook-timestamp and one v1 signature per
    secret (the current one first), space-separated."""
    signatures = " ".join(Webhook(s).sign(delivery_id, timestamp, body) for s in secrets_)
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": "skill-data-gateway-webhooks",
    }


def claim_attempts(
    conn: Conn,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    server_secret: str,
    allow_loopback: bool,
    resolver: Resolver = resolve,
) -> list[Attempt]:
    """Claim due notices for one attempt each and prepare them: signed body, checked target.

    The attempt is counted at claim time, so a worker that dies mid-delivery still uses one
    up; the notice is due again when the lease ends, with the same id.
    """
    attempts = []
    for row in webhooks_repo.claim_due(conn, now=now, lease_until=now + lease, limit=limit):
        payload = {**row["payload"], "id": row["id"], "created_at": row["created_at"].isoformat()}
        body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        hook = webhooks_repo.find_webhook(conn, developer_id=row["developer_id"])
        target, refusal, headers = None, None, {}
        if hook is None:
            refusal = "no webhook registered"
        else:
            try:
                target = check_target(hook["url"], allow_loopback=allow_loopback, resolver=resolver)
                headers = sign(
                    row["id"], now, body, _secrets(hook, server_secret=server_secret, now=now)
                )
            except UnsafeTarget as exc:
                refusal = f"unsafe target: {exc}"
        attempts.append(
            Attempt(
                row["id"],
                row["developer_id"],
                row["attempts"],
                target,
                body.encode(),
                headers,
                refusal,
            )
        )
    return attempts


def backoff(attempts: int, *, base: float) -> timedelta:
    """The wait before the next attempt after `attempts` failed ones: base × 2^(n-1), capped."""
    return min(timedelta(seconds=base * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def record_attempt(
    conn: Conn,
    attempt: Attempt,
    *,
    status: int | None,
    error: str | None,
    now: datetime,
    max_attempts: int,
    backoff_base: float,
) -> str:
    """Record how an attempt went; return the notice's new state.

    A 2xx is an acknowledgement. Anything else is retried with exponential backoff until
    `max_attempts`, then dead-lettered (kept, with its last error, for an admin to see).
    """
    if status is not None and 200 <= status < 300:
        webhooks_repo.mark_delivered(conn, delivery_id=attempt.delivery_id, status=status, now=now)
        return "delivered"
    if attempt.attempts >= max_attempts:
        webhooks_repo.mark_failed(
            conn, delivery_id=attempt.delivery_id, status=status, error=error, retry_at=None
        )
        return "dead"
    webhooks_repo.mark_failed(
        conn,
        delivery_id=attempt.delivery_id,
        status=status,
        error=error,
        retry_at=now + backoff(attempt.attempts, base=backoff_base),
    )
    return "pending"


def notify_consent_revoked(
    conn: Conn, *, user_pseudonym: str, developer_id: int, skill_id: str, revoked_at: datetime
) -> str:
    """Queue the signed revocation notice for the developer of `skill_id` (rule 2): from now on
    it reads nothing more of this user through this skill, and should stop using what it has."""
    return queue_notice(
        conn,
        developer_id=developer_id,
        event_type="consent.revoked",
        data={"skill_id": skill_id, "user": user_pseudonym, "revoked_at": revoked_at.isoformat()},
    )
