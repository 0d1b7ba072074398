"""What the platform pushes in: users and interactions, in batches."""

import math
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from schemas.json_types import JsonBoolean

OUTCOMES = ("success", "failure", "abandoned", "error")
SENSITIVE_CATEGORIES = ("health", "finance")
MAX_INTERACTIONS = 500
MAX_USERS = 1000
MAX_SLOTS = 50


def _no_nul(value: str) -> None:
    # PostgreSQL text cannot hold NUL: refuse it here, with the field's name, not in the driver
    if "\x00" in value:
        raise ValidationError("Must not contain NUL characters.")


def _text(*, max_length: int, min_length: int = 0, **kwargs: Any) -> fields.String:
    return fields.String(
        validate=[validate.Length(min=min_length, max=max_length), _no_nul], **kwargs
    )


class IngestUserSchema(Schema):
    platform_user_id = _text(min_length=1, max_length=200, required=True)
    # only an explicit value changes the flag: a user re-sent without it keeps it (rule 6)
    is_child = JsonBoolean()
    locale = fields.String(
        validate=validate.Regexp(
            r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$", error="Must be a BCP 47 language tag."
        )
    )
    email = fields.Email(validate=[validate.Length(max=320), _no_nul])
    display_name = _text(min_length=1, max_length=200)


class IngestUsersSchema(Schema):
    users = fields.List(
        fields.Nested(IngestUserSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_USERS),
    )


class SlotValue(fields.Field):  # type: ignore[type-arg]
    """A slot's value: a string, a finite number or a boolean (never an object or a list)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            _no_nul(value)
            if len(value) > 1000:
                raise ValidationError("At most 1000 characters.")
            return value
        if isinstance(value, bool) or (isinstance(value, int | float) and math.isfinite(value)):
            return value
        raise ValidationError("Must be a string, a finite number or a boolean.")


class IngestSlotSchema(Schema):
    name = _text(min_length=1, max_length=100, required=True)
    value = SlotValue(
        required=True,
        metadata={"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]},
    )


class IngestInteractionSchema(Schema):
    interaction_id = _text(
        min_length=1,
        max_length=200,
        required=True,
        metadata={"description": "The platform's id: a record sent again with it is a no-op."},
    )
    skill_id = fields.UUID(required=True)
    user_id = _text(
        min_length=1, max_length=200, required=True, metadata={"description": "Platform user id."}
    )
    session_id = _text(max_length=200, load_default="")
    occurred_at = fields.AwareDateTime(required=True, format="iso")
    utterance = _text(max_length=10_000, load_default="")
    response = _text(max_length=10_000, load_default="")
    intent = _text(max_length=200, load_default="")
    slots = fields.List(
        fields.Nested(IngestSlotSchema),
        load_default=list,
        validate=validate.Length(max=MAX_SLOTS),
        metadata={"description": "The intent's slots as name and value pairs."},
    )
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    order_ref = _text(max_length=100, load_default="")
    sensitive_category = fields.String(
        validate=validate.OneOf(SENSITIVE_CATEGORIES), allow_none=True, load_default=None
    )
    device_serial = _text(
        max_length=200,
        load_default="",
        metadata={"description": "Kept for the platform; never readable by developers."},
    )
    audio_ref = _text(
        min_length=1,
        max_length=2000,
        allow_none=True,
        load_default=None,
        metadata={"description": "An opaque reference; stored in the audio vault only."},
    )

    @validates("slots")
    def _slot_names_once(self, slots: list[dict[str, Any]], **_: Any) -> None:
        names = [slot.get("name") for slot in slots if isinstance(slot, dict)]
        if len(set(names)) != len(names):
            raise ValidationError("Each slot name at most once.")


class IngestInteractionsSchema(Schema):
    interactions = fields.List(
        fields.Nested(IngestInteractionSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_INTERACTIONS),
    )


class IngestedUsersSchema(Schema):
    accepted = fields.Integer(required=True)


class IngestedInteractionSchema(Schema):
    interaction_id = fields.String(required=True, metadata={"description": "The platform's id."})
    id = fields.UUID(required=True, metadata={"description": "The gateway's id."})


class IngestedInteractionsSchema(Schema):
    accepted = fields.Integer(required=True)
    interactions = fields.List(fields.Nested(IngestedInteractionSchema), required=True)
