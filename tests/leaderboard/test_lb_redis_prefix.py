"""Two installations can share one Redis: every key and channel carries the installation's
prefix (``TAPTRAIL_REDIS_PREFIX``), so neither sees nor overwrites the other's boards."""

from __future__ import annotations

import uuid

import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis

from api.app_state import state_of
from kernel.settings import Settings
from leaderboard.models import BoardSnapshot
from leaderboard.runtime import LeaderboardRuntime
from taptrail.server import create_app
from tests.conftest import REDIS_URL, require_backend


async def test_installations_with_other_prefixes_do_not_share_boards() -> None:
    require_backend("postgres")  # the PostgreSQL backend's services include Redis
    first, second = f"inst-{uuid.uuid4().hex[:6]}", f"inst-{uuid.uuid4().hex[:6]}"
    a = LeaderboardRuntime(REDIS_URL, key_prefix=first)
    b = LeaderboardRuntime(REDIS_URL, key_prefix=second)
    raw = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        await a.start()
        await b.start()
        await a.publish_snapshot("same-slug", BoardSnapshot())
        assert await a.store.exists("same-slug")
        assert not await b.store.exists("same-slug")
        keys = [k async for k in raw.scan_iter(match="*same-slug*")]
        assert keys and all(k.startswith(first + ":") for k in keys), keys
    finally:
        await a.stop()
        await b.stop()
        for prefix in (first, second):
            async for key in raw.scan_iter(match=f"{prefix}:*"):
                await raw.delete(key)
        await raw.aclose()


def test_the_prefix_setting_is_checked() -> None:
    assert Settings(_env_file=None).redis_prefix == "tt"
    assert Settings(redis_prefix="council-b").redis_prefix == "council-b"
    with pytest.raises(ValueError, match="redis_prefix"):
        Settings(redis_prefix="bad prefix:{x}")


async def test_the_server_uses_the_configured_prefix(settings: Settings) -> None:
    if settings.redis_url is None:
        pytest.skip("in-process boards have no keys")
    app = create_app(settings.model_copy(update={"redis_prefix": "other-install"}))

    async with LifespanManager(app):
        assert state_of(app).leaderboard.store._prefix == "other-install"
