"""Fixtures for the platform's commands: a fresh database per test (see platform_db.py)."""

from collections.abc import Iterator

import pytest
from platform_db import Platform, platform_database


@pytest.fixture
def platform_db(owner_url: str) -> Iterator[str]:
    with platform_database(owner_url) as url:
        yield url


@pytest.fixture
def platform(platform_db: str) -> Platform:
    return Platform(platform_db)
