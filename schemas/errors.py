"""The one error envelope every failure answers with (docs/rules.md rule 9)."""

from marshmallow import Schema, fields


class ErrorEnvelopeSchema(Schema):
    """{"error", "error_description", "details"}: the OAuth error shape, plus details.

    `details` (field name → messages) is free-form by design, so it is not a marshmallow field
    here: the OpenAPI builder describes it.
    """

    error = fields.String(
        required=True, metadata={"description": "A stable, machine-readable error code."}
    )
    error_description = fields.String(
        required=True, metadata={"description": "What went wrong, for a person to read."}
    )
