"""The security suite's app: the real one, rate limits aside, /metrics behind its token."""

import pytest
from security.world import METRICS_TOKEN, Fingerprint, World, build_world

from gateway import create_app
from gateway.db import SharedConnection


@pytest.fixture
def app(conn, app_settings):  # type: ignore[no-untyped-def]
    # hundreds of calls from one address: the rate limits have their own tests
    return create_app(
        app_settings(
            DATABASE=SharedConnection(conn),
            RATELIMIT_ENABLED=False,
            WEBHOOK_ALLOW_LOOPBACK=True,
            METRICS="token",
            METRICS_TOKEN=METRICS_TOKEN,
        )
    )


@pytest.fixture
def world(app, make, clock) -> World:  # type: ignore[no-untyped-def]
    """Every token audience; the signed-in sessions only where a test asks (build_world)."""
    return build_world(app, make, clock, sessions=False)


@pytest.fixture
def fingerprint(make) -> Fingerprint:  # type: ignore[no-untyped-def]
    return Fingerprint(make)
