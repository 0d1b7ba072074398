"""What admins send and see of developers, skills and OAuth clients (never a secret's hash)."""

from marshmallow import Schema, ValidationError, fields, validate

from schemas.json_types import JsonInteger

MAX_PAGE = 200
MAX_GRACE_SECONDS = 30 * 24 * 3600  # gateway.services.oauth_clients.MAX_GRACE
CLIENT_KINDS = ("developer", "admin", "platform")


def _printable(value: str) -> None:
    # names are shown in tables and logs: no control characters (NUL, newlines, escapes)
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValidationError("Must not contain control characters.")
    if value != value.strip():
        raise ValidationError("Must not start or end with spaces.")


def _name(required: bool = True, minimum: int = 1) -> fields.String:
    return fields.String(
        required=required, validate=[validate.Length(min=minimum, max=200), _printable]
    )


class PageQuerySchema(Schema):
    limit = fields.Integer(strict=False, validate=validate.Range(min=1, max=MAX_PAGE))
    cursor = fields.String(validate=validate.Length(min=1, max=1024))


class NoFieldsSchema(Schema):
    """A write that names its resource in the URL and takes nothing else: send `{}`."""


# --- developers


class DeveloperQuerySchema(PageQuerySchema):
    suspended = fields.Boolean(
        truthy={"true"},
        falsy={"false"},
        metadata={"description": "Only suspended, or only active."},
    )


class DeveloperCreateSchema(Schema):
    name = _name()
    contact_email = fields.Email(required=True, validate=validate.Length(max=254))


class AdminDeveloperSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    contact_email = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    suspended_at = fields.AwareDateTime(required=True, allow_none=True)
    tier = fields.String(required=True, metadata={"description": "The current tier's name."})
    tier_expires_at = fields.AwareDateTime(
        required=True, allow_none=True, metadata={"description": "When the current grant ends."}
    )


class SuspendedDeveloperSchema(AdminDeveloperSchema):
    tokens_revoked = fields.Integer(
        required=True, metadata={"description": "How many live tokens the suspension ended."}
    )


class AdminDeveloperPageSchema(Schema):
    developers = fields.List(fields.Nested(AdminDeveloperSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


# --- skills


class SkillQuerySchema(PageQuerySchema):
    developer = fields.Integer(strict=False, validate=validate.Range(min=1, max=2**63 - 1))


class SkillCreateSchema(Schema):
    name = _name()
    category = fields.String(
        validate=validate.Regexp(r"^[a-z][a-z0-9_-]{0,39}\Z", error="A lower-case label."),
        metadata={"description": "A lower-case label; default `general`."},
    )


class AdminSkillSchema(Schema):
    id = fields.UUID(required=True)
    developer_id = fields.Integer(required=True)
    name = fields.String(required=True)
    category = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)


class AdminSkillPageSchema(Schema):
    skills = fields.List(fields.Nested(AdminSkillSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


# --- OAuth clients


class ClientQuerySchema(PageQuerySchema):
    developer = fields.Integer(strict=False, validate=validate.Range(min=1, max=2**63 - 1))
    kind = fields.String(validate=validate.OneOf(CLIENT_KINDS))


class ClientCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(CLIENT_KINDS))
    developer_id = JsonInteger(
        validate=validate.Range(min=1, max=2**63 - 1),
        metadata={"description": "The developer a `developer` client belongs to; no other kind."},
    )
    name = _name(required=False, minimum=0)


class AdminClientSchema(Schema):
    client_id = fields.String(required=True)
    kind = fields.String(required=True)
    developer_id = fields.Integer(required=True, allow_none=True)
    scopes = fields.List(fields.String(), required=True)
    name = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    revoked_at = fields.AwareDateTime(required=True, allow_none=True)
    secret_version = fields.Integer(required=True)
    rotated_at = fields.AwareDateTime(required=True, allow_none=True)
    previous_secret_expires_at = fields.AwareDateTime(
        required=True,
        allow_none=True,
        metadata={"description": "Until when the secret replaced last still works."},
    )


class AdminClientPageSchema(Schema):
    clients = fields.List(fields.Nested(AdminClientSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class IssuedClientSchema(Schema):
    client_id = fields.String(required=True)
    client_secret = fields.String(required=True, metadata={"description": "Shown once."})
    kind = fields.String(required=True)
    developer_id = fields.Integer(required=True, allow_none=True)
    scopes = fields.List(fields.String(), required=True)


class RotationCreateSchema(Schema):
    grace_seconds = JsonInteger(
        validate=validate.Range(min=0, max=MAX_GRACE_SECONDS),
        metadata={"description": "How long the replaced secret keeps working; default 0."},
    )


class RotatedSecretSchema(Schema):
    client_id = fields.String(required=True)
    client_secret = fields.String(required=True, metadata={"description": "Shown once."})
    secret_version = fields.Integer(required=True)
    previous_secret_valid_until = fields.AwareDateTime(required=True, allow_none=True)


class RevokedClientSchema(AdminClientSchema):
    tokens_revoked = fields.Integer(required=True)


class AdminDeveloperDetailSchema(AdminDeveloperSchema):
    skills = fields.List(fields.Nested(AdminSkillSchema), required=True)
    clients = fields.List(fields.Nested(AdminClientSchema), required=True)
