"""bench/read_vs_bare.py keeps working: its profile split, and one tiny run end to end."""

import importlib.util
import os
import re
import sys
from pathlib import Path
from types import ModuleType

import psycopg
import pytest
from bench_runs import database_left, run_bench
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

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
    """Seeds through the write path, serves every side under gunicorn (the floors too), loads
    them, grows the history and loads them again, cleans up."""
    bench = run_bench(
        "read_vs_bare.py",
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
        "--scale",
        "600",
        "--audience",
        "200",
        "--floor",
    )
    output = bench.output

    assert bench.returncode == 0, output
    assert "all serve the same 50 ids" in output
    assert "via services/ingest" in output  # the redacted forms exist: the write path ran
    assert "gateway/bare pages/s: " in output
    assert "gateway/bare pages per CPU second: " in output
    # --floor: both floor sides served the same page, logged it (checked by the bench) and ran
    assert "the floor sides log their pages: bare+log, bare+commit" in output
    assert "bare+log/bare pages/s: " in output
    assert "bare+commit/bare pages per CPU second: " in output
    assert "WARNING" not in output  # no request failed, none was throttled
    # --scale: grown, the page statement's plans shown, both sides measured again
    assert "added 540 interactions" in output
    assert re.search(r"the page's plan with jit off:\n    Limit .*\n    Execution Time", output)
    assert "gateway p50 at 600 interactions / p50 as seeded: " in output
    assert "bare p50 at 600 interactions / p50 as seeded: " in output
    # --audience: more consenting users, the same page, every side measured again
    assert "added 140 consenting users" in output
    assert "gateway p50 at 200 consenting users / p50 as seeded: " in output
    assert not database_left(owner_url, f"gateway_bench_vs_bare_{bench.pid}")


@pytest.mark.slow
def test_grown_history_is_attached_indexed_and_holds_the_forms_ingest_makes(
    owner_url: str,
) -> None:
    """--scale's loader: every added interaction has the stored form of the bench's policy that
    the redaction service makes for its text, in month partitions with all their indexes, and
    the page both sides serve is unchanged."""
    from gateway import migrate
    from gateway.repositories import interactions as interactions_repo
    from gateway.services import redaction

    bench = _load_bench()
    name = f"gateway_test_bench_grow_{os.getpid()}"
    with psycopg.connect(owner_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    url = make_conninfo(owner_url, dbname=name)
    try:
        migrate.upgrade(url, binding_key=bench.binding_key())
        world = bench.seed(url, 60)
        page = bench._BARE_SQL["redacted"]
        params = {"skill_id": world.skill_id, "policy": bench.TIER, "limit": 50}
        with psycopg.connect(url) as conn:
            page_before = conn.execute(page, params).fetchall()
            (seeded_since,) = conn.execute("SELECT min(occurred_at) FROM interactions").fetchone()

        added, _ = bench.grow(url, world, 300)

        assert added == 240
        with psycopg.connect(url, row_factory=dict_row) as conn:
            assert conn.execute(page, params).fetchall() == [
                dict(
                    zip(
                        (
                            "id",
                            "occurred_at",
                            "user_id",
                            "utterance",
                            "intent",
                            "outcome",
                            "order_ref",
                        ),
                        row,
                        strict=True,
                    )
                )
                for row in page_before
            ]
            grown = conn.execute(
                """
                SELECT i.id, i.occurred_at, i.skill_id, i.utterance, i.response, i.slots,
                       i.order_ref, t.policy, t.version AS form_version,
                       t.utterance AS form_utterance, t.response AS form_response,
                       t.slots AS form_slots, t.utterance_ref_hidden, t.response_ref_hidden,
                       t.slots_ref_hidden
                FROM interactions i
                LEFT JOIN interaction_texts t
                  ON t.interaction_id = i.id AND t.occurred_at = i.occurred_at
                WHERE i.occurred_at < %s
                """,
                (bench.month_start(seeded_since),),
            ).fetchall()
            partitions = conn.execute(
                """
                SELECT p.inhparent::regclass::text AS parent, count(*) AS months,
                       min(( SELECT count(*) FROM pg_index x WHERE x.indrelid = p.inhrelid
                             AND x.indisvalid )) AS fewest_indexes
                FROM pg_inherits p
                WHERE p.inhparent IN ('interactions'::regclass, 'interaction_texts'::regclass)
                GROUP BY p.inhparent ORDER BY 1
                """
            ).fetchall()
            parent_indexes = {
                table: conn.execute(
                    "SELECT count(*) AS n FROM pg_index WHERE indrelid = %s::regclass", (table,)
                ).fetchone()["n"]
                for table in ("interactions", "interaction_texts")
            }
            with conn.transaction():
                bench._bind_system(conn)
                raws = interactions_repo.list_raw_texts(
                    conn, [(str(r["id"]), r["occurred_at"]) for r in grown]
                )
            leftover = conn.execute("SELECT to_regclass(%s) AS t", (bench._GROW_SOURCE,)).fetchone()

        # one form per added interaction, of the bench tier's policy, and no other
        assert len(grown) == 240
        assert {r["policy"] for r in grown} == {bench.TIER}
        assert len({r["id"] for r in grown}) == 240
        # spread over the 12 months before the seeded ones: outside the tier's 30 days
        assert min(r["occurred_at"] for r in grown) >= bench.month_start(seeded_since, -12)
        # each form is the one the redaction service makes for that interaction's text now,
        # so the read path serves it as stored (its version is current: nothing is redone)
        made = {str(raw["id"]): redaction.redact_form(raw, bench.TIER) for raw in raws}
        for row in grown:
            form = made[str(row["id"])]
            assert (
                row["form_version"],
                row["form_utterance"],
                row["form_response"],
                row["form_slots"],
                row["utterance_ref_hidden"],
                row["response_ref_hidden"],
                row["slots_ref_hidden"],
            ) == (
                form["version"],
                form["utterance"],
                form["response"],
                form["slots"],
                form["utterance_ref_hidden"],
                form["response_ref_hidden"],
                form["slots_ref_hidden"],
            ), row["id"]
        # attached partitions (12 added months beside the seeded ones), each with every index
        # of its parent, so the page's keyset scan and the forms' joins stay index lookups
        assert [p["parent"] for p in partitions] == ["interaction_texts", "interactions"]
        for p in partitions:
            assert p["months"] >= 13
            assert p["fewest_indexes"] == parent_indexes[p["parent"]]
        assert leftover == {"t": None}
    finally:
        with psycopg.connect(owner_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
