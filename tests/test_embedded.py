"""The embedded PostgreSQL default: boots in a folder, migrates, serves, and is reused."""

from pathlib import Path

import psycopg

from gateway import create_app, migrate
from gateway.binding import derive_binding_key
from gateway.embedded import start_embedded

SECRET_KEY = "test-secret"


def _ready(database_url: str, data_dir: Path) -> int:
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "APP_DATABASE_URL": "",
            "DATA_DIR": str(data_dir),
            "SECRET_KEY": SECRET_KEY,
            "PSEUDONYM_KEYS": "",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    try:
        response = app.test_client().get("/readyz")
        assert response.status_code == 200, response.get_json()
        return int(response.get_json()["schema_version"])
    finally:
        app.extensions["gateway.db"].close()


def test_embedded_default_boots_migrates_serves_and_is_reused(tmp_path: Path) -> None:
    folder = tmp_path / "postgres"
    # independent of GATEWAY_TEST_DATABASE_URL: this is the no-server default
    embedded = start_embedded(folder)
    try:
        assert embedded.database_url != embedded.server_url
        # as `skillgw db upgrade` does: the app's caller-binding key goes in with the schema
        assert migrate.upgrade(
            embedded.database_url, binding_key=derive_binding_key(SECRET_KEY)
        ) == [m.version for m in migrate.discover()]
        assert _ready(embedded.database_url, tmp_path) == migrate.head_version()
        with psycopg.connect(embedded.database_url, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept_across_restarts (x int)")
        # a second start while it runs attaches to the same server
        assert start_embedded(folder).server_url == embedded.server_url
    finally:
        embedded.stop()
    assert not (folder / "postmaster.pid").exists()

    again = start_embedded(folder)
    try:
        # the data folder is reused: schema and data are still there, nothing to migrate
        assert migrate.upgrade(again.database_url) == []
        with psycopg.connect(again.database_url) as conn:
            assert conn.execute("SELECT to_regclass('kept_across_restarts')").fetchone() == (
                "kept_across_restarts",
            )
        assert _ready(again.database_url, tmp_path) == migrate.head_version()
    finally:
        again.stop()
