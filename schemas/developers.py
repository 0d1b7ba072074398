"""What a developer sees of itself, its tier and its skills."""

from marshmallow import Schema, fields


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
    expires_at = fields.AwareDateTime(allow_none=True, required=True)


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
