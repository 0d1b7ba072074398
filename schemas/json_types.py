"""Fields for JSON request bodies that take a value of their JSON type only.

marshmallow's Boolean also takes "yes", "on", 1 and 0.0, and its Integer, unless strict, takes
"30": fine for query strings, where every value is text, but a JSON body that sends a string or
a number where the documented type is a boolean, or a string, a boolean or a fraction where it
is an integer, is a mistake the caller should hear about, not a value to guess at. An integer
sent as 30.0 is still 30: JSON has one number type, and JSON Schema, which the OpenAPI document
speaks, counts a number with no fractional part as an integer.
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
    """A JSON number with no fractional part: not a string of digits, a fraction or a boolean."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        if isinstance(value, float) and not value.is_integer():  # also refuses inf and NaN
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)
