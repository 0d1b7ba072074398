"""The OAuth 2.0 authorization server and resource protector (authlib), over our own tables."""

from datetime import UTC, datetime
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import (
    ClientMixin,
    InvalidRequestError,
    MissingAuthorizationError,
    UnsupportedTokenTypeError,
)
from authlib.oauth2.rfc6749.authenticate_client import authenticate_client_secret_basic
from authlib.oauth2.rfc6749.errors import InvalidScopeError, UnauthorizedClientError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, ClientCredentialsGrant
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc6750.errors import InsufficientScopeError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Flask, current_app
from flask import request as flask_request

from gateway import context, limits, security
from gateway.db import bind_principal
from gateway.exceptions import GatewayError
from gateway.models import Principal
from gateway.services import authorization_codes as codes_service
from gateway.services import developers as developers_service
from gateway.services import oauth_clients as oauth_clients_service
from gateway.services import oauth_tokens as oauth_tokens_service

REALM = "gateway"
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
SCOPES = ["transcripts:read", "admin", "ingest", "privacy"]
# The users' first-party app is a public client: it names itself, PKCE proves the rest.
APP_AUTH_METHODS = ["none"]


class OAuthClient(ClientMixin):  # type: ignore[misc]
    """authlib's view of one of our clients; the secret check is the service's."""

    def __init__(self, client: oauth_clients_service.Client | None, client_id: str) -> None:
        self.client = client
        self.client_id = client_id
        # which of the client's secrets authenticated it (tokens carry it: a rotation retires
        # the tokens of the secret it retires)
        self.secret_version: int | None = None

    def get_client_id(self) -> str:
        return self.client_id

    @property
    def is_app(self) -> bool:
        return self.client is not None and self.client.kind == "app"

    def get_default_redirect_uri(self) -> None:
        # never a default: the request names one, which must match a registered one exactly
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = self.client.scopes if self.client else []
        if not scope:
            return " ".join(allowed)
        requested = scope_to_list(scope)
        if not set(requested) <= set(allowed):
            raise InvalidScopeError(description="The client may not ask for that scope.")
        return " ".join(requested)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # exact string comparison (RFC 9700 §4.1.3): no prefixes, no wildcards, no normalising
        return self.client is not None and self.is_app and redirect_uri in self.client.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        if not _storable(self.client_id):
            # never a client of ours; still pay for the comparisons like any other miss
            oauth_clients_service.matching_secret_version(None, client_secret)
            return False
        # self.client was looked up once by _query_client; None when unknown or revoked. The
        # previous secret counts only during its grace period, judged by the app's clock.
        self.secret_version = oauth_clients_service.matching_secret_version(
            self.client, client_secret, now=context.current().now()
        )
        return self.secret_version is not None

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.is_app:
            return method in APP_AUTH_METHODS and endpoint == "token"
        return method in CLIENT_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return self.is_app and response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        if self.is_app:
            return grant_type == "authorization_code"
        return grant_type == "client_credentials"


