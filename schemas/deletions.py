"""Deleting a user's interactions: the range asked for, the receipt, its propagation."""

from marshmallow import Schema, fields, validate

from schemas.consents import NamedDeveloperSchema


class DeletionQuerySchema(Schema):
    since = fields.AwareDateTime(format="iso")
    until = fields.AwareDateTime(format="iso")


class DeletionReceiptSchema(Schema):
    id = fields.UUID(required=True)
    since = fields.AwareDateTime(allow_none=True, required=True)
    until = fields.AwareDateTime(allow_none=True, required=True)
    interactions = fields.Integer(required=True)
    requested_at = fields.AwareDateTime(required=True)
    requested_by = fields.String(
        required=True, validate=validate.OneOf(["you", "platform", "operator"])
    )


class DeletionListSchema(Schema):
    deletions = fields.List(fields.Nested(DeletionReceiptSchema), required=True)


class PropagationSchema(Schema):
    developer = fields.Nested(NamedDeveloperSchema, required=True)
    status = fields.String(
        required=True,
        validate=validate.OneOf(["pending", "acknowledged", "failed"]),
        metadata={
            "description": "acknowledged: every notice got a 2xx; pending: still being "
            "retried; failed: given up after the last attempt."
        },
    )
    delivered = fields.Boolean(required=True)
    acknowledged_at = fields.AwareDateTime(allow_none=True, required=True)
    notices = fields.Integer(required=True)
    attempts = fields.Integer(required=True)


class DeletionStatusSchema(DeletionReceiptSchema):
    developers = fields.List(
        fields.Nested(PropagationSchema),
        required=True,
        metadata={"description": "Each developer that had read any of it, and its notice."},
    )
