"""bench/read_vs_bare.py keeps working: its profile split, and one tiny run end to end."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import psycopg
import pytest

_BENCH = Path(__file__).resolve().parents[1] / "bench" / "read_vs_bare.py"

_GUNICORN = "/venv/lib/python3.11/site-packages/gunicorn"
_GATEWAY = "/checkout/gateway"
_LIMITER = "/venv/lib/python3.11/site-packages/flask_limiter"
_IN_REQUEST = (
    f'process 11:"gunicorn: worker";run ({_GUNICORN}/workers/sync.py:126);'
    f"SyncWorker.handle ({_GUNICORN}/workers/sync.py:136);"
    f"SyncWorker.handle_request ({_GUNICORN}/workers/sync.py:180);"
    f"protected.<locals>.decorator.<locals>.guarded ({_GATEWAY}/views/protection.py:50);"
    f"RouteLimit.__call__.<locals>.__inner ({_LIMITER}/_limits.py:120);"
    f"call_limited ({_GATEWAY}/limits.py:70);"
    f"read_interactions ({_GATEWAY}/services/interactions.py:100)"
)
_RAW_PROFILE = "\n".join(
    [
        # the master and a worker waiting for a connection: outside any request
        'process 10:"gunicorn: master";Arbiter.run (/venv/gunicorn/arbiter.py:247) 500',
        f'process 11:"gunicorn: worker";SyncWorker.wait ({_GUNICORN}/workers/sync.py:40) 300',
        # redaction inside the shaping of rows: the innermost step wins
        f"{_IN_REQUEST};_deliver ({_GATEWAY}/services/interactions.py:60);"
        f"present_interaction ({_GATEWAY}/services/redaction.py:170);"
        f"redact ({_GATEWAY}/redaction/engine.py:88);detect ({_GATEWAY}/redaction/engine.py:40) 6",
        # waiting for the readable-rows SELECT
        f"{_IN_REQUEST};list_readable ({_GATEWAY}/repositories/interactions.py:90);"
        "Cursor.execute (/venv/lib/python3.11/site-packages/psycopg/cursor.py:97);"
        "Connection.wait (/venv/lib/python3.11/site-packages/psycopg/connection.py:420) 3",
        # the commit, waiting too
        f"{_IN_REQUEST};PooledDatabase.transaction ({_GATEWAY}/db.py:139);"
        "Transaction.__exit__ (/venv/lib/python3.11/site-packages/psycopg/transaction.py:90);"
        "Connection.wait (/venv/lib/python3.11/site-packages/psycopg/connection.py:420) 1",
        # the limiter's own work, beside the view it wraps
        f"{_IN_REQUEST.split(';call_limited')[0]};"
        f"Limiter._check_request_limit ({_LIMITER}/extension.py:900) 2",
        # a wait inside the view that no step names: not the limiter's, which wraps the view
        f"{_IN_REQUEST};_deliver ({_GATEWAY}/services/interactions.py:60);"
        "Pipeline.__exit__ (/venv/lib/python3.11/site-packages/psycopg/_pipeline.py:90);"
        "Connection.wait (/venv/lib/python3.11/site-packages/psycopg/connection.py:420) 4",
    ]
)


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("read_vs_bare", _BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["read_vs_bare"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_profile_counts_only_samples_inside_requests_and_names_their_step() -> None:
    profile = _load_bench().parse_profile(_RAW_PROFILE)

    assert profile.samples == 16
    assert profile.steps == {
        "redaction of texts": 6,
        "readable-rows SELECT": 3,
        "COMMIT": 1,
        "rate limiter": 2,
        "other, in _deliver": 4,
    }
    assert profile.waiting == 8
    assert profile.steps_waiting["readable-rows SELECT"] == 3
    assert profile.steps_waiting["redaction of texts"] == 0
    assert profile.frames[("SyncWorker.handle", "gunicorn/workers/sync.py")] == 16
    assert profile.frames[("detect", "gateway/redaction/engine.py")] == 6
    assert profile.gateway_roots == {"/checkout"}


@pytest.mark.slow
def test_one_small_run_compares_both_sides_and_drops_its_database(owner_url: str) -> None:
    """Seeds through the write path, serves both sides under gunicorn, loads them, cleans up."""
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
    assert "all serve the same 50 ids" in output
    assert "via services/ingest" in output  # the redacted forms exist: the write path ran
    assert "gateway/bare pages/s: " in output
    assert "gateway/bare pages per CPU second: " in output
    assert "WARNING" not in output  # no request failed, none was throttled
    with psycopg.connect(owner_url) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s",
            (f"gateway_bench_vs_bare_{bench.pid}",),
        ).fetchone()
    assert left == (0,)
