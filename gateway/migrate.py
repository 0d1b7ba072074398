"""A small migrator: numbered .sql files applied once each, in order, under an advisory lock."""

import logging
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

logger = logging.getLogger(__name__)

APP_ROLE = "gateway_app"
_FILENAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = "gateway.migrations"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    def read(self) -> str:
        return self.path.read_text(encoding="utf-8")


def migrations_dir() -> Path:
    return Path(str(resources.files("gateway") / "sql" / "migrations"))


def discover(directory: Path | None = None) -> list[Migration]:
    """Return the migrations in `directory`, ordered; raise ValueError on a malformed name."""
    found = []
    for path in sorted((directory or migrations_dir()).glob("*.sql")):
        match = _FILENAME.match(path.name)
        if not match:
            raise ValueError(f"migration file name must look like 0001_slug.sql: {path.name}")
        found.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError("two migration files share a version number")
    return found


def ensure_app_role(conn: psycopg.Connection, *, password: str = "") -> None:
    """Create the least-privileged login role if it is missing (needs CREATEROLE).

    Production clusters create it with deploy/postgres/roles.sql instead; then this is a no-op.
    """
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
    if exists:
        return
    statement = sql.SQL(
        "CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT"
    ).format(sql.Identifier(APP_ROLE))
    if password:
        statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(password))
    try:
        conn.execute(statement)
    except psycopg.errors.DuplicateObject:
        pass  # created concurrently by another process: the same role either way


def applied_versions(conn: psycopg.Connection[Any]) -> set[int]:
    """Return the versions recorded as applied ({} when the table does not exist yet)."""
    # a tuple cursor: the app's pooled connections hand out dict rows
    with conn.cursor(row_factory=tuple_row) as cur:
        exists = cur.execute("SELECT to_regclass('public.schema_migrations')").fetchone()
        if not exists or exists[0] is None:
            return set()
        rows = cur.execute("SELECT version FROM schema_migrations").fetchall()
    return {row[0] for row in rows}


def pending(conn: psycopg.Connection[Any], directory: Path | None = None) -> list[Migration]:
    done = applied_versions(conn)
    return [m for m in discover(directory) if m.version not in done]


def upgrade(conninfo: str, *, directory: Path | None = None, app_password: str = "") -> list[int]:
    """Apply every pending migration as the owner role; return the versions applied.

    Each file runs in its own transaction together with its bookkeeping row, so a failing
    file leaves no trace. Concurrent upgrades serialise on an advisory lock.
    """
    applied: list[int] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        ensure_app_role(conn, password=app_password)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_LOCK_KEY,))
            conn.execute(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """
            )
            conn.execute(
                sql.SQL("GRANT SELECT ON schema_migrations TO {}").format(sql.Identifier(APP_ROLE))
            )
        for migration in discover(directory):
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_LOCK_KEY,))
                conn.execute("SET LOCAL lock_timeout = '4s'")
                if migration.version in applied_versions(conn):
                    continue
                logger.info("applying migration %04d_%s", migration.version, migration.name)
                conn.execute(migration.read().encode())
                conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
                applied.append(migration.version)
    return applied


def head_version(directory: Path | None = None) -> int:
    migrations = discover(directory)
    return migrations[-1].version if migrations else 0
