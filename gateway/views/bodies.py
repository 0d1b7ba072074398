"""Request bodies: the JSON object a write sends, or a clear 422."""

from typing import Any

from flask import request

from gateway.exceptions import InvalidInput

_NOT_AN_OBJECT = "Send a JSON object with Content-Type: application/json."


def json_body() -> Any:
    """The request's JSON body; a clear 422 for anything that is not a JSON object."""
    try:
        body = request.get_json(silent=True)
    except RecursionError as exc:
        # nested deeper than the parser's stack: bad input, not a server fault (rule 9)
        raise InvalidInput(_NOT_AN_OBJECT, details={"_body": ["Nested too deeply."]}) from exc
    if not isinstance(body, dict):
        raise InvalidInput(_NOT_AN_OBJECT, details={"_body": ["Not a JSON object."]})
    return body


def no_body() -> None:
    """Refuse a body on a route that takes none: an empty one or `{}` passes, any field is a
    422, so that a field the caller meant to set is never silently ignored."""
    if not request.get_data(cache=True):
        return
    body = json_body()
    if body:
        raise InvalidInput(
            "This request takes no body.",
            details={name: ["Unknown field."] for name in sorted(body)[:20]},
        )
