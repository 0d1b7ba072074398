"""What a developer sees of itself, its tier and its skills."""

from marshmallow import Schema, fields, validate


class TierSchema(Schema):
    name = fields.String(required=True)
    description = fields.String(required=True)
    transcripts_readable = fields.Boolean(required=True)
    fields_ = fields.List(fields.String(), data_key="fields", attribute="fields", required=True)
    retention_days = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    rate_limit = fields.String(required=True)
    redaction_policy = fields.String(required=True)
    k_threshold = fields.Integer(required=True)
    expires_at = fields.AwareDateTime(
        allow_none=True,
        required=True,
        metadata={"description": "When your grant ends (then you are on `none`); null: never."},
    )
    expiry_warning = fields.String(
        allow_none=True,
        required=True,
        metadata={
            "description": "Set in the last 30 days before `expires_at`: file a tier "
            "request to keep the tier."
        },
    )


class SkillSchema(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    category = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)


class SkillListSchema(Schema):
    skills = fields.List(fields.Nested(SkillSchema), required=True)


class DeveloperSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    tier = fields.Nested(TierSchema, required=True)
    skills = fields.List(fields.Nested(SkillSchema), required=True)


class WebhookUpdateSchema(Schema):
    url = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2048),
        metadata={"description": "https:// on a public address (loopback only in development)."},
    )


class WebhookRegistrationSchema(Schema):
    url = fields.String(required=True)
    secret = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "The signing secret, shown once: on first registration only."},
    )


class WebhookNoticeCountsSchema(Schema):
    pending = fields.Integer(required=True)
    delivered = fields.Integer(required=True)
    dead = fields.Integer(required=True)


class WebhookSchema(Schema):
    url = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    notices = fields.Nested(WebhookNoticeCountsSchema, required=True)


class WebhookSecretSchema(Schema):
    secret = fields.String(required=True, metadata={"description": "Shown once."})
    previous_valid_until = fields.AwareDateTime(required=True)
