"""What the server-rendered pages share: reading form fields into values or messages, and
errors shown as an HTML page instead of the API's JSON envelope."""

from datetime import UTC, date, datetime, time

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException

from gateway.exceptions import GatewayError, NotFound
from gateway.web.pages import page

# The titles an error page carries; the description says what happened in words.
_TITLES = {
    400: "That request was not understood",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "That has changed meanwhile",
    413: "Too large",
    422: "Please check what you entered",
    429: "Too many requests",
    503: "Temporarily unavailable",
}


class Form:
    """The posted form's fields, read one at a time; each problem is kept against its field."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {name: value.strip() for name, value in request.form.items()}
        self.errors: dict[str, str] = {}

    def text(self, name: str, *, required: bool = False, max_length: int = 500) -> str:
        value = self.values.get(name, "")
        if required and not value:
            self.errors[name] = "Please fill this in."
        elif len(value) > max_length:
            self.errors[name] = f"At most {max_length} characters."
        elif "\x00" in value:
            self.errors[name] = "This contains a character that cannot be kept."
        return value

    def choice(self, name: str, options: list[str], *, required: bool = True) -> str:
        value = self.values.get(name, "")
        if not value and not required:
            return ""
        if value not in options:
            self.errors[name] = "Please choose one of the options."
        return value

    def day(self, name: str, *, required: bool = False) -> date | None:
        value = self.values.get(name, "")
        if not value:
            if required:
                self.errors[name] = "Please give a date."
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.errors[name] = "A date as YYYY-MM-DD, please."
            return None

    @property
    def ok(self) -> bool:
        return not self.errors


def start_of(day: date) -> datetime:
    """Midnight UTC at the start of `day`: the pages speak of days in UTC."""
    return datetime.combine(day, time(), UTC)


def error_page(status: int, description: str) -> Response:
    """The error as a page of the console or of the privacy page, with the way back."""
    admin = request.path.startswith("/admin")
    return page(
        "message.html",
        status=status,
        kind="admin" if admin else "user",
        title=_TITLES.get(status, "Something went wrong"),
        message=description,
        link=("/admin/", "Back to the console")
        if admin
        else ("/privacy/", "Back to your privacy page"),
    )


def _gateway_error(error: GatewayError) -> Response:
    if isinstance(error, NotFound):
        # one page for "does not exist" and "not yours" (rule 1)
        return error_page(404, NotFound.description)
    return error_page(error.status, error.description)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if status == 404:
        return error_page(404, NotFound.description)
    shown = error_page(status, error.description or "The request failed.")
    for name, value in error.get_response().headers.items():
        if name.lower() not in {"content-type", "content-length"}:
            shown.headers[name] = value  # Allow, Retry-After
    return shown


def render_errors_as_pages(bp: Blueprint) -> None:
    """A page's errors are pages too: never the API's JSON envelope, never a traceback."""
    bp.register_error_handler(GatewayError, _gateway_error)
    bp.register_error_handler(HTTPException, _http_error)
