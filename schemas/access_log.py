"""A user's access log: every read of their interactions, by whom, when, of which."""

from marshmallow import Schema, fields, validate

from schemas.consents import NamedDeveloperSchema, NamedSkillSchema

MAX_LIMIT = 200


class AccessLogQuerySchema(Schema):
    limit = fields.Integer(strict=False, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String(validate=validate.Length(min=1, max=1024))


class ReadInteractionSchema(Schema):
    id = fields.UUID(required=True)
    occurred_at = fields.AwareDateTime(allow_none=True, required=True)
    intent = fields.String(allow_none=True, required=True)
    deleted = fields.Boolean(required=True)


class AccessLogEntrySchema(Schema):
    read_at = fields.AwareDateTime(required=True)
    developer = fields.Nested(NamedDeveloperSchema, required=True)
    skill = fields.Nested(NamedSkillSchema, required=True)
    client_id = fields.String(required=True)
    endpoint = fields.String(required=True)
    interaction = fields.Nested(ReadInteractionSchema, required=True)


class AccessLogPageSchema(Schema):
    reads = fields.List(fields.Nested(AccessLogEntrySchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
