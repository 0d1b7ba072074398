"""Running a bench script as its smoke test does: in a process of its own against the test's
server, its output, and whether it left its database behind."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg

BENCH = Path(__file__).resolve().parents[1] / "bench"


@dataclass(frozen=True)
class BenchRun:
    pid: int  # the bench names its database after it
    returncode: int
    output: str  # stdout and stderr together


def run_bench(
    script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> BenchRun:
    """Run `bench/<script> args` with this Python, none of the gateway's settings from the
    test's environment (each bench says where it connects), plus `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    process = subprocess.Popen(
        [sys.executable, str(BENCH / script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**clean, **(env or {})},
    )
    output, _ = process.communicate(timeout=timeout)
    return BenchRun(process.pid, process.returncode, output)


def database_left(owner_url: str, name: str) -> bool:
    """Whether the database `name` still exists on the test's server."""
    with psycopg.connect(owner_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
    return row != (0,)
