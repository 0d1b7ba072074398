"""The gateway's own errors: each carries the HTTP status, the error code and a safe description."""

from typing import Any


class GatewayError(Exception):
    """Base of every error the HTTP edge renders as the JSON envelope."""

    status = 500
    code = "server_error"
    description = "The server could not complete the request."

    def __init__(self, description: str | None = None, *, details: dict[str, Any] | None = None):
        super().__init__(description or self.description)
        if description:
            self.description = description
        self.details = details or {}


class NotFound(GatewayError):
    # Rule 1: one body for "does not exist" and "not yours", so nothing can be inferred.
    status = 404
    code = "not_found"
    description = "No such resource."


class Forbidden(GatewayError):
    status = 403
    code = "forbidden"
    description = "This client may not do that."


class InvalidInput(GatewayError):
    status = 422
    code = "invalid_request"
    description = "The request is not valid."


class Conflict(GatewayError):
    status = 409
    code = "conflict"
    description = "The request conflicts with the current state."


class Unavailable(GatewayError):
    status = 503
    code = "temporarily_unavailable"
    description = "The service is temporarily unavailable; retry shortly."
    retry_after = 5
