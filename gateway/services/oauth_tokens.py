"""Access tokens: issue, look up, revoke and introspect (stored as digests only); issuing and
revoking are audited (rule 7), by the token's id, never the token."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway import security
from gateway.models import Conn, Principal
from gateway.repositories import oauth_tokens as tokens_repo
from gateway.services import audit


@dataclass(frozen=True)
class TokenRecord:
    client_id: str
    kind: str
    developer_id: int | None
    scopes: list[str]
    issued_at: datetime
    expires_at: datetime
    revoked: bool
    # when the secret this token was issued with stopped or stops working (a rotation with
    # grace); None while it is the client's current secret
    secret_retired_at: datetime | None = None
    # the user a token acts for (the first-party app's tokens), else None
    user_id: str | None = None

    def is_revoked_at(self, now: datetime) -> bool:
        """Revoked, or issued with a secret a rotation has retired by `now`."""
        return self.revoked or (
            self.secret_retired_at is not None and now >= self.secret_retired_at
        )

    def is_active(self, now: datetime) -> bool:
        return not self.is_revoked_at(now) and now < self.expires_at

    def principal(self) -> Principal:
        if self.user_id is not None:
            # a user token: the app holds it, the user is the caller (rule 2)
            return Principal(
                kind="user",
                client_id=self.client_id,
                user_id=self.user_id,
                scopes=frozenset(self.scopes),
            )
        return Principal(
            kind=self.kind,
            client_id=self.client_id,
            developer_id=self.developer_id,
            scopes=frozenset(self.scopes),
        )


def store_token(
    conn: Conn,
    *,
    token: str,
    client_id: str,
    scopes: list[str],
    now: datetime,
    ttl: int,
    developer_id: int | None = None,
    secret_version: int = 1,
    user_id: str | None = None,
    authorization_code_id: int | None = None,
) -> None:
    """Persist a freshly generated token as its digest, valid for `ttl` seconds from `now`,
    and audit its issue to `client_id` (of `developer_id`, for a developer's client; rule 7)."""
    token_id = tokens_repo.insert_token(
        conn,
        digest=security.token_digest(token),
        client_id=client_id,
        scopes=scopes,
        issued_at=now,
        expires_at=now + timedelta(seconds=ttl),
        secret_version=secret_version,
        user_id=user_id,
        authorization_code_id=authorization_code_id,
    )
    audit.record(
        conn,
        actor=audit.Actor.client(client_id),
        action="token.issued",
        developer_id=developer_id,
        subject=str(token_id),
        details={"scopes": scopes, "expires_in": ttl},
    )


def find_token(conn: Conn, token: str) -> TokenRecord | None:
    """Return what the gateway knows of `token`, or None for a token it never issued.

    A token whose client was revoked counts as revoked, and so does one issued with a secret
    older than the client's previous one. One issued with the previous secret lives only while
    that secret is in its grace period (`secret_retired_at`); a rotation without grace retires
    it at once.
    """
    row = tokens_repo.find_token(conn, security.token_digest(token))
    if row is None:
        return None
    retired_at = None
    superseded = row["secret_version"] != row["client_secret_version"]
    if superseded:
        previous = row["secret_version"] == row["client_secret_version"] - 1
        retired_at = row["previous_secret_expires_at"] if previous else None
    return TokenRecord(
        client_id=row["client_id"],
        kind=row["kind"],
        developer_id=row["developer_id"],
        scopes=list(row["scopes"]),
        issued_at=row["issued_at"],
        expires_at=row["expires_at"],
        revoked=row["revoked_at"] is not None
        or row["client_revoked_at"] is not None
        or (superseded and retired_at is None),
        secret_retired_at=retired_at,
        user_id=None if row["user_id"] is None else str(row["user_id"]),
    )


def revoke_token(
    conn: Conn, token: str, *, client_id: str, developer_id: int | None = None
) -> bool:
    """Revoke `token` if `client_id` holds it (RFC 7009 §2.1); return whether it did.

    A revocation that happened is audited, with the client as actor (rule 7); an unknown or
    already revoked token changes nothing and records nothing.
    """
    token_id = tokens_repo.update_revoked(conn, security.token_digest(token), client_id=client_id)
    if token_id is None:
        return False
    audit.record(
        conn,
        actor=audit.Actor.client(client_id),
        action="token.revoked",
        developer_id=developer_id,
        subject=str(token_id),
    )
    return True
