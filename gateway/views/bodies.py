"""Request bodies: the JSON object a write sends, or a clear 422."""

from typing import Any

from flask import request

from gateway.exceptions import InvalidInput


def json_body() -> Any:
    """The request's JSON body; a clear 422 for anything that is not a JSON object."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput(
            "Send a JSON object with Content-Type: application/json.",
            details={"_body": ["Not a JSON object."]},
        )
    return body
