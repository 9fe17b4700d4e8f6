"""Real PostgreSQL and Redis for the whole session; failing to provide them fails the tests."""

from __future__ import annotations

import pytest

from . import services


def _start(context_manager_factory):
    try:
        services.ensure_installed()
        manager = context_manager_factory()
        url = manager.__enter__()
    except services.ServiceUnavailable as error:
        pytest.fail(f"Integration service unavailable (not skipped on purpose): {error}", pytrace=False)
    return manager, url


@pytest.fixture(scope="session")
def postgres_url():
    manager, url = _start(services.postgres_server)
    yield url
    manager.__exit__(None, None, None)


@pytest.fixture(scope="session")
def redis_url():
    manager, url = _start(services.redis_server)
    yield url
    manager.__exit__(None, None, None)
