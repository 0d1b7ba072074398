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
from schemas.access_log import AccessLogPageSchema, AccessLogQuerySchema
from schemas.accounts import ActivationSchema, MeSchema
from schemas.admin_accounts import (
    AdminClientPageSchema,
    AdminClientSchema,
    AdminDeveloperDetailSchema,
    AdminDeveloperPageSchema,
    AdminDeveloperSchema,
    AdminSkillPageSchema,
    AdminSkillSchema,
    ClientCreateSchema,
    ClientQuerySchema,
    DeveloperCreateSchema,
    DeveloperQuerySchema,
    IssuedClientSchema,
    NoFieldsSchema,
    PageQuerySchema,
    RevokedClientSchema,
    RotatedSecretSchema,
    RotationCreateSchema,
    SkillCreateSchema,
    SkillQuerySchema,
    SuspendedDeveloperSchema,
)
from schemas.admin_audit import AuditPageSchema, AuditQuerySchema, AuditVerdictSchema
from schemas.consents import ConsentListSchema, ConsentSchema, ConsentUpdateSchema
from schemas.deletions import (
    DeletionListSchema,
    DeletionQuerySchema,
    DeletionReceiptSchema,
    DeletionStatusSchema,
)
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
from schemas.my_interactions import MyInteractionPageSchema, MyInteractionsQuerySchema
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
from schemas.whitelist import (
    AdminTierListSchema,
    AdminTierRequestPageSchema,
    AdminTierRequestSchema,
    AdminTierSchema,
    GrantCreateSchema,
    GrantHistorySchema,
    GrantRevokeSchema,
    GrantSchema,
    TierCreateSchema,
    TierRequestApproveSchema,
    TierRequestCreateSchema,
    TierRequestDenySchema,
    TierRequestListSchema,
    TierRequestQuerySchema,
    TierRequestSchema,
    TierUpdateSchema,
)

