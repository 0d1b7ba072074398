"""A fresh database for the platform's commands, owned by a role without BYPASSRLS, and the
records and committed rows the command tests use.

The commands run as the owner role; in production that role is an ordinary one, subject to
the tables' FORCEd row-level security (a superuser would hide a COPY refused under it).
"""

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from factories import BINDING_KEY, SECRET_KEY
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from gateway import migrate
from gateway.db import bind_principal, use_binding_key
from gateway.models import SYSTEM
from gateway.repositories import developers as developers_repo
from gateway.repositories import skills as skills_repo
from gateway.repositories import users as users_repo

OWNER_ROLE = "gateway_test_owner"


def env(**extra: str) -> dict[str, str]:
    """The environment without any GATEWAY_* setting from the outside, plus `extra`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    clean["GATEWAY_SECRET_KEY"] = SECRET_KEY  # the key the test databases hold (factories)
    clean.update(extra)
    return clean


def _ensure_owner_role(admin: psycopg.Connection) -> None:
    exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (OWNER_ROLE,)).fetchone()
    if exists:
        return
    try:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE").format(
                sql.Identifier(OWNER_ROLE)
            )
        )
    except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        pass  # another test process created it at the same moment


@contextmanager
def platform_database(owner_url: str) -> Iterator[str]:
    """A fresh database, migrated by and owned by a role without BYPASSRLS; its URL as it."""
    name = f"gateway_platform_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(owner_url, autocommit=True) as admin:
        _ensure_owner_role(admin)
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(OWNER_ROLE)
            )
        )
    url = make_conninfo(owner_url, dbname=name, user=OWNER_ROLE)
    migrate.upgrade(url, binding_key=BINDING_KEY)
    yield url
    with psycopg.connect(owner_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


class Platform:
    """Committed rows in a platform_db, written and read as the system caller."""

    def __init__(self, url: str) -> None:
        self.url = url

    def run(self, fn: Any, **kwargs: Any) -> Any:
        with psycopg.connect(self.url, autocommit=True, row_factory=dict_row) as conn:
            use_binding_key(conn, BINDING_KEY)
            with conn.transaction():
                bind_principal(conn, SYSTEM)
                return fn(conn, **kwargs)

    def rows(self, query: str, params: Any = None) -> list[dict[str, Any]]:
        return list(self.run(lambda conn: conn.execute(query, params).fetchall()))

    def count(self, table: str) -> int:
        return int(self.rows(f"SELECT count(*) AS n FROM {table}")[0]["n"])  # noqa: S608

    def counts(self) -> dict[str, int]:
        tables = ("interactions", "interaction_texts", "ingested_interactions")
        found = {table: self.count(table) for table in tables}
        found["vault"] = self.count("vault.audio_recordings")
        return found

    def partitions(self) -> list[str]:
        rows = self.rows(
            """
            SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent IN ('interactions'::regclass, 'interaction_texts'::regclass)
            ORDER BY 1
            """
        )
        return [row["name"] for row in rows]

    def skill(self) -> str:
        def make(conn: psycopg.Connection) -> str:
            developer = developers_repo.insert_developer(conn, name=f"Dev {uuid.uuid4().hex[:6]}")
            return str(skills_repo.insert_skill(conn, developer_id=developer, name="Pizza"))

        return str(self.run(make))

    def users(self, *platform_ids: str) -> None:
        def make(conn: psycopg.Connection) -> None:
            for platform_id in platform_ids:
                users_repo.upsert_user(conn, platform_user_id=platform_id, is_child=False)

        self.run(make)


def record(skill: str, number: int, *, at: datetime, **fields: Any) -> dict[str, Any]:
    """One interaction record as the platform sends it."""
    return {
        "interaction_id": f"int-{number}",
        "skill_id": skill,
        "user_id": f"user-{number % 3}",
        "session_id": f"session-{number // 4}",
        "occurred_at": at.isoformat(),
        "utterance": f"this is Maria Lopez, call me at 555 123 {1000 + number}",
        "response": "Sure, your large pepperoni pizza is on its way.",
        "intent": "OrderPizza",
        "slots": [{"name": "size", "value": "large"}],
        "outcome": "success",
        "order_ref": f"ORD{number:05d}",
        **fields,
    }


def jsonl(records: list[Any]) -> str:
    """JSON Lines: dicts are dumped, strings written as they are."""
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)
