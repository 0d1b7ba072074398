"""What no response body may hold: a traceback, SQL, the driver's name, a source path, or
audio (rule 4's definition as tests/views/test_developers.py holds it: no audio field with a
value, no audio reference, and here also no inline audio bytes)."""

import json
import re
from typing import Any

LEAKS = {
    "traceback": re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+"),
    # SQL as the repositories write it: upper-case keywords
    "sql": re.compile(
        r"\bSELECT\b[^.]{0,200}\bFROM\b|\bINSERT INTO\b|\bDELETE FROM\b|\bRETURNING\b"
    ),
    "database error": re.compile(r"syntax error at or near|\bpsycopg|\blibpq\b", re.IGNORECASE),
    "source path": re.compile(r"/work/|\.py\"|\.py\b|site-packages|/usr/lib/python"),
    "inline audio": re.compile(
        r"data:audio|base64,(UklGR|SUQz|T2dnUw|ZkxhQw)|\"(UklGR|SUQz|T2dnUw|ZkxhQw)", re.IGNORECASE
    ),
}

# The public documents describe the API, its audio_ref field included; every other answer is
# data, where a field named audio* may never carry a value.
DOCUMENTS = {"/openapi.json", "/docs"}


def _audio_fields(value: Any, path: str = "$") -> list[str]:
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).lower().startswith("audio") and item not in (None, "", [], {}):
                found.append(f"{path}.{key}")
            found += _audio_fields(item, f"{path}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            found += _audio_fields(item, f"{path}[{n}]")
    return found


def problems(
    path: str, body: bytes, mimetype: str, *, audio_refs: tuple[str, ...] = ()
) -> list[str]:
    """What is wrong with the answer `body` to a request for `path`; empty when nothing."""
    text = body.decode("utf-8", errors="replace")
    found = []
    for name in LEAKS:
        match = LEAKS[name].search(text)
        if match:
            found.append(f"{name}: {text[max(0, match.start() - 40) : match.end() + 40]!r}")
    for ref in audio_refs:
        if ref in text:
            found.append(f"audio reference {ref!r}")
    if mimetype == "application/json" and path not in DOCUMENTS:
        try:
            data = json.loads(text)
        except ValueError:
            found.append("a JSON answer that does not parse")
        else:
            found += [f"audio field {where}" for where in _audio_fields(data)]
    return found
