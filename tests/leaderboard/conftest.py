"""Fixtures for the leaderboard suite: both store backends, a private Redis key prefix."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from redis import Redis as SyncRedis

from leaderboard.memory import MemoryStore
from leaderboard.redis_store import RedisStore
from leaderboard.store import LeaderboardStore

REDIS_URL = os.environ.get("TAPTRAIL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = os.environ.get("TAPTRAIL_REQUIRE_SERVICES") == "1"
KEY_PREFIX = f"tttest-{uuid.uuid4().hex[:8]}"


def _redis_reachable() -> bool:
    client = SyncRedis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The test Redis; skipped when down unless TAPTRAIL_REQUIRE_SERVICES=1."""
    if not _redis_reachable():
        if REQUIRE_SERVICES:
            pytest.fail(f"Redis is required (TAPTRAIL_REQUIRE_SERVICES=1) but {REDIS_URL} is down")
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    yield REDIS_URL
    client = SyncRedis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{KEY_PREFIX}*", count=1000))
        for i in range(0, len(keys), 1000):
            client.delete(*keys[i : i + 1000])
    finally:
        client.close()


@pytest.fixture
def key_prefix() -> str:
    return KEY_PREFIX


@pytest.fixture
def game() -> str:
    return f"town-{uuid.uuid4().hex[:10]}"


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[LeaderboardStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    url = request.getfixturevalue("redis_url")
    s = RedisStore.from_url(url, key_prefix=KEY_PREFIX)
    try:
        yield s
    finally:
        await s.close()
