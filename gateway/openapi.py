"""The OpenAPI 3.1 document, built from the routes, their guards and the marshmallow schemas."""

import re
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema
from werkzeug.routing import Rule

from gateway.oauth import CLIENT_AUTH_METHODS, SCOPES
from schemas.accounts import ActivationSchema, MeSchema
from schemas.developers import (
    DeveloperSchema,
    SkillListSchema,
    SkillSchema,
    WebhookRegistrationSchema,
    WebhookSchema,
    WebhookSecretSchema,
    WebhookUpdateSchema,
)
from schemas.errors import ErrorEnvelopeSchema
from schemas.health import HealthSchema, ReadinessSchema
from schemas.ingest import (
    IngestedInteractionsSchema,
    IngestedUsersSchema,
    IngestInteractionsSchema,
    IngestUsersSchema,
)
from schemas.interactions import (
    ConversationSchema,
    InteractionPageSchema,
    InteractionQuerySchema,
    InteractionSchema,
)
from schemas.oauth import (
    AuthorizationServerMetadataSchema,
    IntrospectionRequestSchema,
    IntrospectionSchema,
    RevocationRequestSchema,
    RevocationSchema,
    TokenRequestSchema,
    TokenSchema,
)
from schemas.stats import SkillStatsSchema, StatsQuerySchema

# Routes that describe the API rather than being part of it.
UNDOCUMENTED = {"static", "docs.page", "docs.openapi_json"}

SCOPE_DESCRIPTIONS = {
    "transcripts:read": "Skill developers: read your own skills' redacted transcripts.",
    "privacy": "Users: see and change your consents, your access log and your data.",
    "admin": "Admins: developers, skills, clients, tiers and the audit log.",
    "ingest": "The platform: push users and interactions in.",
}

# Tag (audience) of a protected route, by its scope; public routes say their own.
AUDIENCES = {
    "transcripts:read": "Developers",
    "privacy": "Users",
    "admin": "Admins",
    "ingest": "Platform",
}
TAGS = [
    ("OAuth 2.0", "Get, revoke and inspect access tokens (RFC 6749, 7009, 7662, 8414)."),
    ("Developers", "Your skills and their redacted transcripts; scope `transcripts:read`."),
    ("Users", "A user's consents, access log and data; scope `privacy`."),
    ("Admins", "Registering and governing developers; scope `admin`."),
    ("Platform", "The voice platform pushing data in; scope `ingest`."),
    ("Health", "Probes for load balancers and orchestrators."),
]

ERRORS = {
    400: "The request is malformed (OAuth: `invalid_request`, `unsupported_grant_type`, "
    "`invalid_scope`).",
    401: "No bearer token, or one that is expired, revoked or not valid (`unauthorized`, "
    "`invalid_token`); OAuth endpoints: the client did not authenticate (`invalid_client`).",
    403: "The token lacks the scope (`insufficient_scope`), or this client may not do that "
    "(`forbidden`).",
    404: "No such resource, or one you may not see: both answer the same (`not_found`).",
    422: "Some parameters are not valid (`invalid_request`); `details` names each one.",
    429: "Too many requests (`rate_limited`); wait for `Retry-After` seconds.",
    503: "The database is unavailable (`temporarily_unavailable`); retry after `Retry-After`.",
}
# Every error body is the envelope; `details` maps a parameter to its messages and is {} when
# there is nothing to add. authlib's own RFC 6749 errors on /oauth/* leave it out.
DETAILS = {
    "type": "object",
    "description": "Per-parameter messages (parameter name → list of messages); may be empty.",
}
HEADERS = {
    401: {"WWW-Authenticate": 'The RFC 6750 challenge, e.g. `Bearer realm="gateway"`.'},
    429: {"Retry-After": "Seconds to wait before trying again."},
    503: {"Retry-After": "Seconds to wait before trying again."},
}

