"""OAuth clients: registration and authentication of developers, admins and the platform."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gateway import security
from gateway.exceptions import Conflict, InvalidInput, NotFound
from gateway.models import Conn, Row
from gateway.repositories import developers as developers_repo
from gateway.repositories import oauth_clients as clients_repo
from gateway.repositories import oauth_tokens as tokens_repo
from gateway.services import audit

# The longest a replaced secret keeps working: long enough to roll a fleet over, short enough
# that a leaked secret does not outlive the month.
MAX_GRACE = timedelta(days=30)

SCOPES_BY_KIND = {
    "developer": ["transcripts:read"],
    "admin": ["admin"],
    "platform": ["ingest"],
    # the users' first-party app: a public client, user tokens through authorization_code
    "app": ["privacy"],
}


@dataclass(frozen=True)
class IssuedClient:
    client_id: str
    client_secret: str  # shown once; only its hash is stored
    kind: str
    scopes: list[str]


@dataclass(frozen=True)
class Client:
    client_id: str
    kind: str
    developer_id: int | None
    scopes: list[str]
    secret_hash: str = field(repr=False)
    secret_version: int = 1
    previous_secret_hash: str | None = field(default=None, repr=False)
    previous_secret_expires_at: datetime | None = None
    # an app's registered redirect URIs, matched exactly (none for the other kinds)
    redirect_uris: tuple[str, ...] = ()
    name: str = ""


@dataclass(frozen=True)
class RotatedSecret:
    client_id: str
    client_secret: str  # shown once; only its hash is stored
    secret_version: int
    previous_valid_until: datetime | None  # None: the previous secret stopped at once


def register_client(
    conn: Conn,
    *,
    actor: audit.Actor,
    kind: str,
    developer_id: int | None = None,
    name: str = "",
    redirect_uris: list[str] | None = None,
) -> IssuedClient:
    """Create a client of `kind` with a fresh secret and return the credentials (once).

    Audited as `client.created` by `actor`, by client id only (rule 7). Raises `ValueError`
    for an unknown kind or a developer client without a developer.
    """
    if kind not in SCOPES_BY_KIND:
        raise ValueError(f"unknown client kind {kind!r}")
    if (kind == "developer") != (developer_id is not None):
        raise ValueError("developer clients, and only they, belong to a developer")
    if bool(redirect_uris) != (kind == "app"):
        raise ValueError("apps, and only they, have redirect URIs (at least one)")
    client_id = security.new_client_id(kind)
    secret = security.new_client_secret()
    scopes = SCOPES_BY_KIND[kind]
    clients_repo.insert_client(
        conn,
        client_id=client_id,
        secret_hash=security.hash_secret(secret),
        kind=kind,
        scopes=scopes,
        developer_id=developer_id,
        name=name,
        redirect_uris=redirect_uris or [],
    )
    audit.record(
        conn,
        actor=actor,
        action="client.created",
        developer_id=developer_id,
        subject=client_id,
        details={"kind": kind, "scopes": scopes},
    )
    return IssuedClient(client_id, secret, kind, scopes)


def matching_secret_version(
    client: Client | None, secret: str, *, now: datetime | None = None
) -> int | None:
    """Which of the client's secrets `secret` is: its current version, the previous one while
    that is in its grace period (at `now`; without `now`, never), or None.

    Always two hash comparisons, in constant time, whatever the client: no client, no previous
    secret and a wrong secret cost the same.
    """
    in_grace = (
        client is not None
        and now is not None
        and client.previous_secret_expires_at is not None
        and now < client.previous_secret_expires_at
    )
    current = security.verify_secret(client.secret_hash if client else None, secret)
    previous = security.verify_secret(
        client.previous_secret_hash if client and in_grace else None, secret
    )
    if client is None:
        return None
    if current:
        return client.secret_version
    return client.secret_version - 1 if previous else None


def secret_matches(client: Client | None, secret: str, *, now: datetime | None = None) -> bool:
    """Whether `secret` is one of the client's (see `matching_secret_version`)."""
    return matching_secret_version(client, secret, now=now) is not None


def authenticate_client(
    conn: Conn, *, client_id: str, client_secret: str, now: datetime | None = None
) -> Client | None:
    """Return the active client whose secret matches, else None.

    Unknown ids, wrong secrets and revoked clients are indistinguishable to the caller and
    cost the same hash comparisons.
    """
    client = find_active_client(conn, client_id)
    return client if secret_matches(client, client_secret, now=now) else None


def find_active_client(conn: Conn, client_id: str) -> Client | None:
    """Return the client unless it is unknown or revoked."""
    row = clients_repo.find_client(conn, client_id)
    if row is None or row["revoked_at"] is not None:
        return None
    return Client(
        row["client_id"],
        row["kind"],
        row["developer_id"],
        list(row["scopes"]),
        row["secret_hash"],
        row["secret_version"],
        row["previous_secret_hash"],
        row["previous_secret_expires_at"],
        redirect_uris=tuple(row["redirect_uris"]),
        name=row["name"],
    )


