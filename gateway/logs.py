"""Logs as JSON lines: one per request (ids, route template, status, duration), and every other
record scrubbed of query strings, credentials, addresses and exception messages."""

import json
import logging
import re
import traceback
from datetime import UTC, datetime
from typing import Any

from flask import has_request_context

from gateway.context import request_state

# The one line per request, and the only fields it may carry: nothing a caller wrote (path,
# query, headers, body) and nothing about a user.
REQUEST_LOGGER = "gateway.requests"
REQUEST_FIELDS = ("request_id", "method", "route", "status", "duration_ms", "client_id")

_SCRUBS = (
    # a query string: filter values, search words, a token someone put in a URL
    (re.compile(r"\?[^\s'\"]*"), "?[query removed]"),
    # credentials in a header or a form as a message might quote them
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [removed]"),
    # ... or a library's debug line quotes a token response as a dict (authlib does)
    (
        re.compile(
            r"(?i)\b(access_token|refresh_token|client_secret|password|secret|token)"
            r"(['\"]?\s*[:=]\s*['\"]?)[^\s&'\",}]*"
        ),
        r"\1\2[removed]",
    ),
    # a client's address (gunicorn's refusals name it)
    (re.compile(r"\bip=\S+?(?=:?\s|$)"), "ip=[removed]"),
)


def scrub(text: str) -> str:
    """`text` without query strings, credentials or client addresses."""
    for pattern, replacement in _SCRUBS:
        text = pattern.sub(replacement, text)
    return text


def current_request_id() -> str | None:
    """The id of the request being served (the X-Request-Id header it answers with)."""
    if not has_request_context():
        return None
    value: str | None = request_state().get("request_id")
    return value


class JsonFormatter(logging.Formatter):
    """One JSON object per record.

    The request line carries only REQUEST_FIELDS. Any other record has its message scrubbed;
    an exception is logged as its type and stack frames, never its message, which may quote a
    value (a driver's error names the row it refused).
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "gateway_request", None)
        if isinstance(fields, dict):
            entry["message"] = "request"
            entry.update({name: fields.get(name) for name in REQUEST_FIELDS})
        else:
            entry["message"] = scrub(record.getMessage())
            request_id = current_request_id()
            if request_id is not None:
                entry["request_id"] = request_id
        if record.exc_info and record.exc_info[0] is not None:
            error_type, _, trace = record.exc_info
            entry["error"] = f"{error_type.__module__}.{error_type.__qualname__}"
            entry["stack"] = [
                f"{frame.filename}:{frame.lineno} in {frame.name}"
                for frame in traceback.extract_tb(trace)
            ]
        return json.dumps(entry, ensure_ascii=True, separators=(",", ":"), default=str)


def log_request(fields: dict[str, Any]) -> None:
    logging.getLogger(REQUEST_LOGGER).info("request", extra={"gateway_request": fields})


def config_dict(level: str = "info") -> dict[str, Any]:
    """A logging.config dictionary: every logger, gunicorn's error log included, as JSON lines
    on stdout; gunicorn's own access log off (the request line replaces it)."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "gateway.logs.JsonFormatter"}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"level": level, "handlers": ["stdout"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["stdout"], "propagate": False},
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
            # authlib's debug lines quote token responses: never below info
            "authlib": {"level": "INFO" if level == "DEBUG" else level},
        },
    }
