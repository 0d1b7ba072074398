"""The single JSON error envelope, rendered for every failure at the HTTP edge (rule 9); a
failure on an HTML page is shown as a page instead."""

import logging
from typing import Any

import psycopg
from flask import Flask, Response, current_app, jsonify, request
from marshmallow import ValidationError
from psycopg_pool import PoolTimeout
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as WerkzeugResponse

from gateway import context
from gateway.exceptions import GatewayError, NotFound, Unavailable

logger = logging.getLogger(__name__)

_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: NotFound.code,
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def envelope(
    status: int, code: str, description: str, details: dict[str, Any] | None = None
) -> Response:
    response = jsonify({"error": code, "error_description": description, "details": details or {}})
    response.status_code = status
    return response


def _as_page(status: int, description: str) -> Response | None:
    """The error as an HTML page when the request was for one (a view marked web_page), else
    None. The console's and privacy page's own handlers come first; this covers the sign-in,
    activation and authorization pages and what no handler of theirs expects."""
    endpoint = request.endpoint
    if endpoint is None:  # routing failed (405): the page the path names for GET or POST
        adapter = current_app.url_map.bind_to_environ(request.environ)
        for method in ("GET", "POST"):
            try:
                endpoint, _ = adapter.match(method=method)
                break
            except HTTPException:
                continue
    view = current_app.view_functions.get(endpoint or "")
    if not getattr(view, "web_page", False):
        return None
    # the pages' module imports the views: imported here, when an error is being shown
    from gateway.views.page_forms import error_page

    return error_page(status, description)


def _gateway_error(error: GatewayError) -> Response:
    shown = _as_page(error.status, error.description)
    response = shown or envelope(error.status, error.code, error.description, error.details)
    for name, value in getattr(error, "headers", {}).items():
        response.headers[name] = value
    if isinstance(error, Unavailable):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _validation_error(error: ValidationError) -> Response:
    messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    if shown := _as_page(422, "Some of what was sent is not valid."):
        return shown
    return envelope(422, "invalid_request", "Some parameters are not valid.", messages)


def _http_exception(error: HTTPException) -> WerkzeugResponse:
    response = error.get_response()
    # authlib's RFC 6749/6750 errors are already JSON with their own headers: leave them be
    if response.mimetype == "application/json":
        return response
    status = error.code or 500
    described = NotFound.description if status == 404 else error.description
    if shown := _as_page(status, described or "The request failed."):
        for name, value in response.headers.items():
            if name.lower() not in {"content-type", "content-length"}:
                shown.headers[name] = value  # Allow, Retry-After
        return shown
    if status == 404:
        # byte-identical to the "not yours" 404 (rule 1)
        return envelope(404, NotFound.code, NotFound.description)
    if status == 429:
        description = f"Rate limit exceeded ({error.description}); retry later."
    else:
        description = error.description or "The request failed."
    wrapped = envelope(status, _CODES.get(status, "invalid_request"), description)
    for name, value in response.headers.items():
        if name.lower() not in {"content-type", "content-length"}:
            wrapped.headers[name] = value
    return wrapped


def _bad_data(error: psycopg.DataError) -> Response:
    # input the database cannot hold (a NUL byte in text, a number out of range): the request
    # is at fault, and its transaction has already rolled back
    logger.info("request data refused by the database: %s", error.__class__.__name__)
    if shown := _as_page(422, "Some of what was sent cannot be stored (a NUL character?)."):
        return shown
    return envelope(422, "invalid_request", "Some parameters are not valid.")


def _database_error(error: Exception) -> Response:
    logger.warning("database unavailable: %s", error.__class__.__name__)
    return _gateway_error(Unavailable())


def _unexpected(error: Exception) -> Response:
    ctx = context.find()
    logger.exception("unhandled error (request %s)", ctx.request_id if ctx else "-")
    if shown := _as_page(500, "The server could not complete the request."):
        return shown
    return envelope(500, "server_error", "The server could not complete the request.")


def register(app: Flask) -> None:
    app.register_error_handler(GatewayError, _gateway_error)
    app.register_error_handler(ValidationError, _validation_error)
    app.register_error_handler(HTTPException, _http_exception)
    app.register_error_handler(psycopg.DataError, _bad_data)
    app.register_error_handler(psycopg.OperationalError, _database_error)
    app.register_error_handler(PoolTimeout, _database_error)
    app.register_error_handler(Exception, _unexpected)