PATH_DESCRIPTIONS = {
    "skill_id": "One of your skills; any other answers 404.",
    "interaction_id": "An interaction of that skill you may read; any other answers 404.",
}
QUERY_DESCRIPTIONS = {
    "since": "Only interactions at or after this instant (RFC 3339, with a time zone).",
    "until": "Only interactions before this instant; must be later than `since`.",
    "intent": "Only this intent, e.g. `OrderPizza`.",
    "outcome": "Only this outcome, e.g. `success`.",
    "order_ref": "Only the interaction with this order reference.",
    "user": "Only this user, by the pseudonym you were given.",
    "limit": "Page size; capped by your tier's page size.",
    "cursor": "The `next_cursor` of the previous page, with the same filters.",
    "session": "A session pseudonym you were shown: that conversation's turns only.",
    "q": "Words to find in the redacted text you are shown (web-search syntax: quoted phrases, "
    "`or`, `-word`); never matches what redaction hid.",
}


@dataclass(frozen=True)
class Operation:
    """What the route table cannot tell: words, schemas and the errors a route answers with."""

    summary: str
    response: type[Schema] | None = None
    description: str = ""
    query: type[Schema] | None = None
    form: type[Schema] | None = None
    body: type[Schema] | None = None
    errors: tuple[int, ...] = ()
    tag: str | None = None


_OAUTH_ERRORS = (400, 401, 429, 503)

OPERATIONS: dict[str, Operation] = {
    "oauth.issue_token": Operation(
        "Get an access token",
        TokenSchema,
        "The `client_credentials` grant. Authenticate the client with HTTP Basic "
        "(`client_secret_basic`) or in the form (`client_secret_post`). Tokens last an hour.",
        form=TokenRequestSchema,
        errors=_OAUTH_ERRORS,
        tag="OAuth 2.0",
    ),
    "oauth.revoke_token": Operation(
        "Revoke a token",
        RevocationSchema,
        "RFC 7009. Takes effect on the very next request, on every instance.",
        form=RevocationRequestSchema,
        errors=_OAUTH_ERRORS,
        tag="OAuth 2.0",
    ),
    "oauth.introspect_token": Operation(
        "Inspect a token",
        IntrospectionSchema,
        "RFC 7662. A client only learns about its own tokens; any other answers "
        '`{"active": false}`.',
        form=IntrospectionRequestSchema,
        errors=_OAUTH_ERRORS,
        tag="OAuth 2.0",
    ),
    "oauth.metadata": Operation(
        "Authorization server metadata",
        AuthorizationServerMetadataSchema,
        "RFC 8414: the endpoints, grant types, client authentication methods and scopes.",
        tag="OAuth 2.0",
    ),
    "health.healthz": Operation("Liveness", HealthSchema, "The process answers.", tag="Health"),
    "health.readyz": Operation(
        "Readiness",
        ReadinessSchema,
        "The database answers and every migration this release knows is applied.",
        errors=(503,),
        tag="Health",
    ),
    "developers.who_am_i": Operation(
        "Who am I",
        DeveloperSchema,
        "Your developer account: its whitelist tier (fields, retention window, page size, rate "
        "limit, redaction policy) and your skills.",
    ),
    "developers.list_skills": Operation("List your skills", SkillListSchema),
    "developers.show_skill": Operation("Show one of your skills", SkillSchema),
    "developers.list_interactions": Operation(
        "List a skill's interactions",
        InteractionPageSchema,
        "Newest first, redacted by your tier's policy, only from users who consented when the "
        "interaction happened and have not revoked since. Keyset pagination: pass `next_cursor` "
        "back as `cursor` until it is `null`. Fields your tier does not allow are left out.",
        query=InteractionQuerySchema,
    ),
    "developers.show_interaction": Operation(
        "Show one interaction",
        InteractionSchema,
        "The same rules as the list; an interaction you may not read answers 404.",
    ),
    "developers.show_conversation": Operation(
        "Show one conversation",
        ConversationSchema,
        "The readable turns of one session, oldest first, with their outcome and order "
        "reference: debug an order in one call. `session` is a pseudonym you were shown in an "
        "interaction's `session` field (tiers that include sessions). Turns whose user had not "
        "consented at the time are left out; a session with no readable turn answers 404.",
    ),
    "developers.put_webhook": Operation(
        "Register your webhook",
        WebhookRegistrationSchema,
        "Where revocation and deletion notices go: https:// on a public address (checked after "
        "DNS resolution; private, loopback, link-local and metadata addresses are refused). The "
        "first registration answers the signing secret, once; later calls change the URL only. "
        "Notices follow Standard Webhooks (see the README).",
        body=WebhookUpdateSchema,
    ),
    "developers.show_webhook": Operation(
        "Show your webhook",
        WebhookSchema,
        "Its URL and your notices by state: pending (being retried), delivered, dead. 404 "
        "until you register one.",
        errors=(404,),
    ),
    "developers.rotate_webhook_secret": Operation(
        "Rotate your webhook secret",
        WebhookSecretSchema,
        "A new signing secret, shown once. Until `previous_valid_until` each notice carries a "
        "signature with the old secret too, so you can switch without losing one. 404 until "
        "you register a webhook.",
        errors=(404,),
    ),
    "developers.skill_stats": Operation(
        "Show a skill's stats",
        SkillStatsSchema,
        "For every tier, `none` included: counts of the skill's interactions per complete UTC "
        "week (Monday to Sunday, final a day after it ends), by day, intent and outcome, over "
        "all of its users except child profiles (consent is not needed for aggregates). A "
        "bucket is shown only when it covers at least `k` distinct users (your tier's k); the "
        "rest are folded into `other_interactions` and only counted in `suppressed`, never "
        "named. No filters: a week, once shown, always answers the same. No text, no "
        "pseudonyms.",
        query=StatsQuerySchema,
    ),
    "activation.issue_activation": Operation(
        "Get a user's activation link",
        ActivationSchema,
        "A one-time link, good for `ACTIVATION_TTL` seconds, where the user sets a password. "
        "`user_id` is the user's gateway id or platform user id. Each call makes a new link; "
        "earlier ones stay good until used or expired.",
    ),
    "account.me": Operation("Who this user token acts for", MeSchema),
    "ingest.ingest_users": Operation(
        "Push users",
        IngestedUsersSchema,
        "A batch of up to 1,000 users, idempotent on `platform_user_id`. `is_child` changes only "
        "when given: a user sent again without it keeps it. E-mail, display name and locale are "
        "shown to the user themself only, never to developers.",
        body=IngestUsersSchema,
    ),
    "ingest.ingest_interactions": Operation(
        "Push interactions",
        IngestedInteractionsSchema,
        "A batch of up to 500 interactions, all or nothing: one invalid record is a 422 whose "
        "`details` name the record's index and field, and nothing is stored. Idempotent on "
        "`interaction_id`: a retried batch creates nothing new and answers the same. Texts are "
        "redacted here, once, under every policy; `audio_ref` goes to the audio vault only.",
        body=IngestInteractionsSchema,
    ),
}


