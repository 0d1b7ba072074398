"""Users' sign-in accounts: the activation link the platform asks for, and who a token is."""

from marshmallow import RAISE, Schema, fields


class ActivationSchema(Schema):
    class Meta:
        unknown = RAISE

    user_id = fields.UUID(required=True, metadata={"description": "The user's gateway id."})
    activation_url = fields.Url(
        required=True,
        metadata={"description": "Shown once: the page where the user sets a password."},
    )
    expires_at = fields.DateTime(required=True, metadata={"description": "When the link dies."})


class MeSchema(Schema):
    class Meta:
        unknown = RAISE

    user_id = fields.UUID(required=True)
    platform_user_id = fields.String(
        allow_none=True, metadata={"description": "The account name the user signs in with."}
    )
