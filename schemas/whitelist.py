"""The whitelist: tiers as admins see and set them, grants and their history, tier requests."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.json_types import JsonBoolean, JsonInteger

TIER_NAME = validate.Regexp(
    r"^[a-z][a-z0-9_-]{0,31}$",
    error="Lower-case letters, digits, '-' and '_', starting with a letter (at most 32).",
)
FIELD_NAMES = ("utterance", "response", "intent", "slots", "outcome", "order_ref", "session")
REQUEST_STATUSES = ("pending", "approved", "denied")
REASON = validate.Length(min=1, max=2000)


class TierSettingsSchema(Schema):
    """A tier's settings as a write sends them; every one optional (a change names some)."""

    transcripts_readable = JsonBoolean(
        metadata={"description": "Whether developers on this tier read transcripts at all."}
    )
    fields_ = fields.List(
        fields.String(validate=validate.OneOf(FIELD_NAMES)),
        data_key="fields",
        attribute="fields",
        validate=validate.Length(max=len(FIELD_NAMES)),
        metadata={"description": "Interaction fields shown besides id, time and user pseudonym."},
    )
    retention_days = JsonInteger(validate=validate.Range(min=0, max=3650))
    redaction_policy = fields.String(
        validate=validate.Length(min=1, max=40),
        metadata={
            "description": "A redaction policy the gateway knows (`strict`, `standard` or "
            "`trusted`); any other is a 422."
        },
    )
    page_size = JsonInteger(validate=validate.Range(min=1, max=1000))
    rate_limit = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "Per client, e.g. `60 per minute`; one that does not parse is a 422."
        },
    )
    k_threshold = JsonInteger(
        validate=validate.Range(min=1, max=1000),
        metadata={"description": "k: the fewest distinct users a stats bucket may show."},
    )
    stats_weeks = JsonInteger(validate=validate.Range(min=1, max=53))
    recertify_days = JsonInteger(
        allow_none=True,
        validate=validate.Range(min=1, max=365),
        metadata={
            "description": "A top tier: its grants expire at most this many days after they "
            "are made (required when the tier shows response, slots or session)."
        },
    )
    description = fields.String(validate=validate.Length(max=500))


class TierCreateSchema(TierSettingsSchema):
    name = fields.String(required=True, validate=TIER_NAME)
    transcripts_readable = JsonBoolean(required=True)
    retention_days = JsonInteger(required=True, validate=validate.Range(min=0, max=3650))
    redaction_policy = fields.String(required=True, validate=validate.Length(min=1, max=40))
    page_size = JsonInteger(required=True, validate=validate.Range(min=1, max=1000))
    rate_limit = fields.String(required=True, validate=validate.Length(min=1, max=100))


class TierUpdateSchema(TierSettingsSchema):
    @validates_schema
    def _something(self, data: dict[str, object], **_kwargs: object) -> None:
        if not data:
            raise ValidationError("Name at least one setting to change.", "_schema")


class AdminTierSchema(Schema):
    name = fields.String(required=True)
    transcripts_readable = fields.Boolean(required=True)
    fields_ = fields.List(fields.String(), data_key="fields", attribute="fields", required=True)
    retention_days = fields.Integer(required=True)
    redaction_policy = fields.String(required=True)
    page_size = fields.Integer(required=True)
    rate_limit = fields.String(required=True)
    k_threshold = fields.Integer(required=True)
    stats_weeks = fields.Integer(required=True)
    recertify_days = fields.Integer(required=True, allow_none=True)
    description = fields.String(required=True)


class AdminTierListSchema(Schema):
    tiers = fields.List(fields.Nested(AdminTierSchema), required=True)


class GrantCreateSchema(Schema):
    tier = fields.String(required=True, validate=TIER_NAME)
    reason = fields.String(required=True, validate=REASON)
    expires_at = fields.AwareDateTime(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "When the grant ends (RFC 3339 with an offset). A top tier's grant "
            "without one expires after its `recertify_days`; a later one is a 422."
        },
    )


class GrantRevokeSchema(Schema):
    reason = fields.String(required=True, validate=REASON)


class GrantSchema(Schema):
    id = fields.Integer(required=True)
    developer_id = fields.Integer(required=True)
    tier = fields.String(required=True)
    reason = fields.String(required=True)
    granted_by = fields.String(required=True)
    granted_at = fields.AwareDateTime(required=True)
    expires_at = fields.AwareDateTime(required=True, allow_none=True)
    ends_at = fields.AwareDateTime(
        required=True,
        allow_none=True,
        metadata={"description": "When it ends: its expiry, capped by re-certification."},
    )
    state = fields.String(
        required=True,
        metadata={"description": "`active`, `expired`, `superseded` or `revocation`."},
    )


class GrantHistorySchema(Schema):
    developer_id = fields.Integer(required=True)
    current_tier = fields.String(required=True)
    grants = fields.List(fields.Nested(GrantSchema), required=True)


class TierRequestCreateSchema(Schema):
    tier = fields.String(required=True, validate=TIER_NAME)
    purpose = fields.String(
        required=True,
        validate=validate.Length(min=1, max=4000),
        metadata={"description": "What you need the tier for, in your own words."},
    )
    accepted_terms = JsonBoolean(
        required=True,
        metadata={"description": "Must be `true`: you acknowledge the data-use terms."},
    )


class TierRequestSchema(Schema):
    id = fields.Integer(required=True)
    developer_id = fields.Integer(required=True)
    tier = fields.String(required=True)
    purpose = fields.String(required=True)
    terms_version = fields.String(required=True)
    requested_at = fields.AwareDateTime(required=True)
    status = fields.String(required=True)
    decided_at = fields.AwareDateTime(required=True, allow_none=True)
    decision_reason = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The admin's reason (always given for a denial)."},
    )
    grant_id = fields.Integer(required=True, allow_none=True)


class AdminTierRequestSchema(TierRequestSchema):
    decided_by = fields.String(required=True, allow_none=True)


class TierRequestListSchema(Schema):
    requests = fields.List(fields.Nested(TierRequestSchema), required=True)


class AdminTierRequestPageSchema(Schema):
    requests = fields.List(fields.Nested(AdminTierRequestSchema), required=True)
    next_after = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "Pass as `after` for the next page; null on the last."},
    )


class TierRequestQuerySchema(Schema):
    status = fields.String(
        validate=validate.OneOf(REQUEST_STATUSES),
        metadata={"description": "Only requests in this state: pending, approved or denied."},
    )
    developer = fields.Integer(
        validate=validate.Range(min=1, max=2**63 - 1),
        metadata={"description": "Only this developer's requests (by id)."},
    )
    after = fields.Integer(
        validate=validate.Range(min=0, max=2**63 - 1),
        metadata={"description": "Only requests with a larger id: the `next_after` of a page."},
    )
    limit = fields.Integer(
        validate=validate.Range(min=1, max=200),
        metadata={"description": "Page size (default 50)."},
    )


class TierRequestApproveSchema(Schema):
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True, validate=REASON)


class TierRequestDenySchema(Schema):
    reason = fields.String(required=True, validate=REASON)
