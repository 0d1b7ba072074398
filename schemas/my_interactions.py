"""A user's own interactions: the query (range, skill, page) and the page."""

from marshmallow import Schema, fields, validate

from schemas.consents import NamedSkillSchema

MAX_LIMIT = 200


class MyInteractionsQuerySchema(Schema):
    since = fields.AwareDateTime(format="iso")
    until = fields.AwareDateTime(format="iso")
    skill_id = fields.UUID()
    limit = fields.Integer(strict=False, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String(validate=validate.Length(min=1, max=1024))


class MyInteractionSchema(Schema):
    id = fields.UUID(required=True)
    occurred_at = fields.AwareDateTime(required=True)
    skill = fields.Nested(NamedSkillSchema, required=True)
    utterance = fields.String(required=True)
    response = fields.String(required=True)
    intent = fields.String(required=True)
    outcome = fields.String(required=True)
    sensitive_category = fields.String(
        allow_none=True, required=True, validate=validate.OneOf(["health", "finance"])
    )
    developer_reads = fields.Integer(
        required=True,
        metadata={"description": "How often a developer read it; see GET /v1/me/access-log."},
    )


class MyInteractionPageSchema(Schema):
    interactions = fields.List(fields.Nested(MyInteractionSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
