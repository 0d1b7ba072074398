"""Interactions as a developer may see them, and the query that lists them."""

from marshmallow import Schema, ValidationError, fields, validate

MAX_LIMIT = 1000  # above any tier's page size; larger is an error, smaller is capped by the tier


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("Must not contain NUL characters.")


class InteractionQuerySchema(Schema):
    since = fields.AwareDateTime(format="iso")
    until = fields.AwareDateTime(format="iso")
    intent = fields.String(validate=validate.Length(min=1, max=200))
    outcome = fields.String(validate=validate.Length(min=1, max=200))
    order_ref = fields.String(validate=validate.Length(min=1, max=200))
    user = fields.String(validate=validate.Length(min=1, max=64))
    session = fields.String(validate=validate.Length(min=1, max=64))
    q = fields.String(validate=[validate.Length(min=1, max=200), _no_nul])
    limit = fields.Integer(strict=False, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String(validate=validate.Length(min=1, max=1024))


class SlotSchema(Schema):
    name = fields.String(required=True)
    value = fields.String(required=True)


class InteractionSchema(Schema):
    id = fields.UUID(required=True)
    occurred_at = fields.AwareDateTime(required=True)
    user = fields.String(required=True)
    session = fields.String()
    intent = fields.String()
    utterance = fields.String()
    response = fields.String()
    slots = fields.List(fields.Nested(SlotSchema))
    outcome = fields.String()
    order_ref = fields.String()


class InteractionPageSchema(Schema):
    interactions = fields.List(fields.Nested(InteractionSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class ConversationSchema(Schema):
    session = fields.String(required=True)
    turns = fields.List(fields.Nested(InteractionSchema), required=True)
