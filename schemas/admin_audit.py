"""The audit log as admins query it, and the chain's verdict."""

from marshmallow import Schema, ValidationError, fields, validate

from schemas.admin_accounts import PageQuerySchema


def _actor(value: str) -> None:
    kind, _, name = value.partition(":")
    if value == "system":
        return
    if kind not in {"client", "user", "cli", "admin"} or not name:
        raise ValidationError("`system`, or `client:`, `user:`, `cli:` or `admin:` and an id.")


class AuditQuerySchema(PageQuerySchema):
    actor = fields.String(
        validate=[validate.Length(min=1, max=210), _actor],
        metadata={
            "description": "`client:<client_id>`, `user:<id>`, `cli:<operator>`, "
            "`admin:<name>` (the web console), `system`."
        },
    )
    action = fields.String(
        validate=validate.Regexp(r"^[a-z_]{1,40}\.[a-z_]{1,40}\Z", error="An action name."),
        metadata={"description": "e.g. `developer.suspended`."},
    )
    developer = fields.Integer(strict=False, validate=validate.Range(min=1, max=2**63 - 1))
    skill = fields.UUID()
    since = fields.AwareDateTime(format="iso")
    until = fields.AwareDateTime(format="iso")


class AuditDetailSchema(Schema):
    name = fields.String(required=True)
    value = fields.String(required=True, metadata={"description": "Lists joined by commas."})


class AuditEventSchema(Schema):
    id = fields.Integer(required=True)
    seq = fields.Integer(
        required=True, allow_none=True, metadata={"description": "null until sealed."}
    )
    occurred_at = fields.AwareDateTime(required=True)
    actor = fields.String(required=True)
    action = fields.String(required=True)
    developer_id = fields.Integer(required=True, allow_none=True)
    skill_id = fields.UUID(required=True, allow_none=True)
    subject = fields.String(required=True, allow_none=True)
    details = fields.List(fields.Nested(AuditDetailSchema), required=True)


class AuditPageSchema(Schema):
    events = fields.List(fields.Nested(AuditEventSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class AuditVerdictSchema(Schema):
    ok = fields.Boolean(required=True)
    rows = fields.Integer(required=True)
    head_seq = fields.Integer(required=True)
    head_hash = fields.String(required=True)
    unsealed = fields.Integer(required=True)
    first_bad_seq = fields.Integer(required=True, allow_none=True)
    reason = fields.String(required=True, allow_none=True)
