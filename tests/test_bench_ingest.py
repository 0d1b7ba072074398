"""bench/ingest.py keeps working: one tiny run of plain COPY against the bulk import."""

import re

from bench_runs import database_left, run_bench


def test_one_small_run_compares_the_import_with_copy_and_drops_its_database(
    owner_url: str,
) -> None:
    """Seeds as a role without BYPASSRLS with the binding key, writes the file, loads it by
    plain COPY and by `skillgw ingest`'s code path (the bench checks every row went in),
    profiles a worker's batch, cleans up."""
    bench = run_bench(
        "ingest.py", "--database-url", owner_url, "--rows", "40", "--batch", "20", "--workers", "1"
    )
    output = bench.output

    assert bench.returncode == 0, output
    assert re.search(r"^40 interactions, .* 1 workers, batches of 20$", output, re.M), output
    for load in ("plain COPY", "bulk import"):
        row = re.search(rf"^{load}: +([0-9,]+) rows/s", output, re.M)
        assert row is not None, output
        assert int(row.group(1).replace(",", "")) > 0
    assert re.search(r"^ratio: +[0-9.]+ of plain COPY", output, re.M), output
    assert re.search(r"^  main, writing \(wall\): +[0-9.]+ s$", output, re.M), output
    assert "One worker's batch of 40 lines, profiled:" in output
    assert "(prepare_batch)" in output  # the profile of the workers' own function
    assert not database_left(owner_url, f"gateway_bench_ingest_{bench.pid}")
