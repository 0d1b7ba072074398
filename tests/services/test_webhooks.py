"""Webhook notices against a real local receiver: signed per Standard Webhooks, retried,
dead-lettered, the same id on every attempt; and no URL that points into our own network."""

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook

from gateway import create_app, worker
from gateway.db import SharedConnection
from gateway.models import SYSTEM
from gateway.services import webhooks as webhooks_service
from gateway.webhook_delivery import UnsafeTarget, check_target


class Receiver:
    """A developer's endpoint on 127.0.0.1: answers each request with the next scripted status
    (or sleeps past the sender's timeout for "slow"), and keeps what it got."""

    def __init__(self) -> None:
        self.script: list[int | str] = []
        self.received: list[dict[str, object]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(
                    {"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                )
                answer = receiver.script.pop(0) if receiver.script else 204
                if answer == "slow":
                    time.sleep(1.5)
                    answer = 204
                self.send_response(int(answer))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/gateway"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def settings(app_settings):
    return {
        **app_settings(),
        "WEBHOOK_ALLOW_LOOPBACK": True,
        "WEBHOOK_MAX_ATTEMPTS": 3,
        "WEBHOOK_BACKOFF_SECONDS": 60.0,
        "WEBHOOK_TIMEOUT": 0.5,
        "WEBHOOK_CA_FILE": "",
    }


@pytest.fixture
def developer(make):
    return make.developer(tier="trusted")


def _register(conn, developer, url, settings):
    with SharedConnection(conn).transaction(SYSTEM) as c:
        return webhooks_service.register_webhook(
            c,
            developer_id=developer,
            url=url,
            server_secret=settings["SECRET_KEY"],
            allow_loopback=True,
        )


def _queue(conn, developer, **data):
    with SharedConnection(conn).transaction(SYSTEM) as c:
        return webhooks_service.queue_notice(
            c,
            developer_id=developer,
            event_type="interactions.deleted",
            data={"user": "k1_pseudonym", "interaction_ids": ["i-1", "i-2"], **data},
        )


def _state(make, delivery_id):
    (row,) = make.rows(
        "SELECT status, attempts, last_status FROM webhook_deliveries WHERE id = %s",
        (delivery_id,),
    )
    return row


def test_a_notice_is_signed_per_standard_webhooks_and_verifies_with_the_published_library(
    conn, make, developer, receiver, settings, clock
):
    secret = _register(conn, developer, receiver.url, settings).secret
    assert secret is not None and secret.startswith("whsec_")
    delivery_id = _queue(conn, developer)
    counts = worker.deliver_due(SharedConnection(conn), settings, now=clock)
    assert counts == {"delivered": 1, "pending": 0, "dead": 0}
    (got,) = receiver.received
    headers = got["headers"]
    assert headers["webhook-id"] == delivery_id
    payload = Webhook(secret).verify(got["body"], headers)  # raises when it does not verify
    assert payload["type"] == "interactions.deleted"
    assert payload["data"]["interaction_ids"] == ["i-1", "i-2"]
    with pytest.raises(Exception):  # noqa: B017 (the library's own verification error)
        Webhook("whsec_" + "A" * 44).verify(got["body"], headers)
    assert _state(make, delivery_id)["status"] == "delivered"
    # acknowledged: never sent again
    clock.advance(days=1)
    worker.deliver_due(SharedConnection(conn), settings, now=clock)
    assert len(receiver.received) == 1


def test_failures_are_retried_with_backoff_and_dead_lettered_after_the_limit(
    conn, make, developer, receiver, settings, clock
):
    _register(conn, developer, receiver.url, settings)
    delivery_id = _queue(conn, developer)
    receiver.script = [500, "slow", 503]
    db = SharedConnection(conn)
    assert worker.deliver_due(db, settings, now=clock)["pending"] == 1  # a 500
    # not due again before the backoff has passed
    clock.advance(seconds=59)
    assert worker.deliver_due(db, settings, now=clock) == {"delivered": 0, "pending": 0, "dead": 0}
    clock.advance(seconds=2)
    assert worker.deliver_due(db, settings, now=clock)["pending"] == 1  # a timeout
    assert _state(make, delivery_id)["last_status"] is None
    clock.advance(seconds=121)  # the second wait is twice the first
    assert worker.deliver_due(db, settings, now=clock)["dead"] == 1  # third failure: the limit
    assert _state(make, delivery_id) == {"status": "dead", "attempts": 3, "last_status": 503}
    clock.advance(days=1)
    worker.deliver_due(db, settings, now=clock)
    assert len(receiver.received) == 3
    assert {r["headers"]["webhook-id"] for r in receiver.received} == {delivery_id}


def test_one_round_drains_every_due_notice_batch_after_batch_and_ends_on_failures(
    conn, make, developer, receiver, settings, clock
):
    _register(conn, developer, receiver.url, settings)
    queued = {_queue(conn, developer, interaction_ids=[f"i-{n}"]) for n in range(7)}
    receiver.script = [500]  # the first one fails: due again only after its backoff

    counts = worker.drain(SharedConnection(conn), settings, now=clock, batch=3)

    assert counts["delivered"] == 6 and counts["pending"] == 1 and counts["dead"] == 0
    assert {r["headers"]["webhook-id"] for r in receiver.received} == queued
    assert len(receiver.received) == 7
    unsealed = make.rows("SELECT count(*) AS n FROM audit_events WHERE seq IS NULL")
    assert unsealed == [{"n": 0}]


def test_a_worker_that_dies_mid_delivery_loses_nothing_and_redelivers_the_same_id(
    conn, make, developer, receiver, settings, clock
):
    _register(conn, developer, receiver.url, settings)
    delivery_id = _queue(conn, developer)
    db = SharedConnection(conn)

    def sends_then_dies(*args, **kwargs):
        from gateway.webhook_delivery import post

        post(*args, **kwargs)
        raise SystemExit("worker killed after sending, before recording")

    with pytest.raises(SystemExit):
        worker.deliver_due(db, settings, now=clock, post=sends_then_dies)
    assert _state(make, delivery_id)["status"] == "pending"
    # a restarted worker waits out the dead one's lease, then sends the same notice again
    assert worker.deliver_due(db, settings, now=clock)["delivered"] == 0
    clock.advance(minutes=5)
    assert worker.deliver_due(db, settings, now=clock)["delivered"] == 1
    ids = [r["headers"]["webhook-id"] for r in receiver.received]
    assert ids == [delivery_id, delivery_id]  # the receiver processes it once, by id
    clock.advance(days=1)
    worker.deliver_due(db, settings, now=clock)
    assert len(receiver.received) == 2


def test_a_rotated_secret_signs_beside_the_old_one_until_the_grace_period_ends(
    conn, make, developer, receiver, settings, clock
):
    old = _register(conn, developer, receiver.url, settings).secret
    with SharedConnection(conn).transaction(SYSTEM) as c:
        new = webhooks_service.rotate_webhook_secret(
            c,
            developer_id=developer,
            server_secret=settings["SECRET_KEY"],
            now=clock(),
            grace=timedelta(hours=1),
        )
    db = SharedConnection(conn)
    _queue(conn, developer)
    worker.deliver_due(db, settings, now=clock)
    first = receiver.received[-1]
    for secret in (old, new):
        Webhook(secret).verify(first["body"], first["headers"])
    clock.advance(hours=2)
    _queue(conn, developer)
    worker.deliver_due(db, settings, now=clock)
    later = receiver.received[-1]
    # (the test clock ran ahead of the library's 5-minute window: check the signatures the
    # published algorithm gives for the notice's own timestamp)
    stamp = datetime.fromtimestamp(int(later["headers"]["webhook-timestamp"]), UTC)
    body = later["body"].decode()
    signatures = later["headers"]["webhook-signature"].split(" ")
    assert signatures == [Webhook(new).sign(later["headers"]["webhook-id"], stamp, body)]
    assert Webhook(old).sign(later["headers"]["webhook-id"], stamp, body) not in signatures


def test_the_signing_secret_is_stored_sealed_never_in_clear(conn, make, developer, settings):
    secret = _register(conn, developer, "http://127.0.0.1:9/x", settings).secret
    conn.execute("RESET ROLE")
    dumped = conn.execute("SELECT row_to_json(w)::text AS row FROM developer_webhooks w").fetchone()
    conn.execute("SET LOCAL ROLE gateway_app")
    assert secret not in dumped["row"]
    assert secret.removeprefix("whsec_") not in dumped["row"]


def test_notices_without_a_webhook_wait_and_die_after_the_limit(
    conn, make, developer, settings, clock
):
    delivery_id = _queue(conn, developer)
    db = SharedConnection(conn)
    for _ in range(3):
        worker.deliver_due(db, settings, now=clock)
        clock.advance(hours=1)
    assert _state(make, delivery_id)["status"] == "dead"


def _public(host: str, port: int) -> list[str]:
    return {
        "hooks.example.com": ["93.184.216.34"],
        "sneaky.example.com": ["93.184.216.34", "10.0.0.7"],
        "inside.example.com": ["192.168.1.20"],
        "meta.example.com": ["169.254.169.254"],
        "v6meta.example.com": ["fd00:ec2::254"],
        "mapped.example.com": ["::ffff:127.0.0.1"],
    }[host]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/x", "Only https://"),
        ("ftp://hooks.example.com/x", "Only https://"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("https://10.1.2.3/x", "private"),
        ("https://127.0.0.1/x", "private"),
        ("https://[::1]/x", "private"),
        ("https://169.254.169.254/latest/meta-data", "private"),
        ("https://100.64.0.1/x", "private"),
        ("https://inside.example.com/x", "private"),
        ("https://sneaky.example.com/x", "private"),
        ("https://meta.example.com/x", "private"),
        ("https://v6meta.example.com/x", "private"),
        ("https://mapped.example.com/x", "private"),
        ("https:///x", "host"),
        ("https://hooks.example.com:99999/x", "valid URL"),
    ],
)
def test_urls_into_private_loopback_link_local_or_metadata_space_are_refused(url, reason):
    with pytest.raises(UnsafeTarget, match=reason):
        check_target(url, allow_loopback=False, resolver=_public)


def test_public_https_is_accepted_and_pinned_to_the_checked_address():
    target = check_target(
        "https://hooks.example.com/in?x=1", allow_loopback=False, resolver=_public
    )
    assert (target.host, target.port, target.path, target.address) == (
        "hooks.example.com",
        443,
        "/in?x=1",
        "93.184.216.34",
    )
    # loopback, also over http, only where development allows it
    assert check_target("http://127.0.0.1:9/x", allow_loopback=True, resolver=_public).port == 9
    with pytest.raises(UnsafeTarget):
        check_target("http://10.0.0.1/x", allow_loopback=True, resolver=_public)


def test_developers_register_through_the_api_and_see_their_notices(
    client, make, bearer, conn, developer, app_settings, receiver
):
    headers = bearer(make.client(developer_id=developer))
    refused = client.put(
        "/v1/developer/webhook", json={"url": "https://127.0.0.1/x"}, headers=headers
    )
    assert refused.status_code == 422
    assert "url" in refused.get_json()["details"]
    assert make.count("developer_webhooks") == 0
    assert client.get("/v1/developer/webhook", headers=headers).status_code == 404
    assert client.put("/v1/developer/webhook", json={"url": 5}, headers=headers).status_code == 422
    assert client.put("/v1/developer/webhook", json={}, headers=headers).status_code == 422
    development = create_app(
        app_settings(DATABASE=SharedConnection(conn), WEBHOOK_ALLOW_LOOPBACK=True)
    ).test_client()
    first = development.put("/v1/developer/webhook", json={"url": receiver.url}, headers=headers)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["secret"].startswith("whsec_")
    again = development.put(
        "/v1/developer/webhook", json={"url": receiver.url + "2"}, headers=headers
    )
    assert again.get_json() == {"url": receiver.url + "2", "secret": None}
    _queue(conn, developer)
    shown = development.get("/v1/developer/webhook", headers=headers).get_json()
    assert shown["url"] == receiver.url + "2"
    assert shown["notices"] == {"pending": 1, "delivered": 0, "dead": 0}
    rotated = development.post("/v1/developer/webhook/secret", headers=headers).get_json()
    assert (
        rotated["secret"].startswith("whsec_") and rotated["secret"] != first.get_json()["secret"]
    )
    # another developer sees none of it
    other = bearer(make.client(developer_id=make.developer(tier="none")))
    assert development.get("/v1/developer/webhook", headers=other).status_code == 404


def test_a_notice_queued_in_a_rolled_back_transaction_does_not_exist(conn, make, developer):
    db = SharedConnection(conn)
    with pytest.raises(RuntimeError), db.transaction(SYSTEM) as c:
        webhooks_service.queue_notice(
            c, developer_id=developer, event_type="consent.revoked", data={"user": "k1_x"}
        )
        raise RuntimeError("the revocation failed")
    assert make.count("webhook_deliveries") == 0


def test_payloads_carry_ids_only(conn, make, developer):
    delivery_id = _queue(conn, developer)
    (row,) = make.rows("SELECT payload FROM webhook_deliveries WHERE id = %s", (delivery_id,))
    assert row["payload"] == {
        "data": {"interaction_ids": ["i-1", "i-2"], "user": "k1_pseudonym"},
        "type": "interactions.deleted",
    }