# Routes that describe the API rather than being part of it.
UNDOCUMENTED = {"static", "docs.page", "docs.openapi_json", "metrics.metrics_view"}

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
    409: "The resource is not in a state that allows this (`conflict`), e.g. already revoked.",
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
    "developer_id": "A developer's id; an unknown one answers 404.",
    "client_id": "A client's id; an unknown one answers 404.",
    "skill_id": "One of your skills; any other answers 404.",
    "interaction_id": "An interaction of that skill you may read; any other answers 404.",
    "user_id": "The platform's own id of the user (`platform_user_id`); an unknown one answers "
    "404.",
    "deletion_id": "The id of one of your deletion receipts; any other answers 404.",
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
    "suspended": "`true`: only suspended developers; `false`: only active ones.",
    "developer": "Only this developer's (by id).",
    "kind": "Only clients of this kind: `developer`, `admin` or `platform`.",
    "actor": "Only this actor: `client:<client_id>`, `user:<id>`, `cli:<operator>` or `system`.",
    "action": "Only this action, e.g. `developer.suspended`.",
    "skill": "Only events about this skill.",
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
    status: int = 200  # the success status (201 for a create)


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
    "admin_accounts.list_developers": Operation(
        "List developers",
        AdminDeveloperPageSchema,
        "By id, each with its current tier's name, that grant's expiry and its suspension. "
        "Keyset pagination: pass `next_cursor` back as `cursor` (same filters) until `null`.",
        query=DeveloperQuerySchema,
    ),
    "admin_accounts.register_developer": Operation(
        "Register a developer",
        AdminDeveloperSchema,
        "On tier `none` until granted another. Audited as `developer.registered`. A name "
        "already taken is a 409.",
        body=DeveloperCreateSchema,
        errors=(409,),
        status=201,
    ),
    "admin_accounts.show_developer": Operation(
        "Show a developer",
        AdminDeveloperDetailSchema,
        "The account, tier, grant expiry, suspension, skills and clients (never a secret).",
    ),
    "admin_accounts.suspend_developer": Operation(
        "Suspend a developer",
        SuspendedDeveloperSchema,
        "Every live token of the developer's clients is revoked at once (the very next request "
        "with one fails, on every instance) and the token endpoint issues none "
        "(`unauthorized_client`) until it is reinstated. Send `{}`. Audited as "
        "`developer.suspended` and one `token.revoked` per token; 409 if suspended already.",
        body=NoFieldsSchema,
        errors=(409,),
    ),
    "admin_accounts.reinstate_developer": Operation(
        "Reinstate a developer",
        AdminDeveloperSchema,
        "Lifts the suspension; nothing else does. Tokens revoked by it stay revoked: the "
        "developer's clients get new ones. Audited as `developer.reinstated`; 409 if not "
        "suspended.",
        errors=(409,),
    ),
    "admin_accounts.list_skills": Operation(
        "List skills", AdminSkillPageSchema, "Every developer's, by id.", query=SkillQuerySchema
    ),
    "admin_accounts.list_developer_skills": Operation(
        "List a developer's skills", AdminSkillPageSchema, query=PageQuerySchema
    ),
    "admin_accounts.register_skill": Operation(
        "Register a skill",
        AdminSkillSchema,
        "For the developer the URL names. Audited as `skill.registered`.",
        body=SkillCreateSchema,
        status=201,
    ),
    "admin_accounts.list_clients": Operation(
        "List OAuth clients",
        AdminClientPageSchema,
        "By client id; never a secret or a hash of one.",
        query=ClientQuerySchema,
    ),
    "admin_accounts.create_client": Operation(
        "Create an OAuth client",
        IssuedClientSchema,
        "A `developer` client (with `developer_id`), an `admin` or a `platform` client, each "
        "with its kind's scopes. The secret is in this answer only; the gateway keeps a salted "
        "hash. Audited as `client.created`. An unknown `developer_id` is a 404.",
        body=ClientCreateSchema,
        errors=(404,),
        status=201,
    ),
    "admin_accounts.show_client": Operation("Show an OAuth client", AdminClientSchema),
    "admin_accounts.rotate_client_secret": Operation(
        "Rotate a client's secret",
        RotatedSecretSchema,
        "A new secret, in this answer only. `grace_seconds` (default 0, at most 30 days): how "
        "long the replaced secret, and tokens issued with it, keep working; with none they "
        "stop at once. Audited as `client.rotated`; 409 for a revoked client.",
        body=RotationCreateSchema,
        errors=(409,),
    ),
    "admin_accounts.revoke_client": Operation(
        "Revoke a client",
        RevokedClientSchema,
        "For good: its secret stops working and every token it holds dies at once. Send `{}`. "
        "Audited as `client.revoked` and one `token.revoked` per live token; 409 if revoked "
        "already.",
        body=NoFieldsSchema,
        errors=(409,),
    ),
    "admin_audit.query_audit": Operation(
        "Query the audit log",
        AuditPageSchema,
        "Newest first, sealed or not (`seq` is null until sealed). Every filter is optional; "
        "keyset pagination with a signed `cursor` valid for the same filters.",
        query=AuditQuerySchema,
    ),
    "admin_audit.verify_audit": Operation(
        "Verify the audit chain",
        AuditVerdictSchema,
        "Seals what is committed, recomputes every row's hash and link, and names the first "
        "bad row (`first_bad_seq`, `reason`). A chain recomputed wholesale verifies here: check "
        "it against a signed checkpoint with `skillgw audit verify --checkpoint`.",
    ),
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
    "me.list_consents": Operation(
        "List my consents",
        ConsentListSchema,
        "Every skill you use (you have spoken to it, or ever consented to it), its developer, "
        "whether that developer may read your transcripts, since when, which sensitive "
        "categories (health, finance) your consent covers, and every consent period, newest "
        "first.",
    ),
    "me.grant_consent": Operation(
        "Let a skill read my transcripts",
        ConsentSchema,
        "Opens a consent from now on, covering the `categories` you name. Idempotent: the same "
        "consent again changes nothing. Other categories close the open period and start a new "
        "one (from now: earlier interactions stay closed). History is never rewritten.",
        body=ConsentUpdateSchema,
    ),
    "me.revoke_consent": Operation(
        "Stop a skill reading my transcripts",
        ConsentSchema,
        "Holds from the developer's very next request, on every instance. The developer is "
        "sent a signed `consent.revoked` notice. Idempotent.",
    ),
    "me.access_log": Operation(
        "List every read of my data",
        AccessLogPageSchema,
        "Newest first: which skill's developer read which of your interactions (its time and "
        "intent, never its text; `deleted` once you deleted it), with which client, when. "
        "Keyset pagination: pass `next_cursor` back as `cursor` until it is `null`.",
        query=AccessLogQuerySchema,
    ),
    "me.list_interactions": Operation(
        "List what I said",
        MyInteractionPageSchema,
        "Your interactions as you said them (your own words, not redacted) and what the "
        "assistant answered, newest first, in [`since`, `until`) and of one skill if you name "
        "`skill_id`; never audio. `developer_reads` says how often a developer read each one "
        "(who and when: `GET /v1/me/access-log`). Keyset pagination: pass `next_cursor` back "
        "as `cursor`, with the same filters, until it is `null`.",
        query=MyInteractionsQuerySchema,
    ),
    "me.delete_interactions": Operation(
        "Delete my interactions",
        DeletionReceiptSchema,
        "Deletes what you said in [`since`, `until`) (either may be left out; neither: "
        "everything) and answers with a receipt. When it answers, no copy of that text is left "
        "in the gateway: transcripts, redacted forms, search indexes, audio references. Every "
        "developer that had read any of it is sent a signed notice to purge its copies; follow "
        "it at `GET /v1/me/deletions/{id}`.",
        query=DeletionQuerySchema,
    ),
    "me.list_deletions": Operation(
        "List my deletion receipts", DeletionListSchema, "Newest first."
    ),
    "me.show_deletion": Operation(
        "Follow a deletion",
        DeletionStatusSchema,
        "The receipt and, for each developer that had read any of it, whether its notice was "
        "delivered and acknowledged, is still being retried, or failed.",
    ),
    "relay.grant_consent": Operation(
        "Relay a user's consent",
        ConsentSchema,
        'What the user said to the assistant ("share my conversations with Pizza Palace"), '
        "done for them: as `PUT /v1/me/consents/{skill_id}`, audited with the platform as the "
        "actor.",
        body=ConsentUpdateSchema,
    ),
    "relay.revoke_consent": Operation(
        "Relay a user's revocation",
        ConsentSchema,
        '"Stop sharing my conversations with Pizza Palace": as `DELETE '
        "/v1/me/consents/{skill_id}`, audited with the platform as the actor.",
    ),
    "relay.delete_interactions": Operation(
        "Relay a user's deletion",
        DeletionReceiptSchema,
        '"Delete what I said today": as `DELETE /v1/me/interactions`, audited with the '
        "platform as the actor; the receipt is the user's too.",
        query=DeletionQuerySchema,
    ),
    # --- the whitelist
    "admin_whitelist.list_tiers": Operation(
        "List tiers", AdminTierListSchema, "Every tier with all its settings, by name."
    ),
    "admin_whitelist.create_tier": Operation(
        "Create a tier",
        AdminTierSchema,
        "A redaction policy that does not exist, a rate limit that does not parse, or a tier "
        "that shows whole conversations (response, slots, session) without `recertify_days` "
        "is a 422; a name taken a 409. Audited as `tier.created`.",
        body=TierCreateSchema,
        errors=(409,),
        status=201,
    ),
    "admin_whitelist.show_tier": Operation("Show a tier", AdminTierSchema),
    "admin_whitelist.change_tier": Operation(
        "Change a tier",
        AdminTierSchema,
        "Send the settings to change (the name never changes). Checked as at creation; every "
        "developer on the tier is held to the change from its very next request, on every "
        "instance. Audited as `tier.changed` with the before and after of what changed. Tier "
        "`none` never reads transcripts.",
        body=TierUpdateSchema,
    ),
    "admin_whitelist.grant_tier": Operation(
        "Grant a developer a tier",
        GrantSchema,
        "Replaces the developer's current grant from now on, with a reason (required) and an "
        "optional `expires_at`; when it ends the developer is on `none`, with no job to run. "
        "A top tier's grant (`recertify_days` set: `trusted`, 365) without an expiry gets "
        "exactly that many days; a later expiry is a 422. Audited as `grant.made`.",
        body=GrantCreateSchema,
        status=201,
    ),
    "admin_whitelist.list_grants": Operation(
        "A developer's grant history",
        GrantHistorySchema,
        "Every grant, newest first, with who made it, when, why, its expiry, when it ends and "
        "its state; and the tier the developer is on now.",
    ),
    "admin_whitelist.revoke_grant": Operation(
        "Revoke a developer's grant",
        GrantHistorySchema,
        'The developer is on `none` from its next request. Send `{"reason": …}`. Recorded '
        "as a grant of `none` (history is kept) and audited as `grant.revoked`; 409 when it "
        "holds no current grant.",
        body=GrantRevokeSchema,
        errors=(409,),
    ),
    "admin_whitelist.list_tier_requests": Operation(
        "List tier requests",
        AdminTierRequestPageSchema,
        "Oldest first; `status=pending` for the ones waiting. Pass `next_after` back as "
        "`after` for the next page.",
        query=TierRequestQuerySchema,
    ),
    "admin_whitelist.approve_tier_request": Operation(
        "Approve a tier request",
        AdminTierRequestSchema,
        "Grants the developer the tier it asked for (see granting: `expires_at`, "
        "re-certification), with `reason` or a reason naming the request. Audited as "
        "`grant.made` and `tier_request.decided`; 409 when decided already.",
        body=TierRequestApproveSchema,
        errors=(409,),
    ),
    "admin_whitelist.deny_tier_request": Operation(
        "Deny a tier request",
        AdminTierRequestSchema,
        "With a reason (required) that the developer reads. Audited as "
        "`tier_request.decided`; 409 when decided already.",
        body=TierRequestDenySchema,
        errors=(409,),
    ),
    "tier_requests.request_tier": Operation(
        "Ask for a tier",
        TierRequestSchema,
        "The tier, what you need it for in your own words, and `accepted_terms: true`: you "
        "acknowledge the data-use terms (anything else is a 422). One pending request at a "
        "time (409). To keep a tier whose grant is about to expire, ask for it again. An admin "
        "approves or denies it; read the decision with GET.",
        body=TierRequestCreateSchema,
        errors=(409,),
        status=201,
    ),
    "tier_requests.list_my_tier_requests": Operation(
        "List your tier requests",
        TierRequestListSchema,
        "Oldest first, each with its status and the admin's reason.",
    ),
}


