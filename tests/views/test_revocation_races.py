"""Rule 2 under concurrency: a revocation holds from the very next request on every instance.

1,000 interleavings of a user's revocation (through the consent service, on a pooled app-role
connection, as /v1/me and the voice relay do it) against a developer's reads of that user's
interaction, from several threads, on two real server processes (`skillgw serve`, gunicorn).
No read that starts after the revocation committed returns the user's data.
"""

import json
import os
import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from factories import BINDING_KEY
from live_server import LiveServer, clean_env

from gateway.db import PooledDatabase
from gateway.models import Keyring, Principal
from gateway.services import audit, consents

pytestmark = [pytest.mark.committed, pytest.mark.slow]

TRIALS = int(os.environ.get("GATEWAY_RACE_TRIALS", "1000"))
KEYRING = Keyring("k1", {"k1": bytes.fromhex("ab" * 32)})


@pytest.fixture
def servers(owner_url, tmp_path):
    env = clean_env(
        GATEWAY_DATABASE_URL=owner_url,
        GATEWAY_DATA_DIR=str(tmp_path / "data"),
        GATEWAY_SECRET_KEY="test-secret",
        GATEWAY_PSEUDONYM_KEYS="k1:" + "ab" * 32,
        # limits are not what is tested here: no counter write on every read (one worker each)
        GATEWAY_RATELIMIT_STORAGE_URI="memory://",
    )
    started = []
    try:
        for name in ("one", "two"):
            started.append(LiveServer(tmp_path, env, workers=1, name=name))
        yield started
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def trials(committed_make):
    """TRIALS users who consented yesterday, each with one interaction; the reader's token."""
    tier = f"races-{uuid.uuid4().hex[:8]}"
    committed_make.conn.execute(
        """
        INSERT INTO tiers (name, transcripts_readable, fields, retention_days,
                           redaction_policy, page_size, rate_limit)
        VALUES (%s, true, '{utterance}', 30, 'standard', 10, '1000000 per minute')
        """,
        (tier,),
    )
    developer = committed_make.developer(tier=tier)
    skill = committed_make.skill(developer)
    first_user = committed_make.user()
    at = datetime.now(UTC) - timedelta(hours=1)
    # the month's partitions, and the redacted forms every interaction here shares
    template = committed_make.interaction(skill, first_user, occurred_at=at)
    rows = committed_make.rows(
        """
        WITH u AS (
            INSERT INTO users (platform_user_id)
            SELECT 'race-' || g || '-' || %(tag)s FROM generate_series(1, %(n)s) g
            RETURNING id
        ), c AS (
            INSERT INTO consents (user_id, skill_id, granted_at)
            SELECT id, %(skill)s, %(granted)s FROM u RETURNING user_id
        )
        INSERT INTO interactions (skill_id, user_id, occurred_at, utterance, intent)
        SELECT %(skill)s, user_id, %(at)s, 'order a large pepperoni pizza', 'OrderPizza' FROM c
        RETURNING id, user_id
        """,
        {
            "tag": tier,
            "n": TRIALS,
            "skill": skill,
            "granted": at - timedelta(days=1),
            "at": at,
        },
    )
    # stored forms, as ingest writes them: a read only selects (no redaction on the fly)
    committed_make.rows(
        """
        INSERT INTO interaction_texts (interaction_id, occurred_at, skill_id, policy, version,
                                       utterance, response, slots)
        SELECT i.id, t.occurred_at, t.skill_id, t.policy, t.version, t.utterance, t.response,
               t.slots
        FROM unnest(%(ids)s::uuid[]) AS i (id), interaction_texts t
        WHERE t.interaction_id = %(template)s
        RETURNING 1
        """,
        {"ids": [str(r["id"]) for r in rows], "template": template},
    )
    credentials = committed_make.client(developer_id=developer)
    return {"skill": skill, "rows": rows, "credentials": credentials}


def token(server, credentials) -> str:
    import base64

    pair = base64.b64encode(f"{credentials.client_id}:{credentials.client_secret}".encode())
    status, _, body = server.request(
        "POST",
        "/oauth/token",
        headers={
            "Authorization": "Basic " + pair.decode(),
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body="grant_type=client_credentials",
    )
    assert status == 200, body
    return str(json.loads(body)["access_token"])


def test_no_read_that_starts_after_the_revocation_commits_returns_data(servers, trials, app_url):
    headers = {"Authorization": f"Bearer {token(servers[0], trials['credentials'])}"}
    db = PooledDatabase(app_url, min_size=4, max_size=8, timeout=10, binding_key=BINDING_KEY)
    db.open(wait=True)
    chance = random.Random(20261201)
    delays = [chance.random() * 0.006 for _ in range(TRIALS)]
    violations: list[tuple[int, str, int]] = []
    seen = {"before": 0, "after": 0, "data_before": 0}
    lock = threading.Lock()

    def read(index: int, server: LiveServer, path: str, committed: threading.Event) -> None:
        after = committed.is_set()  # set only once the revocation's commit has returned
        status, _, _ = server.request("GET", path, headers=headers)
        with lock:
            seen["after" if after else "before"] += 1
            seen["data_before"] += (not after) and status == 200
            if after and status != 404:
                violations.append((index, server.base, status))

    def trial(index: int) -> None:
        row = trials["rows"][index]
        path = f"/v1/skills/{trials['skill']}/interactions/{row['id']}"
        committed = threading.Event()
        # one read racing the revocation from a random moment on one instance...
        racing, other = servers[index % 2], servers[(index + 1) % 2]

        def race() -> None:
            threading.Event().wait(delays[index])
            read(index, racing, path, committed)

        racer = threading.Thread(target=race)
        racer.start()
        user = str(row["user_id"])
        with db.transaction(Principal("user", client_id="privacy-app", user_id=user)) as conn:
            consents.withdraw_consent(
                conn,
                actor=audit.Actor.user(user),
                user_id=user,
                skill_id=trials["skill"],
                keyring=KEYRING,
            )
        committed.set()
        # ...and the very next request, on the other instance
        read(index, other, path, committed)
        racer.join()

    try:
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(trial, range(TRIALS)))
    finally:
        db.close()

    assert violations == []
    # every trial read right after the commit, and racing reads did see data before it
    assert seen["after"] >= TRIALS
    assert seen["data_before"] > 0
