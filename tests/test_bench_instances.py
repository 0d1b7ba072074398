"""bench/instances.py keeps working: one tiny run of one instance against two, end to end."""

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

_BENCH = Path(__file__).resolve().parents[1] / "bench" / "instances.py"


@pytest.mark.slow
def test_one_small_run_loads_one_and_two_instances_and_drops_its_database(
    owner_url: str,
) -> None:
    bench = subprocess.Popen(
        [
            sys.executable,
            str(_BENCH),
            "--database-url",
            owner_url,
            "--interactions",
            "60",
            "--rounds",
            "1",
            "--seconds",
            "1",
            "--warmup",
            "0",
            "--workers",
            "1",
            "--connections",
            "2",
            "--load",
            "python",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")},
    )
    output, _ = bench.communicate(timeout=120)

    assert bench.returncode == 0, output
    assert "both instances serve the same 50 ids" in output
    # both setups served pages: a median row each, with a positive rate
    for setup in ("one", "two"):
        row = re.search(rf"^{setup} +([0-9.]+) +([0-9.]+) +([0-9.]+) +0$", output, re.M)
        assert row is not None, output
        assert float(row.group(1)) > 0
    assert re.search(r"^two/one pages/s: [0-9.]+ ", output, re.M)
    assert "WARNING" not in output  # no request failed, none was throttled
    with psycopg.connect(owner_url) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s",
            (f"gateway_bench_instances_{bench.pid}",),
        ).fetchone()
    assert left == (0,)
