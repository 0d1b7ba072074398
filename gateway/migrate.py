"""A small migrator: numbered .sql files applied once each, in order, under an advisory lock."""

import hashlib
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

    @property
    def filename(self) -> str:
        return self.path.name

    def read(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def checksum(self) -> str:
        """SHA-256 of the file's bytes, recorded when it is applied."""
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


class MigrationChanged(Exception):
    """An applied migration's file no longer matches what was applied."""

    def __init__(self, migrations: list[Migration]) -> None:
        self.migrations = migrations
        names = ", ".join(m.filename for m in migrations)
        super().__init__(
            f"applied migration file changed since it was applied: {names}. Migrations that "
            "have been applied are history: restore the file and add the change as a new one."
        )


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


def applied_checksums(conn: psycopg.Connection[Any]) -> dict[int, str | None]:
    """Return {version: checksum} of the applied migrations ({} before the first upgrade).

    The checksum is None for a migration applied before checksums were recorded (until the
    next upgrade records it).
    """
    # a tuple cursor: the app's pooled connections hand out dict rows
    with conn.cursor(row_factory=tuple_row) as cur:
        exists = cur.execute("SELECT to_regclass('public.schema_migrations')").fetchone()
        if not exists or exists[0] is None:
            return {}
        # /readyz asks on every probe: the catalog, not the slower information_schema
        has_checksum = cur.execute(
            """
            SELECT 1 FROM pg_attribute
            WHERE attrelid = 'public.schema_migrations'::regclass AND attname = 'checksum'
              AND NOT attisdropped
            """
        ).fetchone()
        if has_checksum is None:
            rows = cur.execute("SELECT version, NULL FROM schema_migrations").fetchall()
        else:
            rows = cur.execute("SELECT version, checksum FROM schema_migrations").fetchall()
    return {row[0]: row[1] for row in rows}


def applied_versions(conn: psycopg.Connection[Any]) -> set[int]:
    """Return the versions recorded as applied ({} when the table does not exist yet)."""
    return set(applied_checksums(conn))


def pending(conn: psycopg.Connection[Any], directory: Path | None = None) -> list[Migration]:
    done = applied_versions(conn)
    return [m for m in discover(directory) if m.version not in done]


def status(
    conn: psycopg.Connection[Any], directory: Path | None = None
) -> list[tuple[Migration, str]]:
    """Each migration file with its state: "applied", "pending" or "changed" (edited since)."""
    recorded = applied_checksums(conn)
    states = []
    for migration in discover(directory):
        if migration.version not in recorded:
            state = "pending"
        elif recorded[migration.version] in (None, migration.checksum()):
            state = "applied"
        else:
            state = "changed"
        states.append((migration, state))
    return states


def _check_applied(conn: psycopg.Connection[Any], migrations: list[Migration]) -> None:
    """Raise MigrationChanged for edited applied files; record missing checksums (older rows)."""
    recorded = applied_checksums(conn)
    changed = []
    for migration in migrations:
        if migration.version not in recorded:
            continue
        checksum = migration.checksum()
        if recorded[migration.version] is None:
            # applied before checksums were kept: what is there now is the best evidence
            logger.info("recording the checksum of %s", migration.filename)
            conn.execute(
                "UPDATE schema_migrations SET checksum = %s WHERE version = %s",
                (checksum, migration.version),
            )
        elif recorded[migration.version] != checksum:
            changed.append(migration)
    if changed:
        raise MigrationChanged(changed)


def upgrade(
    conninfo: str,
    *,
    directory: Path | None = None,
    app_password: str = "",
    binding_key: bytes | None = None,
) -> list[int]:
    """Apply every pending migration as the owner role; return the versions applied.

    Each file runs in its own transaction together with its bookkeeping row (and checksum), so
    a failing file leaves no trace. Concurrent upgrades serialise on an advisory lock. Raises
    `MigrationChanged`, applying nothing, when an applied migration's file was edited since.
    With `binding_key`, installs it afterwards (see `install_binding_key`).
    """
    migrations = discover(directory)
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
            # the migrator's own bookkeeping grows here, for databases migrated before
            conn.execute("ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text")
            conn.execute(
                sql.SQL("GRANT SELECT ON schema_migrations TO {}").format(sql.Identifier(APP_ROLE))
            )
            _check_applied(conn, migrations)
        for migration in migrations:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_LOCK_KEY,))
                conn.execute("SET LOCAL lock_timeout = '4s'")
                if migration.version in applied_versions(conn):
                    continue
                logger.info("applying migration %04d_%s", migration.version, migration.name)
                conn.execute(migration.read().encode())
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum()),
                )
                applied.append(migration.version)
        if binding_key is not None:
            _install_binding_key(conn, binding_key)
    return applied


def install_binding_key(conninfo: str, key: bytes) -> None:
    """Install the key the database verifies caller proofs with (as the owner role).

    Every instance of the app proves its callers with a key derived from GATEWAY_SECRET_KEY
    (gateway.binding); the database must hold the same one, or privileged writes are refused
    and /readyz reports not ready.
    """
    with psycopg.connect(conninfo, autocommit=True) as conn:
        _install_binding_key(conn, key)


def _install_binding_key(conn: psycopg.Connection[Any], key: bytes) -> None:
    with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute(
            "SELECT binding_key FROM gateway_private.binding_keys FOR UPDATE"
        ).fetchone()
        if row is not None and bytes(row[0]) == key:
            return
        if row is not None:
            # another GATEWAY_SECRET_KEY: instances still on the old one stop being ready
            logger.warning(
                "replacing the database's caller-binding key (GATEWAY_SECRET_KEY changed)"
            )
        cur.execute(
            """
            INSERT INTO gateway_private.binding_keys (singleton, binding_key) VALUES (true, %s)
            ON CONFLICT (singleton)
            DO UPDATE SET binding_key = EXCLUDED.binding_key, installed_at = now()
            """,
            (key,),
        )


def head_version(directory: Path | None = None) -> int:
    migrations = discover(directory)
    return migrations[-1].version if migrations else 0