# --- the lifecycle admins and operators manage


def create_client(
    conn: Conn, *, actor: audit.Actor, kind: str, developer_id: int | None = None, name: str = ""
) -> IssuedClient:
    """`register_client` for admins and operators: an unknown developer is `NotFound`, a bad
    combination of kind and developer `InvalidInput` (a 422), not a `ValueError`."""
    if kind not in SCOPES_BY_KIND:
        raise InvalidInput(details={"kind": [f"One of: {', '.join(SCOPES_BY_KIND)}."]})
    if (kind == "developer") != (developer_id is not None):
        message = (
            "A developer client needs a developer_id."
            if kind == "developer"
            else "Only developer clients belong to a developer."
        )
        raise InvalidInput(details={"developer_id": [message]})
    if developer_id is not None:
        developers_repo.get_developer(conn, developer_id)
    return register_client(conn, actor=actor, kind=kind, developer_id=developer_id, name=name)


def list_clients(
    conn: Conn,
    *,
    developer_id: int | None = None,
    kind: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> list[Row]:
    """Clients by client id after `after`, optionally one developer's or one kind's: never a
    secret or a hash of one."""
    return clients_repo.list_clients(
        conn, developer_id=developer_id, kind=kind, after=after, limit=limit
    )


def get_client(conn: Conn, *, client_id: str) -> Row:
    """One client as admins see it (no secret, no hash); `NotFound` for an unknown id."""
    row = clients_repo.find_client(conn, client_id)
    if row is None:
        raise NotFound()
    hidden = {"secret_hash", "previous_secret_hash"}
    return {name: value for name, value in row.items() if name not in hidden}


def rotate_secret(
    conn: Conn,
    *,
    actor: audit.Actor,
    client_id: str,
    grace: timedelta | None = None,
    now: datetime,
) -> RotatedSecret:
    """Give the client a new secret (returned once; only its hash is stored). With `grace`,
    the replaced secret, and tokens issued with it, keep working until `now + grace`; without,
    both stop at once. Any older secret stops at once either way.

    Audited as `client.rotated` with the new version and the grace in seconds (rule 7).
    Raises `NotFound` for an unknown client, `Conflict` for a revoked one (or a rotation that
    raced another) and `InvalidInput` for a grace below zero or above `MAX_GRACE`.
    """
    if grace is not None and not timedelta(0) <= grace <= MAX_GRACE:
        raise InvalidInput(details={"grace_seconds": ["Between 0 and 30 days."]})
    row = clients_repo.find_client(conn, client_id)
    if row is None:
        raise NotFound()
    if row["revoked_at"] is not None:
        raise Conflict("This client is revoked; create a new one.")
    secret = security.new_client_secret()
    version = int(row["secret_version"]) + 1
    until = now + grace if grace else None
    rotated = clients_repo.update_secret(
        conn,
        client_id,
        secret_hash=security.hash_secret(secret),
        secret_version=version,
        previous_secret_hash=row["secret_hash"] if until else None,
        previous_secret_expires_at=until,
    )
    if not rotated:
        raise Conflict("The client changed meanwhile; try again.")
    audit.record(
        conn,
        actor=actor,
        action="client.rotated",
        developer_id=row["developer_id"],
        subject=client_id,
        details={
            "secret_version": version,
            "grace_seconds": int(grace.total_seconds()) if grace else 0,
        },
    )
    return RotatedSecret(client_id, secret, version, until)


def revoke_client(conn: Conn, *, actor: audit.Actor, client_id: str, now: datetime) -> Row:
    """Revoke a client for good: its secret stops working and every token it holds dies in the
    same transaction (the very next request with one fails, on every instance). Returns the
    client as admins see it, with `tokens_revoked`.

    Audited as `client.revoked`, plus one `token.revoked` per live token (rule 7). Raises
    `NotFound` for an unknown client and `Conflict` for one revoked already.
    """
    row = clients_repo.find_client(conn, client_id)
    if row is None:
        raise NotFound()
    if clients_repo.update_revoked(conn, client_id) is None:
        raise Conflict("This client is revoked already.")
    developer_id = row["developer_id"]
    audit.record(
        conn, actor=actor, action="client.revoked", developer_id=developer_id, subject=client_id
    )
    token_ids = tokens_repo.revoke_live_tokens(conn, client_id=client_id, now=now)
    for token_id in token_ids:
        audit.record(
            conn,
            actor=actor,
            action="token.revoked",
            developer_id=developer_id,
            subject=str(token_id),
            details={"cause": "client.revoked"},
        )
    return {**get_client(conn, client_id=client_id), "tokens_revoked": len(token_ids)}