# OpenAPI links (3.1 §4.8.20): where a success answer holds an id that a later operation takes.
# Source endpoint → link name → target endpoint, its parameters (runtime expressions) and, for a
# body, the fields to send. Clients follow them; so does the stateful fuzzer.
_DEVELOPER_ID = {"developer_id": "$response.body#/id"}
_FIRST_SKILL = {"skill_id": "$response.body#/skills/0/id"}
LINKS: dict[str, dict[str, dict[str, Any]]] = {
    "admin_accounts.register_developer": {
        "ShowDeveloper": {
            "operation": "admin_accounts.show_developer",
            "parameters": _DEVELOPER_ID,
        },
        "RegisterSkill": {
            "operation": "admin_accounts.register_skill",
            "parameters": _DEVELOPER_ID,
        },
        "ListSkills": {
            "operation": "admin_accounts.list_developer_skills",
            "parameters": _DEVELOPER_ID,
        },
        "CreateClient": {
            "operation": "admin_accounts.create_client",
            "requestBody": {"kind": "developer", "developer_id": "$response.body#/id"},
        },
        "GrantTier": {"operation": "admin_whitelist.grant_tier", "parameters": _DEVELOPER_ID},
        "ListGrants": {"operation": "admin_whitelist.list_grants", "parameters": _DEVELOPER_ID},
        "RevokeGrant": {"operation": "admin_whitelist.revoke_grant", "parameters": _DEVELOPER_ID},
        "Suspend": {"operation": "admin_accounts.suspend_developer", "parameters": _DEVELOPER_ID},
        "Reinstate": {
            "operation": "admin_accounts.reinstate_developer",
            "parameters": _DEVELOPER_ID,
        },
    },
    "admin_accounts.register_skill": {
        "ListSkills": {
            "operation": "admin_accounts.list_developer_skills",
            "parameters": {"developer_id": "$response.body#/developer_id"},
        },
    },
    "admin_accounts.create_client": {
        name: {"operation": operation, "parameters": {"client_id": "$response.body#/client_id"}}
        for name, operation in (
            ("ShowClient", "admin_accounts.show_client"),
            ("RotateSecret", "admin_accounts.rotate_client_secret"),
            ("RevokeClient", "admin_accounts.revoke_client"),
        )
    },
    "admin_whitelist.create_tier": {
        "ShowTier": {
            "operation": "admin_whitelist.show_tier",
            "parameters": {"name": "$response.body#/name"},
        },
        "ChangeTier": {
            "operation": "admin_whitelist.change_tier",
            "parameters": {"name": "$response.body#/name"},
        },
    },
    "tier_requests.request_tier": {
        "Approve": {
            "operation": "admin_whitelist.approve_tier_request",
            "parameters": {"request_id": "$response.body#/id"},
        },
        "Deny": {
            "operation": "admin_whitelist.deny_tier_request",
            "parameters": {"request_id": "$response.body#/id"},
        },
    },
    "admin_whitelist.list_tier_requests": {
        "ApproveFirst": {
            "operation": "admin_whitelist.approve_tier_request",
            "parameters": {"request_id": "$response.body#/requests/0/id"},
        },
        "DenyFirst": {
            "operation": "admin_whitelist.deny_tier_request",
            "parameters": {"request_id": "$response.body#/requests/0/id"},
        },
    },
    "me.delete_interactions": {
        "FollowDeletion": {
            "operation": "me.show_deletion",
            "parameters": {"deletion_id": "$response.body#/id"},
        },
    },
    "me.list_deletions": {
        "FollowFirst": {
            "operation": "me.show_deletion",
            "parameters": {"deletion_id": "$response.body#/deletions/0/id"},
        },
    },
    "me.list_consents": {
        "GrantFirst": {
            "operation": "me.grant_consent",
            "parameters": {"skill_id": "$response.body#/consents/0/skill/id"},
        },
        "RevokeFirst": {
            "operation": "me.revoke_consent",
            "parameters": {"skill_id": "$response.body#/consents/0/skill/id"},
        },
    },
    **{
        source: {
            "ShowFirstSkill": {"operation": "developers.show_skill", "parameters": _FIRST_SKILL},
            "ListFirstSkillsInteractions": {
                "operation": "developers.list_interactions",
                "parameters": _FIRST_SKILL,
            },
            "FirstSkillsStats": {"operation": "developers.skill_stats", "parameters": _FIRST_SKILL},
        }
        for source in ("developers.who_am_i", "developers.list_skills")
    },
    "developers.list_interactions": {
        "ShowFirst": {
            "operation": "developers.show_interaction",
            "parameters": {
                "skill_id": "$request.path.skill_id",
                "interaction_id": "$response.body#/interactions/0/id",
            },
        },
        "ShowFirstConversation": {
            "operation": "developers.show_conversation",
            "parameters": {
                "skill_id": "$request.path.skill_id",
                "session": "$response.body#/interactions/0/session",
            },
        },
    },
}


def _links(endpoint: str) -> dict[str, Any]:
    """The OpenAPI link objects of `endpoint`'s success answer."""
    rendered: dict[str, Any] = {}
    for name, link in LINKS.get(endpoint, {}).items():
        target = str(link["operation"])
        rendered[name] = {
            "operationId": target.replace(".", "_"),
            **{key: link[key] for key in ("parameters", "requestBody") if key in link},
        }
    return rendered


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
    if links := _links(rule.endpoint):
        success["links"] = links
    operation: dict[str, Any] = {
        "operationId": rule.endpoint.replace(".", "_"),
        "x-endpoint": rule.endpoint,
        "summary": doc.summary,
        "tags": [doc.tag or AUDIENCES.get(scope or "", "Other")],
        "parameters": path_parameters
        + ([{"in": "query", "schema": doc.query}] if doc.query else []),
        "responses": {
            str(doc.status): success,
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
