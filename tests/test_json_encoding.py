"""Responses encoded by orjson are the documents Flask's own encoder makes."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider

from gateway.json_encoding import JSONProvider


@dataclass
class Point:
    x: int


def _pair():
    fast, plain = Flask("fast"), Flask("plain")
    fast.json = JSONProvider(fast)
    for app in (fast, plain):
        app.json.sort_keys = False
    return fast, plain


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": [1.5, None, True, "x"], "ü": "naïve — ✓"},
        {"when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "p": Point(3)},
        {"big": 2**70, "n": Decimal("1.10")},
        [{"nested": {"k": [1, 2, {"z": None}]}}],
    ],
)
def test_the_same_document_as_flask(value):
    fast, plain = _pair()
    with fast.app_context():
        ours = fast.json.response(value)
    with plain.app_context():
        theirs = plain.json.response(value)
    assert ours.mimetype == theirs.mimetype == "application/json"
    assert ours.get_data().endswith(b"\n")
    assert json.loads(ours.get_data()) == json.loads(theirs.get_data())
    # key order kept, as Flask keeps it with sort_keys off
    assert list(json.loads(ours.get_data())) == list(
        json.loads(theirs.get_data())
    ) or not isinstance(value, dict)


def test_the_app_uses_it(app):
    assert isinstance(app.json, JSONProvider)
    assert not isinstance(DefaultJSONProvider, JSONProvider)
