"""Test fixtures: a real PostgreSQL built by the real migrations, used as the real app role."""

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import argon2
import psycopg
import pytest
from browser import browser, live_url  # noqa: F401 - fixtures for the page tests
from factories import BINDING_KEY, SECRET_KEY, Factory
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from tokens import bearer_headers
from werkzeug.routing import Rule

from gateway import create_app, migrate
from gateway.db import PooledDatabase, SharedConnection, use_binding_key
from gateway.web import passwords

PSEUDONYM_KEYS = "k1:" + "ab" * 32


# Argon2id at the shipped profile (RFC 9106's second, 64 MiB) costs 0.2–0.4 s a hash or a
# check on a 2-core machine, and the in-process tests make hundreds of them. They hash with
# Argon2id at its smallest cost instead; tests marked `shipped_password_hashing` (the profile
# and the upgrade of weaker hashes, tests/test_passwords.py) and every server a test starts in
# its own process keep the shipped one.
_CHEAP_HASHER = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_CHEAP_DUMMY_HASH = _CHEAP_HASHER.hash("an unknown account's password")


@pytest.fixture(autouse=True)
def cheap_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("shipped_password_hashing"):
        return
    monkeypatch.setattr(passwords, "_HASHER", _CHEAP_HASHER)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", _CHEAP_DUMMY_HASH)


# Werkzeug compiles every rule's URL builder (ast, then compile) each time an app is made:
# 1.3 ms a rule, 70 ms an app, and the tests make about 1,500 apps. A builder is a plain
# function of the rule's parsed form (it reaches the rule's converters through its `self`
# argument), so the tests' apps share one per parsed form. Rules with defaults, whose builders
# carry converted default values, are compiled as usual.
_werkzeug_compile_builder = Rule._compile_builder
_builders: dict[tuple[object, ...], object] = {}


def _shared_builder(self: Rule, append_unknown: bool = True):  # type: ignore[no-untyped-def]
    if self.defaults:
        return _werkzeug_compile_builder(self, append_unknown)
    key = (tuple(self._trace), append_unknown)
    if key not in _builders:
        _builders[key] = _werkzeug_compile_builder(self, append_unknown)
    return _builders[key]


Rule._compile_builder = _shared_builder  # type: ignore[method-assign]


class Clock:
    """An injectable clock: tests move time forward to cross expiries."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _server_url(tmp_root: Path) -> str:
    url = os.environ.get("GATEWAY_TEST_DATABASE_URL")
    if url:
        return url
    from gateway.embedded import start_embedded

    return start_embedded(tmp_root / "embedded-pg").server_url


@pytest.fixture(scope="session")
def owner_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    """A fresh database for this test worker, migrated to head; its URL as the owner role."""
    server_url = _server_url(tmp_path_factory.getbasetemp().parent)
    # unique per process: concurrent runs on one server must not drop each other's database
    name = f"gateway_test_{worker_id}_{os.getpid()}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_conninfo(server_url, dbname=name)
    # the key the test apps derive from SECRET_KEY, as `skillgw db upgrade` installs it
    migrate.upgrade(url, binding_key=BINDING_KEY)
    yield url
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def app_url(owner_url: str) -> str:
    params = conninfo_to_dict(owner_url)
    params["user"] = migrate.APP_ROLE
    params.pop("password", None)
    return make_conninfo(**params)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def conn(owner_url: str) -> Iterator[psycopg.Connection]:
    """One connection, one outer transaction rolled back after the test, running as the app role."""
    with psycopg.connect(owner_url, autocommit=True, row_factory=dict_row) as connection:
        use_binding_key(connection, BINDING_KEY)  # as the app's pool does
        with connection.transaction(force_rollback=True):
            connection.execute("SET LOCAL ROLE gateway_app")  # row-level security applies
            yield connection


def _settings(tmp_path: Path, clock: Clock, **extra: object) -> dict[str, object]:
    return {
        "TESTING": True,
        "SECRET_KEY": SECRET_KEY,
        "PSEUDONYM_KEYS": PSEUDONYM_KEYS,
        "RATELIMIT_STORAGE_URI": "memory://",
        "DATA_DIR": str(tmp_path),
        "CLOCK": clock,
        **extra,
    }


@pytest.fixture
def app_settings(tmp_path: Path, clock: Clock):  # type: ignore[no-untyped-def]
    """The test settings, with overrides: app_settings(DATABASE=..., RATELIMIT_ENABLED=False)."""

    def settings(**extra: object) -> dict[str, object]:
        return _settings(tmp_path, clock, **extra)

    return settings


@pytest.fixture
def app(conn: psycopg.Connection, tmp_path: Path, clock: Clock):  # type: ignore[no-untyped-def]
    return create_app(_settings(tmp_path, clock, DATABASE=SharedConnection(conn)))


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def make(conn: psycopg.Connection) -> Factory:
    return Factory(conn)


@pytest.fixture
def bearer(client):  # type: ignore[no-untyped-def]
    """Mint an access token through the real token endpoint; return the Authorization header."""

    def mint(credentials, scope: str | None = None) -> dict[str, str]:  # type: ignore[no-untyped-def]
        return bearer_headers(client, credentials, scope=scope)

    return mint


# --- committed mode: real commits through a real pool, for what a rolled-back test can't show


_TENANT_TABLES = (
    "web_sessions, authorization_codes, activation_links, user_credentials, admin_accounts, "
    "deletion_receipts, access_log, user_pseudonyms, session_pseudonyms, vault.audio_recordings, "
    "interaction_texts, "
    "interactions, ingested_interactions, consents, user_profiles, users, oauth_tokens, "
    "oauth_clients, skills, tier_grants, developers, "
    # committed audit rows would show up in a later rolled-back test's audit queries
    "audit_events, webhook_deliveries, developer_webhooks, tier_requests"
)


@pytest.fixture
def owner_conn(owner_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(owner_url, autocommit=True, row_factory=dict_row) as connection:
        use_binding_key(connection, BINDING_KEY)
        yield connection
        with connection.transaction():
            # the history tables refuse TRUNCATE even to the owner (migration 0002); the test
            # server's superuser turns ordinary triggers off for this one reset
            connection.execute("SET LOCAL session_replication_role = replica")
            connection.execute(f"TRUNCATE {_TENANT_TABLES} RESTART IDENTITY CASCADE")


@pytest.fixture
def committed_make(owner_conn: psycopg.Connection) -> Factory:
    return Factory(owner_conn)


@pytest.fixture
def pooled_app(app_url, tmp_path, clock):  # type: ignore[no-untyped-def]
    """Build apps that each have their own real pool (as separate instances would)."""
    pools: list[PooledDatabase] = []

    def build(**extra: object):  # type: ignore[no-untyped-def]
        db = PooledDatabase(app_url, min_size=1, max_size=4, timeout=2.0, binding_key=BINDING_KEY)
        db.open(wait=True)
        pools.append(db)
        return create_app(_settings(tmp_path, clock, DATABASE=db, **extra))

    yield build
    for db in pools:
        db.close()


@pytest.fixture
def committed_app(owner_conn, pooled_app):  # type: ignore[no-untyped-def]
    return pooled_app()
