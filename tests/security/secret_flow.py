"""The secrets a realistic run of the gateway hands out, and a search for them in a database dump:
each value as shown, and the encodings that would be the same secret stored another way."""

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from database_dump import dump as dump
from tokens import csrf_token

# Shorter forms would match by chance in a dump of a few megabytes; every secret here is longer.
MIN_LENGTH = 16
_HEX = re.compile(r"[0-9a-fA-F]+")
_URLSAFE = re.compile(r"[A-Za-z0-9_-]+=*")
_STANDARD = re.compile(r"[A-Za-z0-9+/]+=*")
_BASE32 = re.compile(r"[A-Z2-7]+=*")
# the prefix a secret is shown with, which a store could leave out
_PREFIX = re.compile(r"^[a-z]{2,8}_")


def _padded(text: str) -> str:
    return text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4)


def _decodings(text: str) -> list[bytes]:
    """The bytes `text` could be the printable form of (hex, base64 of either alphabet, base32)."""
    found: list[bytes] = []
    if _HEX.fullmatch(text) and len(text) % 2 == 0:
        found.append(bytes.fromhex(text))
    for pattern, decode in (
        (_URLSAFE, base64.urlsafe_b64decode),
        (_STANDARD, base64.standard_b64decode),
    ):
        if pattern.fullmatch(text):
            try:
                found.append(decode(_padded(text)))
            except (binascii.Error, ValueError):
                pass
    if _BASE32.fullmatch(text):
        try:
            found.append(base64.b32decode(text + "=" * (-len(text) % 8)))
        except (binascii.Error, ValueError):
            pass
    return found


def _printable_forms(raw: bytes) -> set[str]:
    return {
        raw.hex(),
        base64.standard_b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        base64.b32encode(raw).decode().rstrip("="),
    }


def encodings(value: str) -> set[str]:
    """`value` and what would be trivially the same secret: its bytes in hex (a bytea column),
    base64 or base32; without a `whsec_`-style prefix; and the bytes it encodes, re-encoded."""
    forms = {value, *_printable_forms(value.encode())}
    bare = _PREFIX.sub("", value)
    forms.add(bare)
    for text in {value, bare}:
        for raw in _decodings(text):
            if len(raw) >= MIN_LENGTH // 2:
                forms |= _printable_forms(raw)
    return {form for form in forms if len(form) >= MIN_LENGTH}


@dataclass
class Secrets:
    """Every secret-bearing value a flow saw, by what it is."""

    seen: dict[str, set[str]] = field(default_factory=dict)

    def add(self, label: str, value: Any) -> str:
        text = str(value)
        assert len(text) >= MIN_LENGTH, (label, text)
        self.seen.setdefault(label, set()).add(text)
        return text

    def labels(self) -> set[str]:
        return set(self.seen)

    def __len__(self) -> int:
        return sum(len(values) for values in self.seen.values())

    def found_in(self, text: str) -> list[tuple[str, str]]:
        """(label, the form found) of every secret that `text` holds in any of its encodings."""
        lowered = text.lower()
        hits = []
        for label, values in sorted(self.seen.items()):
            for value in sorted(values):
                for form in sorted(encodings(value)):
                    # hex is case-free; the other alphabets are not
                    haystack = lowered if _HEX.fullmatch(form) else text
                    needle = form.lower() if _HEX.fullmatch(form) else form
                    if needle in haystack:
                        hits.append((label, form))
        return hits


class Browser:
    """A Flask test client that keeps every cookie a response sets and every CSRF token a page
    shows, as the secrets they are."""

    COOKIE = re.compile(r"^([^=;]+)=([^;]*)")

    def __init__(self, http: Any, secrets: Secrets) -> None:
        self.http = http
        self.secrets = secrets

    def _record(self, response: Any) -> Any:
        for line in response.headers.getlist("Set-Cookie"):
            match = self.COOKIE.match(line)
            if match and len(match.group(2)) >= MIN_LENGTH:
                self.secrets.add(f"cookie {match.group(1)}", match.group(2))
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self._record(self.http.get(path, **kwargs))

    def post(self, path: str, **kwargs: Any) -> Any:
        return self._record(self.http.post(path, **kwargs))

    def put(self, path: str, **kwargs: Any) -> Any:
        return self._record(self.http.put(path, **kwargs))

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self._record(self.http.delete(path, **kwargs))

    def form_token(self, path: str) -> str:
        """The CSRF token of the form on the page at `path` (fetched afresh)."""
        page = self.get(path)
        assert page.status_code == 200, (path, page.status_code)
        return self.secrets.add("csrf token", csrf_token(page))

    def follow(self, url: str) -> Any:
        """GET the path and query of an absolute or relative URL."""
        parts = urlsplit(url)
        return self.get(parts.path + (f"?{parts.query}" if parts.query else ""))
