"""Fields for JSON request bodies that take a value of their JSON type only.

marshmallow's Boolean also takes "yes", "on", 1 and 0.0, and its Integer, unless strict, takes
"30" and 30.0: fine for query strings, where every value is text, but a JSON body that sends a
string or a number where the documented type is a boolean, or a string or a fraction where it
is an integer, is a mistake the caller should hear about, not a value to guess at.
"""

from typing import Any

from marshmallow import fields


class JsonBoolean(fields.Boolean):
    """true or false, and nothing else."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class JsonInteger(fields.Integer):
    """A JSON integer: not a string of digits, a fraction or a boolean (marshmallow's strict
    mode, which every body's integer needs)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)
