"""A token issued at the very moment a developer is suspended cannot outlive the suspension:
the token endpoint's share lock makes the suspension wait, then revoke it."""

import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from factories import BINDING_KEY
from psycopg.rows import dict_row

from gateway import security
from gateway.db import bind_principal, use_binding_key
from gateway.models import SYSTEM, Principal
from gateway.repositories import oauth_tokens as tokens_repo
from gateway.services import audit
from gateway.services import developers as developers_service

pytestmark = pytest.mark.committed


def _connect(app_url: str) -> psycopg.Connection:
    conn = psycopg.connect(app_url, row_factory=dict_row)
    use_binding_key(conn, BINDING_KEY)
    return conn


def test_a_suspension_waits_for_a_token_being_issued_and_then_revokes_it(
    app_url, committed_make, owner_conn
):
    developer = committed_make.developer(tier="standard")
    credentials = committed_make.client(developer_id=developer)
    issuing, suspending = _connect(app_url), _connect(app_url)
    outcome: dict[str, object] = {}
    try:
        # the token endpoint, between its check and its commit
        bind_principal(
            issuing,
            Principal("developer", client_id=credentials.client_id, developer_id=developer),
        )
        assert developers_service.may_get_tokens(issuing, developer_id=developer)
        now = datetime.now(UTC)
        tokens_repo.insert_token(
            issuing,
            digest=security.token_digest("raced-token"),
            client_id=credentials.client_id,
            scopes=["transcripts:read"],
            issued_at=now,
            expires_at=now + timedelta(hours=1),
        )

        def suspend() -> None:
            bind_principal(suspending, SYSTEM)
            outcome["account"] = developers_service.suspend_developer(
                suspending, actor=audit.Actor.operator("race"), developer_id=developer
            )
            suspending.commit()

        thread = threading.Thread(target=suspend)
        thread.start()
        pid = suspending.info.backend_pid
        for _ in range(500):  # until the suspension waits on the lock (no timing asserted)
            waiting = owner_conn.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
            ).fetchone()
            if waiting and waiting["wait_event_type"] == "Lock":
                break
            time.sleep(0.01)
        else:
            pytest.fail("the suspension did not wait for the token being issued")
        issuing.commit()
        thread.join(timeout=30)
    finally:
        issuing.close()
        suspending.close()

    assert outcome["account"]["tokens_revoked"] == 1  # type: ignore[index]
    row = owner_conn.execute(
        "SELECT revoked_at FROM oauth_tokens WHERE token_digest = %s",
        (security.token_digest("raced-token"),),
    ).fetchone()
    assert row["revoked_at"] is not None
