"""`skillgw worker --once`: one whole round (every notice due, more than a batch of them) as a
real process, its log lines JSON on stdout like the web workers'."""

import json
import shutil
import subprocess
import sys
import threading
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


def test_once_delivers_every_due_notice_and_logs_json_lines(
    platform: Platform, platform_db: str, received: tuple[str, list[str]]
) -> None:
    url, got = received

    def queue(conn):  # type: ignore[no-untyped-def]
        developer = developers_repo.insert_developer(conn, name="Worker test developer")
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
            for n in range(NOTICES)
        }

    queued = platform.run(queue)

    result = subprocess.run(  # noqa: S603 (our own command)
        [_skillgw(), "worker", "--once"],
        env=env(GATEWAY_DATABASE_URL=platform_db, GATEWAY_WEBHOOK_ALLOW_LOOPBACK="true"),
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
