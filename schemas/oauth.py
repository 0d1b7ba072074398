"""OAuth 2.0 bodies (RFC 6749, 7009, 7662, 8414).

authlib builds and parses these itself; the schemas describe them for the OpenAPI document.
"""

from marshmallow import EXCLUDE, Schema, fields, validate


class _ClientCredentials(Schema):
    class Meta:
        # RFC 6749 §3.2: the server ignores request parameters it does not know
        unknown = EXCLUDE

    client_id = fields.String(metadata={"description": "With `client_secret_post` only."})
    client_secret = fields.String(metadata={"description": "With `client_secret_post` only."})


class TokenRequestSchema(_ClientCredentials):
    grant_type = fields.String(required=True, validate=validate.OneOf(["client_credentials"]))
    scope = fields.String(
        metadata={"description": "Space-separated scopes; default: all the client may have."}
    )


class TokenSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, validate=validate.OneOf(["Bearer"]))
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds; at most 3600."})
    scope = fields.String()


class RevocationRequestSchema(_ClientCredentials):
    token = fields.String(required=True)
    # RFC 7009 §2.1: a hint the server does not know is ignored, not an error
    token_type_hint = fields.String(metadata={"description": "`access_token`; others are ignored."})


class RevocationSchema(Schema):
    """RFC 7009 §2.2: an empty body, also for an unknown token."""


class IntrospectionRequestSchema(RevocationRequestSchema):
    pass


class IntrospectionSchema(Schema):
    active = fields.Boolean(required=True)
    client_id = fields.String()
    scope = fields.String()
    token_type = fields.String()
    iat = fields.Integer(metadata={"description": "Issued at, seconds since the epoch."})
    exp = fields.Integer(metadata={"description": "Expires at, seconds since the epoch."})
    iss = fields.String()


class AuthorizationServerMetadataSchema(Schema):
    issuer = fields.String(required=True)
    authorization_endpoint = fields.String(required=True)
    token_endpoint = fields.String(required=True)
    revocation_endpoint = fields.String(required=True)
    introspection_endpoint = fields.String(required=True)
    grant_types_supported = fields.List(fields.String(), required=True)
    token_endpoint_auth_methods_supported = fields.List(fields.String(), required=True)
    revocation_endpoint_auth_methods_supported = fields.List(fields.String(), required=True)
    introspection_endpoint_auth_methods_supported = fields.List(fields.String(), required=True)
    scopes_supported = fields.List(fields.String(), required=True)
    response_types_supported = fields.List(fields.String(), required=True)
    code_challenge_methods_supported = fields.List(fields.String(), required=True)
