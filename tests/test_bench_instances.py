"""bench/instances.py keeps working: one tiny run of one instance against two, end to end."""

import re

import pytest
from bench_runs import database_left, run_bench


@pytest.mark.slow
def test_one_small_run_loads_one_and_two_instances_and_drops_its_database(
    owner_url: str,
) -> None:
    bench = run_bench(
        "instances.py",
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
    )
    output = bench.output

    assert bench.returncode == 0, output
    assert "both instances serve the same 50 ids" in output
    # both setups served pages: a median row each, with a positive rate
    for setup in ("one", "two"):
        row = re.search(rf"^{setup} +([0-9.]+) +([0-9.]+) +([0-9.]+) +0$", output, re.M)
        assert row is not None, output
        assert float(row.group(1)) > 0
    assert re.search(r"^two/one pages/s: [0-9.]+ ", output, re.M)
    assert "WARNING" not in output  # no request failed, none was throttled
    assert not database_left(owner_url, f"gateway_bench_instances_{bench.pid}")
