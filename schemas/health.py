"""Liveness and readiness bodies."""

from marshmallow import Schema, fields, validate


class HealthSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["ok"]))


class ReadinessSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["ready"]))
    schema_version = fields.Integer(required=True)
