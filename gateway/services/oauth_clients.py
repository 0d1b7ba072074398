"""OAuth clients: registration and authentication of developers, admins and the platform."""

from dataclasses import dataclass, field

from gateway import security
from gateway.models import Conn
from gateway.repositories import oauth_clients as clients_repo
from gateway.services import audit

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
    # an app's registered redirect URIs, matched exactly (none for the other kinds)
    redirect_uris: tuple[str, ...] = ()
    name: str = ""


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


def secret_matches(client: Client | None, secret: str) -> bool:
    """Whether `secret` is the client's, in constant time; no client costs the same and fails."""
    matches = security.verify_secret(client.secret_hash if client else None, secret)
    return matches and client is not None


def authenticate_client(conn: Conn, *, client_id: str, client_secret: str) -> Client | None:
    """Return the active client whose secret matches, else None.

    Unknown ids, wrong secrets and revoked clients are indistinguishable to the caller and
    cost the same hash comparison.
    """
    client = find_active_client(conn, client_id)
    return client if secret_matches(client, client_secret) else None


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
        redirect_uris=tuple(row["redirect_uris"]),
        name=row["name"],
    )
