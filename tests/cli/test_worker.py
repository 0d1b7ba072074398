"""`skillgw worker` as a real process: `--once` delivers every notice due (more than a batch of
them) with JSON log lines like the web workers'; a running worker wakes on a queued notice."""

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from factories import SECRET_KEY
from platform_db import Platform, env

from gateway.repositories import developers as developers_repo
from gateway.services import webhooks as webhooks_service

NOTICES = 60  # more than the worker claims at once (50)


@pytest.fixture
def received() -> Iterator[tuple[str, list[str]]]:
    """A developer's endpoint on 127.0.0.1 that acknowledges everything; the ids it got."""
    ids: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            self.rfile.read(int(self.headers["Content-Length"]))
            ids.append(self.headers["webhook-id"])
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks", ids
    server.shutdown()
    server.server_close()


def _skillgw() -> str:
    beside = Path(sys.executable).with_name("skillgw")
    return str(beside) if beside.exists() else str(shutil.which("skillgw"))


def _queue(conn, *, url: str, notices: int) -> set[str]:  # type: ignore[no-untyped-def]
    """A developer with a webhook at `url` and `notices` notices for it; their ids."""
    developer = developers_repo.insert_developer(conn, name=f"Worker test {url}")
    webhooks_service.register_webhook(
        conn, developer_id=developer, url=url, server_secret=SECRET_KEY, allow_loopback=True
    )
    return {
        webhooks_service.queue_notice(
            conn,
            developer_id=developer,
            event_type="interactions.deleted",
            data={"user": "k1_pseudonym", "interaction_ids": [f"i-{n}"]},
        )
        for n in range(notices)
    }


def _environment(platform_db: str) -> dict[str, str]:
    return env(GATEWAY_DATABASE_URL=platform_db, GATEWAY_WEBHOOK_ALLOW_LOOPBACK="true")


def test_once_delivers_every_due_notice_and_logs_json_lines(
    platform: Platform, platform_db: str, received: tuple[str, list[str]]
) -> None:
    url, got = received

    queued = platform.run(_queue, url=url, notices=NOTICES)

    result = subprocess.run(  # noqa: S603 (our own command)
        [_skillgw(), "worker", "--once"],
        env=_environment(platform_db),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert sorted(got) == sorted(queued)
    assert f"delivered {NOTICES}, to retry 0, dead 0" in result.stdout
    logged = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    deliveries = [entry for entry in logged if entry["logger"] == "gateway.worker"]
    assert len(deliveries) == NOTICES
    assert all(entry["level"] == "info" for entry in deliveries)
    states = platform.rows("SELECT status, count(*) AS n FROM webhook_deliveries GROUP BY 1")
    assert states == [{"status": "delivered", "n": NOTICES}]


def test_a_running_worker_sends_a_notice_on_its_commit_not_a_poll_later(
    platform: Platform, platform_db: str, received: tuple[str, list[str]]
) -> None:
    url, got = received
    worker = subprocess.Popen(  # noqa: S603 (our own command)
        [_skillgw(), "worker", "--poll", "60"],
        env=_environment(platform_db),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stderr is not None
        assert "Delivering webhook notices" in worker.stderr.readline()
        time.sleep(1.0)  # past its first (empty) round: now it waits up to 60 s
        queued = platform.run(_queue, url=url, notices=1)
        deadline = time.monotonic() + 15  # far less than the poll, far more than a round
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        assert got == sorted(queued)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=30)  # within a second: the wait is sliced
    assert worker.returncode == 0