def documented(app: Flask, endpoint: str) -> bool:
    """Whether a route belongs in the API document: not the docs, not an HTML page."""
    return endpoint not in UNDOCUMENTED and not getattr(
        app.view_functions[endpoint], "web_page", False
    )


def _path(rule: Rule) -> tuple[str, list[dict[str, Any]]]:
    """`/v1/skills/<uuid:skill_id>` → `/v1/skills/{skill_id}` and its path parameters."""
    parameters = []
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        schema: dict[str, Any] = {"type": "string"}
        if kind == "UUIDConverter":
            schema = {"type": "string", "format": "uuid"}
        elif kind == "IntegerConverter":
            schema = {"type": "integer"}
        parameter = {"in": "path", "name": name, "required": True, "schema": schema}
        if name in PATH_DESCRIPTIONS:
            parameter["description"] = PATH_DESCRIPTIONS[name]
        parameters.append(parameter)
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
    return path, parameters


def _error_responses(statuses: tuple[int, ...]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status in sorted(set(statuses)):
        response: dict[str, Any] = {
            "description": ERRORS[status],
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}
            },
        }
        if status in HEADERS:
            response["headers"] = {
                name: {"description": text, "schema": {"type": "string"}}
                for name, text in HEADERS[status].items()
            }
        responses[str(status)] = response
    return responses


