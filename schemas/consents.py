"""A user's consents: which skills may read their transcripts, since when, covering what."""

from marshmallow import Schema, fields, validate

CATEGORIES = ("health", "finance")


class ConsentUpdateSchema(Schema):
    categories = fields.List(
        fields.String(validate=validate.OneOf(CATEGORIES)),
        validate=validate.Length(max=len(CATEGORIES)),
        metadata={
            "description": "Sensitive categories the consent covers besides ordinary "
            "transcripts: `health`, `finance`. Leave out (or send []) for none."
        },
    )


class NamedSkillSchema(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)


class NamedDeveloperSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class ConsentPeriodSchema(Schema):
    granted_at = fields.AwareDateTime(required=True)
    revoked_at = fields.AwareDateTime(allow_none=True, required=True)
    categories = fields.List(fields.String(), required=True)


class ConsentSchema(Schema):
    skill = fields.Nested(NamedSkillSchema, required=True)
    developer = fields.Nested(NamedDeveloperSchema, required=True)
    consented = fields.Boolean(
        required=True,
        metadata={"description": "Whether the skill's developer may read your transcripts."},
    )
    since = fields.AwareDateTime(
        allow_none=True,
        required=True,
        metadata={"description": "Since when it may (or, revoked, may no longer) read them."},
    )
    categories = fields.List(fields.String(), required=True)
    history = fields.List(
        fields.Nested(ConsentPeriodSchema),
        required=True,
        metadata={"description": "Every consent period, newest first; never rewritten."},
    )


class ConsentListSchema(Schema):
    consents = fields.List(fields.Nested(ConsentSchema), required=True)
