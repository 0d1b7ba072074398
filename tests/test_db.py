"""The pool's connections: the session settings every app connection runs with."""

import pytest

from gateway import create_app
from gateway.models import ANONYMOUS

pytestmark = pytest.mark.committed


@pytest.fixture
def pooled(app_settings, app_url):  # type: ignore[no-untyped-def]
    """The database of an app built with create_app's own pool, as the app role."""
    app = create_app(app_settings(APP_DATABASE_URL=app_url))
    db = app.extensions["gateway.db"]
    yield db
    db.close()


def test_app_connections_run_without_jit_and_with_their_timeouts(pooled) -> None:  # type: ignore[no-untyped-def]
    with pooled.transaction(ANONYMOUS) as conn:
        row = conn.execute(
            "SELECT current_setting('jit') AS jit,"
            " current_setting('plan_cache_mode') AS plan_cache_mode,"
            " current_setting('TimeZone') AS timezone,"
            " current_user AS role"
        ).fetchone()

    assert row == {
        "jit": "off",
        "plan_cache_mode": "force_custom_plan",
        "timezone": "UTC",
        "role": "gateway_app",
    }


def test_generic_plans_hold_for_their_transaction_only(app_settings, app_url) -> None:  # type: ignore[no-untyped-def]
    """The read routes' transactions plan once (gateway.db._GENERIC_PLANS); the setting ends
    with the transaction, so the next one on the same pooled connection plans afresh again."""
    settings = app_settings(APP_DATABASE_URL=app_url, POOL_MIN_SIZE=1, POOL_MAX_SIZE=1)
    db = create_app(settings).extensions["gateway.db"]
    mode = "SELECT current_setting('plan_cache_mode') AS mode, pg_backend_pid() AS pid"
    try:
        with db.transaction(ANONYMOUS, generic_plans=True, pipelined=True) as conn:
            generic = conn.execute(mode).fetchone()
        with db.transaction(ANONYMOUS) as conn:
            after = conn.execute(mode).fetchone()
    finally:
        db.close()

    assert generic["mode"] == "force_generic_plan"
    assert after == {"mode": "force_custom_plan", "pid": generic["pid"]}  # the same connection