def _operation(rule: Rule, view: Any, method: str) -> dict[str, Any]:
    scope = getattr(view, "required_scope", None)
    doc = OPERATIONS.get(rule.endpoint)
    if doc is None:
        # a route nobody described yet still appears, with its docstring and its guard
        first_line = (view.__doc__ or "").strip().splitlines()[:1]
        doc = Operation(first_line[0] if first_line else rule.endpoint)
    _path_template, path_parameters = _path(rule)
    errors = set(doc.errors)
    if scope:
        errors |= {401, 403, 429, 503}
    if path_parameters:
        errors.add(404)
    if doc.query is not None or doc.body is not None:
        errors.add(422)
    success: dict[str, Any] = {"description": doc.summary}
    if doc.response is not None:
        success["content"] = {"application/json": {"schema": doc.response}}
    operation: dict[str, Any] = {
        "operationId": rule.endpoint.replace(".", "_"),
        "x-endpoint": rule.endpoint,
        "summary": doc.summary,
        "tags": [doc.tag or AUDIENCES.get(scope or "", "Other")],
        "parameters": path_parameters
        + ([{"in": "query", "schema": doc.query}] if doc.query else []),
        "responses": {
            "200": success,
            **_error_responses(tuple(errors)),
        },
    }
    if doc.description:
        operation["description"] = doc.description
    if doc.form is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": doc.form}},
        }
    if doc.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": doc.body}},
        }
    if scope:
        operation["security"] = [{"oauth2": [scope]}, {"bearer": [scope]}]
        operation["x-required-scope"] = scope
    elif rule.endpoint.startswith("oauth.") and doc.form is not None:
        # client_secret_basic, or client_secret_post with the credentials in the form
        operation["security"] = [{"clientSecretBasic": []}, {}]
    else:
        operation["security"] = []
    return operation


def _version() -> str:
    try:
        return metadata.version("skill-data-gateway")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document for `app`: one operation per route and method, nothing more."""
    issuer = str(app.config["ISSUER"]).rstrip("/")
    spec = APISpec(
        title="Skill Data Gateway",
        version=_version(),
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "The one door between voice-assistant transcripts and third-party "
            "skill developers: consented, redacted, audited, never audio.",
        },
        servers=[{"url": issuer}],
    )
    spec.components.schema("ErrorEnvelope", schema=ErrorEnvelopeSchema)
    rules = sorted(
        (rule for rule in app.url_map.iter_rules() if documented(app, rule.endpoint)),
        key=lambda rule: rule.rule,
    )
    scopes = dict.fromkeys(SCOPES)
    for rule in rules:
        view = app.view_functions[rule.endpoint]
        scope = getattr(view, "required_scope", None)
        if scope:
            scopes[scope] = None
        path, _parameters = _path(rule)
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        spec.path(
            path=path,
            operations={method.lower(): _operation(rule, view, method) for method in methods},
        )
    spec.components.security_scheme(
        "oauth2",
        {
            "type": "oauth2",
            "description": "Client credentials; the token endpoint takes "
            + " or ".join(f"`{method}`" for method in CLIENT_AUTH_METHODS)
            + ".",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": f"{issuer}/oauth/token",
                    "scopes": {scope: SCOPE_DESCRIPTIONS.get(scope, scope) for scope in scopes},
                },
                # the users' first-party app: a public client, PKCE with S256 required
                "authorizationCode": {
                    "authorizationUrl": f"{issuer}/oauth/authorize",
                    "tokenUrl": f"{issuer}/oauth/token",
                    "scopes": {"privacy": SCOPE_DESCRIPTIONS["privacy"]},
                },
            },
        },
    )
    spec.components.security_scheme(
        "bearer",
        {"type": "http", "scheme": "bearer", "description": "An access token from /oauth/token."},
    )
    spec.components.security_scheme(
        "clientSecretBasic",
        {"type": "http", "scheme": "basic", "description": "client_id:client_secret."},
    )
    document = spec.to_dict()
    envelope = document["components"]["schemas"]["ErrorEnvelope"]
    envelope["properties"]["details"] = DETAILS
    envelope["required"] = [*envelope["required"], "details"]
    used = {
        tag for path in document["paths"].values() for op in path.values() for tag in op["tags"]
    }
    document["tags"] = [{"name": n, "description": d} for n, d in TAGS if n in used]
    _describe_query_parameters(document)
    return document


def _describe_query_parameters(document: dict[str, Any]) -> None:
    for path in document["paths"].values():
        for operation in path.values():
            for parameter in operation["parameters"]:
                text = QUERY_DESCRIPTIONS.get(parameter["name"])
                if parameter["in"] == "query" and text and "description" not in parameter:
                    parameter["description"] = text


def document_for(app: Flask) -> dict[str, Any]:
    """The app's document, built once: the routes do not change after start-up."""
    cached: dict[str, Any] | None = app.extensions.get("gateway.openapi")
    if cached is None:
        cached = build_document(app)
        app.extensions["gateway.openapi"] = cached
    return cached
