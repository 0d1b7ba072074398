"""bench/webhooks.py keeps working: its receiver refuses what does not verify, its verdict
catches a duplicate or a loss, and one tiny run end to end."""

import http.client
import importlib.util
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from bench_runs import database_left, run_bench

from gateway.services import webhooks as webhooks_service

_BENCH = Path(__file__).resolve().parents[1] / "bench" / "webhooks.py"
_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    # the bench's own name, which its receiver process imports it by
    spec = importlib.util.spec_from_file_location("webhooks", _BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["webhooks"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def receiver(bench: ModuleType) -> Iterator[Any]:
    r = bench.Receiver()
    r.verify_with(_SECRET)
    yield r
    r.close()


def _post(port: int, message_id: str, *, secret: str, body_id: str) -> int:
    now = datetime.now(UTC)
    body = f'{{"id":"{body_id}","type":"interactions.deleted"}}'
    headers = webhooks_service.sign(message_id, now, body, [secret])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", "/hooks/gateway", body=body.encode(), headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def test_the_receiver_accepts_only_what_verifies(receiver: Any) -> None:
    other = "whsec_" + "A" * 44
    assert _post(receiver.port, "msg_good", secret=_SECRET, body_id="msg_good") == 204
    assert _post(receiver.port, "msg_forged", secret=other, body_id="msg_forged") == 401
    # signed, but the body names another notice than the header
    assert _post(receiver.port, "msg_swapped", secret=_SECRET, body_id="msg_good") == 401

    arrivals = receiver.take()

    assert [(a[0], a[2]) for a in arrivals] == [
        ("msg_good", True),
        ("msg_forged", False),
        ("msg_swapped", False),
    ]
    assert receiver.take() == []  # taken once


def test_the_verdict_fails_a_duplicate_a_loss_a_stranger_or_a_forgery(bench: ModuleType) -> None:
    sent = {"msg_a": 0.0, "msg_b": 0.0}
    good = [("msg_a", 1.0, True, 600), ("msg_b", 1.0, True, 600)]
    bench.check_arrivals(sent, good, "side")

    for arrivals, reason in [
        ([*good, ("msg_a", 2.0, True, 600)], "1 arrived twice"),
        (good[:1], "1 never arrived"),
        ([*good, ("msg_c", 2.0, True, 600)], "1 not sent by this round"),
        ([good[0], ("msg_b", 1.0, False, 600)], "1 unverified"),
    ]:
        with pytest.raises(bench.Failed, match=reason):
            bench.check_arrivals(sent, arrivals, "side")


@pytest.mark.slow
def test_one_tiny_run_compares_both_sides_and_drops_its_database(owner_url: str) -> None:
    """The real worker delivers through the outbox, the bare loop posts, all verified, once."""
    run = run_bench(
        "webhooks.py",
        "--database-url",
        owner_url,
        "--notices",
        "40",
        "--rounds",
        "1",
        "--poll",
        "0.2",
        "--timeout",
        "60",
        timeout=180,
    )
    output = run.output

    assert run.returncode == 0, output
    assert "20 notices per side per round, 1 rounds" in output
    assert "outbox: " in output and " deliveries/s; queued at " in output
    assert "bare:   " in output and "request p50 " in output
    assert "outbox/bare deliveries/s: " in output
    assert (
        "verdict: all 40 deliveries verified, none arrived twice, none lost, "
        "every outbox notice recorded delivered"
    ) in output
    assert "FAILED" not in output
    assert not database_left(owner_url, f"gateway_bench_webhooks_{run.pid}")
