"""One typed request context instead of attributes on flask.g; the clock comes from the app."""

import ast
import re
from pathlib import Path

import pytest

from gateway import context
from gateway.db import SharedConnection

GATEWAY = Path(__file__).resolve().parent.parent / "gateway"


def uses_flask_g(source: str) -> bool:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "flask":
            if any(alias.name == "g" for alias in node.names):
                return True
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "g"
            and isinstance(node.value, ast.Name)
            and node.value.id == "flask"
        ):
            return True
    return False


def test_only_the_context_module_touches_flask_g():
    users = sorted(
        str(path.relative_to(GATEWAY))
        for path in GATEWAY.rglob("*.py")
        if uses_flask_g(path.read_text(encoding="utf-8"))
    )

    assert users == ["context.py"]


def test_the_lint_sees_flask_g():
    assert uses_flask_g("from flask import g\ng.x = 1\n")
    assert uses_flask_g("import flask\nflask.g.x = 1\n")
    assert not uses_flask_g("from flask import request\n")


def test_no_module_takes_its_clock_from_the_oauth_module():
    offenders = sorted(
        str(path.relative_to(GATEWAY))
        for path in GATEWAY.rglob("*.py")
        if re.search(
            r"from gateway\.oauth import[^\n]*\bnow\b|oauth\.now\(", path.read_text("utf-8")
        )
    )

    assert offenders == []


def test_a_view_reads_the_apps_clock(client, bearer, make, clock):
    # the token expires by the app's injected clock, which views and authlib share
    headers = bearer(make.client(developer_id=make.developer()))
    assert client.get("/v1/developer", headers=headers).status_code == 200

    clock.advance(hours=2)

    assert client.get("/v1/developer", headers=headers).status_code == 401


def test_each_request_is_told_its_id(client, bearer, make):
    headers = bearer(make.client(developer_id=make.developer()))

    ids = [client.get("/v1/developer", headers=headers).headers["X-Request-Id"] for _ in range(2)]

    assert all(re.fullmatch(r"[0-9a-f]{16}", value) for value in ids)
    assert ids[0] != ids[1]


def test_the_context_exists_only_inside_its_transaction(app, conn):
    with app.test_request_context("/"):
        with pytest.raises(RuntimeError):
            context.current()
        with context.transaction(SharedConnection(conn), required_scopes=("x",)) as ctx:
            assert context.current() is ctx
            assert ctx.conn is conn
            assert ctx.required_scopes == ("x",)
            assert ctx.now() == app.config["CLOCK"]()
        with pytest.raises(RuntimeError):
            ctx.conn  # noqa: B018 - the connection went back with the transaction
