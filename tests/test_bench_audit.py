"""bench/audit.py keeps working: one tiny run with the audit write on and off, end to end."""

import re

import pytest
from bench_runs import database_left, run_bench


@pytest.mark.slow
def test_one_small_run_measures_reads_with_audit_on_and_off_and_drops_its_database(
    owner_url: str,
) -> None:
    """Seeds through the services with the binding key, reads with audit on and off, writes
    and seals events, cleans up. (Its 1 s phases make it take about 10 s at the least.)"""
    bench = run_bench(
        "audit.py",
        "--interactions",
        "60",
        "--rounds",
        "2",
        "--threads",
        "1",
        "--seconds",
        "1",
        # the test's server, so a failing connection is not hidden by an embedded one
        env={"GATEWAY_BENCH_DATABASE_URL": owner_url},
    )
    output = bench.output

    assert bench.returncode == 0, output
    assert "seeded 60 interactions" in output
    number = r"[-+]?[0-9.]+"
    for read in ("list, page of 50", "one interaction"):
        # off ms, on ms, on/off and the paired difference
        row = rf"^{read} +{number} +{number} +{number} +{number}$"
        assert re.search(row, output, re.M), output
    assert re.search(r"^audit\.record alone +[0-9.]+ ms median", output, re.M), output
    for state in ("off", "on"):
        row = re.search(rf"^ +{state} +([0-9.]+) +[0-9.]+$", output, re.M)
        assert row is not None, output
        assert float(row.group(1)) > 0
    assert re.search(r"^on/off throughput [0-9.]+$", output, re.M), output
    for writers in ("no lock \\(this design\\)", "a lock per insert"):
        assert re.search(rf"^{writers} +[0-9]+ events/s$", output, re.M), output
    # the seed's, the reads' and the writers' events, all sealed into one sound chain
    sealed = re.search(r"^sealer: ([0-9]+) events .*; chain OK \(([0-9]+) rows\)$", output, re.M)
    assert sealed is not None, output
    assert int(sealed.group(1)) > 0
    assert not database_left(owner_url, f"gateway_bench_audit_{bench.pid}")
