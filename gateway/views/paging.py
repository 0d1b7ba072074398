"""Query strings and signed keyset cursors for the admin lists (the developer API's scheme)."""

import hashlib
import json
from typing import Any

from flask import current_app, request
from marshmallow import Schema

from gateway.exceptions import InvalidInput
from gateway.security import sign_cursor, verify_cursor

DEFAULT_LIMIT = 50


def query_args(schema: Schema) -> dict[str, Any]:
    """The query string loaded by `schema`; each parameter at most once (a 422 otherwise)."""
    repeated = [name for name, values in request.args.lists() if len(values) > 1]
    if repeated:
        raise InvalidInput(details={name: ["Give this parameter once."] for name in repeated})
    args: dict[str, Any] = schema.load(request.args.to_dict())
    if "since" in args and "until" in args and args["since"] >= args["until"]:
        raise InvalidInput(details={"until": ["Must be later than since."]})
    return args


def no_query() -> None:
    """Refuse a query string on a route that takes none: any parameter is a 422, so that a
    filter or page size the caller meant to apply is never silently ignored (rule 9)."""
    if request.args:
        raise InvalidInput(details={name: ["Unknown field."] for name in sorted(request.args)[:20]})


def _key() -> bytes:
    secret: str = current_app.config["SECRET_KEY"]
    return secret.encode()


def _fingerprint(listing: str, args: dict[str, Any]) -> str:
    # binds a cursor to its list and filters: reusing it elsewhere is an error, not a skip
    filters = {name: str(value) for name, value in args.items() if name not in {"cursor", "limit"}}
    blob = json.dumps({"list": listing, **filters}, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def next_cursor(listing: str, args: dict[str, Any], after: Any) -> str:
    """An opaque, signed cursor: the next page of `listing` with the same filters."""
    return sign_cursor({"a": after, "q": _fingerprint(listing, args)}, key=_key())


def cursor_position(listing: str, args: dict[str, Any]) -> Any:
    """Where the page starts: the position in `args["cursor"]`, or None for the first page."""
    if "cursor" not in args:
        return None
    payload = verify_cursor(args["cursor"], key=_key())
    if payload is None or payload.get("q") != _fingerprint(listing, args) or "a" not in payload:
        raise InvalidInput(details={"cursor": ["Not a cursor from this query; start again."]})
    return payload["a"]


def page(
    listing: str, args: dict[str, Any], rows: list[Any], *, limit: int, position: Any
) -> tuple[list[Any], str | None]:
    """The first `limit` of `rows` (fetched as limit + 1) and the cursor of the next page."""
    if len(rows) <= limit:
        return rows, None
    shown = rows[:limit]
    return shown, next_cursor(listing, args, position(shown[-1]))
