"""bench/rate_limit_storage.py keeps working: one tiny run over every storage, end to end."""

import re

from bench_runs import database_left, run_bench


def test_one_small_run_times_every_storage_and_drops_its_database(owner_url: str) -> None:
    """Seeds as bench/read_path.py does (with the binding key), adds clients, times each
    storage's operations and whole requests per storage, cleans up."""
    bench = run_bench(
        "rate_limit_storage.py",
        "--rounds",
        "5",
        # one slice of 50 requests per case: the fewest the bench measures
        "--requests",
        "50",
        # the test's server, so a failing connection is not hidden by an embedded one
        env={"GATEWAY_BENCH_DATABASE_URL": owner_url},
    )
    output = bench.output

    assert bench.returncode == 0, output
    # Redis is measured where one answers; the gateway's own storages always are
    storages = ["memory", "PostgreSQL"]
    cases = ["memory://", "PostgreSQL \\(the default\\)"]
    if "no Redis on 127.0.0.1:6379" not in output:
        storages.append("Redis")
        cases.append("Redis")
    for storage in storages:
        for operation in ("acquire_entry", "get_moving_window"):
            row = rf"^{storage}: {operation} +[0-9.]+ +[0-9.]+$"
            assert re.search(row, output, re.M), output
    assert re.search(r"^limits off +[0-9.]+ +[0-9.]+$", output, re.M), output
    for case in cases:
        assert re.search(rf"^{case} +[0-9.]+ +[0-9.]+ +\+-?[0-9.]+ ms$", output, re.M), output
    assert not database_left(owner_url, f"gateway_bench_limits_{bench.pid}")
