"""Authorization codes for the users' first-party app (RFC 6749 §4.1 with RFC 7636 PKCE, S256
only): short-lived, single use, bound to the client, the user and the exact redirect URI."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway import security
from gateway.models import Conn
from gateway.repositories import authorization_codes as codes_repo
from gateway.services import audit


@dataclass(frozen=True)
class AuthorizationCode:
    id: int
    client_id: str
    user_id: str
    redirect_uri: str
    code_challenge: str
    code_challenge_method: str
    scopes: list[str]
    expires_at: datetime


def store_code(
    conn: Conn,
    *,
    code: str,
    client_id: str,
    user_id: str,
    redirect_uri: str,
    code_challenge: str,
    scopes: list[str],
    now: datetime,
    ttl: int,
) -> None:
    """Store a fresh code as its digest, valid for `ttl` seconds."""
    codes_repo.insert_code(
        conn,
        digest=security.token_digest(code),
        client_id=client_id,
        user_id=user_id,
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
        code_challenge_method="S256",
        scopes=scopes,
        expires_at=now + timedelta(seconds=ttl),
    )


def redeem(conn: Conn, code: str, *, client_id: str, now: datetime) -> AuthorizationCode | None:
    """The code issued to `client_id`, if unused and unexpired; else None.

    A code presented again after it was used revokes every token issued from it (RFC 6749
    §4.1.2: a replay means it leaked), audited as `authorization_code.replayed`, and the
    revocations stand although the exchange fails. The row stays locked until the
    transaction ends, so two exchanges of one code cannot both succeed.
    """
    if not code or len(code) > 200 or "\x00" in code:
        return None
    row = codes_repo.find_code(conn, security.token_digest(code), client_id=client_id)
    if row is None:
        return None
    if row["used_at"] is not None:
        revoked = codes_repo.revoke_tokens_of_code(conn, code_id=int(row["id"]))
        audit.record(
            conn,
            actor=audit.Actor.client(client_id),
            action="authorization_code.replayed",
            subject=str(row["id"]),
            details={"tokens_revoked": revoked},
        )
        return None
    if now >= row["expires_at"]:
        return None
    return AuthorizationCode(
        id=int(row["id"]),
        client_id=row["client_id"],
        user_id=str(row["user_id"]),
        redirect_uri=row["redirect_uri"],
        code_challenge=row["code_challenge"],
        code_challenge_method=row["code_challenge_method"],
        scopes=list(row["scopes"]),
        expires_at=row["expires_at"],
    )


def use_up(conn: Conn, code: AuthorizationCode) -> None:
    """Mark the code used (once its token is issued, in the same transaction)."""
    codes_repo.update_used(conn, code_id=code.id)