class TokenHandle:
    """authlib's view of an issued token, judged at `now`, the moment it was looked up."""

    def __init__(
        self, value: str, record: oauth_tokens_service.TokenRecord, *, now: datetime
    ) -> None:
        self.value = value
        self.record = record
        self.now = now

    def check_client(self, client: OAuthClient) -> bool:
        return client.get_client_id() == self.record.client_id

    def get_scope(self) -> str:
        return " ".join(self.record.scopes)

    def get_expires_in(self) -> int:
        return int((self.record.expires_at - self.record.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return self.now >= self.record.expires_at

    def is_revoked(self) -> bool:
        return self.record.is_revoked_at(self.now)


def _storable(text: str) -> bool:
    # PostgreSQL text cannot hold NUL; such an id was never issued, so it is simply unknown
    return "\x00" not in text


# authlib's callbacks take no request context: each looks up the one the view opened
# (gateway.context.transaction) around the whole exchange.


def _query_client(client_id: str) -> OAuthClient:
    # An unknown or revoked client still gets an object, whose secret check fails the same
    # way and at the same cost as a wrong secret: nothing tells the two apart.
    client = None
    if _storable(client_id):
        client = oauth_clients_service.find_active_client(context.current().conn, client_id)
    return OAuthClient(client, client_id)


def _save_token(token: dict[str, Any], request: Any) -> None:
    ctx = context.current()
    client = request.client.client  # authenticated, so never None here
    handle = getattr(request, "authorization_code", None)
    code = handle.code if handle else None
    oauth_tokens_service.store_token(
        ctx.conn,
        token=token["access_token"],
        client_id=request.client.get_client_id(),
        scopes=scope_to_list(token.get("scope", "")) or [],
        now=ctx.now(),
        ttl=int(token["expires_in"]),
        developer_id=client.developer_id if client else None,
        secret_version=request.client.secret_version or 1,
        user_id=code.user_id if code else None,
        authorization_code_id=code.id if code else None,
    )


def _query_token(token_string: str) -> TokenHandle | None:
    ctx = context.current()
    record = oauth_tokens_service.find_token(ctx.conn, token_string)
    return TokenHandle(token_string, record, now=ctx.now()) if record else None


def _client_secret_basic(query_client: Any, request: Any) -> OAuthClient | None:
    """authlib's client_secret_basic, where credentials that are not UTF-8 fail like any other.

    authlib decodes them strictly and lets the UnicodeDecodeError out (a 500); such bytes
    cannot name a client of ours, so the answer is the same 401 invalid_client as a wrong secret.
    """
    try:
        client: OAuthClient | None = authenticate_client_secret_basic(query_client, request)
    except UnicodeDecodeError:
        return None
    return client


class UnsupportedTokenType(OAuth2Error):  # type: ignore[misc]
    """RFC 7009 §2.2.1: a 400 (authlib's own class is a 401, a client-authentication status)."""

    error = "unsupported_token_type"
    status_code = 400


class Server(AuthorizationServer):  # type: ignore[misc]
    """authlib's authorization server; a client that authenticates is the caller from then on."""

    def authenticate_client(self, request: Any, methods: list[str], endpoint: str = "token") -> Any:
        client: OAuthClient = super().authenticate_client(request, methods, endpoint)
        record = client.client
        if record is not None:  # never None here: an unknown client fails its secret check
            ctx = context.current()
            ctx.principal = Principal(
                kind=record.kind,
                client_id=record.client_id,
                developer_id=record.developer_id,
                scopes=frozenset(record.scopes),
            )
            # the rest of the exchange runs as that caller (a developer sees its own account)
            bind_principal(ctx.conn, ctx.principal)
        # the client's own bucket of this endpoint, drawn only now that its secret checked out
        limits.charge_client()
        return client


class ClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def validate_token_request(self) -> None:
        """authlib's checks, then: no token for a suspended developer's clients.

        RFC 6749 §5.2 unauthorized_client (400): the client did authenticate, it is just not
        allowed a token now; invalid_client would send its developer hunting for a secret
        that is right.
        """
        super().validate_token_request()
        record = self.request.client.client
        if record is not None and record.developer_id is not None:
            if not developers_service.may_get_tokens(
                context.current().conn, developer_id=record.developer_id
            ):
                raise UnauthorizedClientError(
                    description="The developer account is suspended; contact the platform's admins."
                )


class S256Challenge(CodeChallenge):  # type: ignore[misc]
    """RFC 7636 with S256 only, and a challenge required at the authorization endpoint.

    authlib lets an authorization request without code_challenge through (the code then needs
    no verifier) and takes a missing method for "plain"; RFC 9700 §2.1.1 wants S256 and a
    public client must use PKCE at all.
    """

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE with S256 is required.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is supported.")
        super().validate_code_challenge(grant, redirect_uri)


class CodeHandle:
    """authlib's view of a stored authorization code."""

    def __init__(self, code: codes_service.AuthorizationCode) -> None:
        self.code = code
        self.code_challenge = code.code_challenge
        self.code_challenge_method = code.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.code.redirect_uri

    def get_scope(self) -> str:
        return " ".join(self.code.scopes)


class AuthorizationCode(AuthorizationCodeGrant):  # type: ignore[misc]
    """authorization_code for the users' first-party app: user tokens, scope privacy."""

    TOKEN_ENDPOINT_AUTH_METHODS = APP_AUTH_METHODS

    def save_authorization_code(self, code: str, request: Any) -> None:
        ctx = context.current()
        codes_service.store_code(
            ctx.conn,
            code=code,
            client_id=request.client.get_client_id(),
            user_id=str(request.user),
            redirect_uri=request.payload.redirect_uri,
            code_challenge=request.payload.data["code_challenge"],
            scopes=scope_to_list(request.scope) or [],
            now=ctx.now(),
            ttl=int(current_app.config["AUTHORIZATION_CODE_TTL"]),
        )

    def generate_authorization_code(self) -> str:
        return security.new_access_token()  # 256 bits, not authlib's 48 characters

    def query_authorization_code(self, code: str, client: OAuthClient) -> CodeHandle | None:
        ctx = context.current()
        # the app named itself; from here on the exchange runs as it (row-level security)
        ctx.principal = Principal(
            kind="app",
            client_id=client.get_client_id(),
            scopes=frozenset(client.client.scopes if client.client else ()),
        )
        bind_principal(ctx.conn, ctx.principal)
        found = codes_service.redeem(
            ctx.conn, code, client_id=client.get_client_id(), now=ctx.now()
        )
        return CodeHandle(found) if found else None

    def delete_authorization_code(self, authorization_code: CodeHandle) -> None:
        codes_service.use_up(context.current().conn, authorization_code.code)

    def authenticate_user(self, authorization_code: CodeHandle) -> str:
        return authorization_code.code.user_id


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS
    SUPPORTED_TOKEN_TYPES = ("access_token",)

    def check_params(self, request: Any, client: OAuthClient) -> None:
        if "token" not in request.form:
            raise InvalidRequestError()
        hint = request.form.get("token_type_hint")
        if hint and hint not in self.SUPPORTED_TOKEN_TYPES:
            raise UnsupportedTokenType()

    def authenticate_token(self, request: Any, client: OAuthClient) -> TokenHandle | None:
        """The token, if it is the client's own; otherwise None, as for an unknown token.

        RFC 7009 §2.2: another client's token answers 200 like an unknown one and stays valid.
        authlib answers invalid_grant there, which tells a caller that the token is alive.
        """
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        if token is None or not token.check_client(client):
            return None
        return token

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenHandle | None:
        return _query_token(token_string)

    def revoke_token(self, token: TokenHandle, request: Any) -> None:
        oauth_tokens_service.revoke_token(
            context.current().conn,
            token.value,
            client_id=token.record.client_id,
            developer_id=token.record.developer_id,
        )


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS
    SUPPORTED_TOKEN_TYPES = ("access_token",)

    def check_params(self, request: Any, client: OAuthClient) -> None:
        # RFC 7662 §2.1: the hint only speeds up a search and the server may ignore it; every
        # token here is an access token, so any hint is answered for what the token is
        if "token" not in request.form:
            raise InvalidRequestError()

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenHandle | None:
        return _query_token(token_string)

    def check_permission(self, token: TokenHandle, client: OAuthClient, request: Any) -> bool:
        # a client may introspect its own tokens only; others' read as inactive
        return token.check_client(client)

    def introspect_token(self, token: TokenHandle) -> dict[str, Any]:
        record = token.record
        return {
            "active": True,
            "client_id": record.client_id,
            "scope": token.get_scope(),
            "token_type": "Bearer",
            "iat": int(record.issued_at.timestamp()),
            "exp": int(record.expires_at.timestamp()),
            "iss": current_app.config["ISSUER"],
        }


class BearerValidator(BearerTokenValidator):  # type: ignore[misc]
    def authenticate_token(self, token_string: str) -> TokenHandle | None:
        return _query_token(token_string)


class BearerChallenge(GatewayError):
    """An RFC 6750 §3 failure: the envelope plus a WWW-Authenticate challenge."""

    def __init__(self, *, status: int, code: str, description: str, challenge: str) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.headers = {"WWW-Authenticate": challenge}


def challenge_for(error: OAuth2Error, *, required_scopes: tuple[str, ...]) -> BearerChallenge:
    """The RFC 6750 §3 answer to a failed bearer-token check."""
    if isinstance(error, MissingAuthorizationError | UnsupportedTokenTypeError):
        return BearerChallenge(
            status=401,
            code="unauthorized",
            description="This resource needs a bearer access token.",
            challenge=f'Bearer realm="{REALM}"',
        )
    if isinstance(error, InsufficientScopeError):
        scope = " ".join(required_scopes)
        return BearerChallenge(
            status=403,
            code="insufficient_scope",
            description="The access token does not carry the scope this resource needs.",
            challenge=f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}"',
        )
    return BearerChallenge(
        status=401,
        code="invalid_token",
        description="The access token is expired, revoked or not valid.",
        challenge=f'Bearer realm="{REALM}", error="invalid_token"',
    )


class Protector(ResourceProtector):  # type: ignore[misc]
    """authlib's resource protector with RFC 6750 §3 challenges done right.

    authlib answers a request without credentials with error="missing_authorization" (not an
    RFC 6750 code; §3.1 says send none) and a scope failure without WWW-Authenticate.
    """

    def require_presented(self) -> None:
        """Raise the bare 401 challenge unless the request presents a bearer token at all.

        Needs no database: the guards call it before they open a transaction.
        """
        try:
            self.parse_request_authorization(flask_request)
        except OAuth2Error as error:
            raise challenge_for(error, required_scopes=()) from None

    def raise_error_response(self, error: OAuth2Error) -> None:
        # authlib calls this from its own decorator; the guards call challenge_for directly
        ctx = context.find()
        raise challenge_for(error, required_scopes=ctx.required_scopes if ctx else ())


authorization = Server()
authorization.register_grant(ClientCredentials)
authorization.register_grant(AuthorizationCode, [S256Challenge(required=True)])
authorization.register_endpoint(Revocation)
authorization.register_endpoint(Introspection)
require_oauth = Protector()
require_oauth.register_token_validator(BearerValidator(realm=REALM))


def _token_expires_in(client: Any, grant_type: str) -> int:
    ttl: int = current_app.config["ACCESS_TOKEN_TTL"]
    return ttl


def init_app(app: Flask) -> None:
    authorization.init_app(app, query_client=_query_client, save_token=_save_token)
    authorization.scopes_supported = SCOPES
    authorization.register_client_auth_method("client_secret_basic", _client_secret_basic)
    # authlib's default is a 42-character token and a 10-day lifetime (864000 s): replace both.
    authorization.register_token_generator(
        "default",
        BearerTokenGenerator(
            access_token_generator=lambda *args, **kwargs: security.new_access_token(),
            refresh_token_generator=None,
            expires_generator=_token_expires_in,
        ),
    )


def default_clock() -> datetime:
    """The real clock; an app's CLOCK setting replaces it (tests move time forward)."""
    return datetime.now(UTC)
