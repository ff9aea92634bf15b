"""The leaderboard store and live fan-out of one server process, built from settings."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from leaderboard.bus import Bus, LocalBus, RedisBus
from leaderboard.fanout import Broadcaster
from leaderboard.memory import MemoryStore
from leaderboard.models import BOARD_NAMES, BoardChanges, BoardSnapshot
from leaderboard.redis_store import RedisStore
from leaderboard.store import LeaderboardStore

log = logging.getLogger(__name__)


class LeaderboardRuntime:
    """``redis_url`` None: in-process store and fan-out (one server process only).
    Otherwise Redis holds the boards and carries change notices between processes."""

    def __init__(
        self,
        redis_url: str | None = None,
        *,
        key_prefix: str = "tt",
        top_n: int = 20,
        throttle_s: float = 1.0,
        queue_size: int = 16,
    ) -> None:
        self.redis: Redis | None = None
        store: LeaderboardStore
        bus: Bus
        if redis_url is None:
            store, bus = MemoryStore(), LocalBus()
        else:
            self.redis = Redis.from_url(redis_url, decode_responses=True)
            store = RedisStore(self.redis, key_prefix=key_prefix)
            bus = RedisBus(self.redis, f"{key_prefix}:leaderboard:dirty")
        self.store = store
        self.broadcaster = Broadcaster(
            store, bus, top_n=top_n, throttle_s=throttle_s, queue_size=queue_size
        )

    async def start(self) -> None:
        await self.broadcaster.start()

    async def stop(self) -> None:
        await self.broadcaster.stop()
        await self.store.close()
        if self.redis is not None:
            await self.redis.aclose()

    async def publish_changes(self, game: str, changes: BoardChanges) -> int:
        """Apply score deltas, then tell every process. Call only after the DB commit.

        Negative when nothing was applied: -1, the game has no boards (rebuild them);
        -2, a rebuild already counted these changes (see ``BoardChanges.xid``)."""
        if changes.is_empty():
            return await self.store.version(game)
        version = await self.store.apply(game, changes)
        if version >= 0:
            await self._notify(game, changes.boards())
        return version

    async def publish_snapshot(self, game: str, snapshot: BoardSnapshot) -> int:
        """Rebuild a game's boards (after a re-score or on startup) and tell every process."""
        version = await self.store.replace(game, snapshot)
        await self._notify(game, frozenset(BOARD_NAMES))
        return version

    async def ensure_game(
        self, game: str, load_snapshot: Callable[[], Awaitable[BoardSnapshot]]
    ) -> bool:
        """Build the game's boards from the loader if the store has none; True if it did."""
        if await self.store.exists(game):
            return False
        await self.publish_snapshot(game, await load_snapshot())
        return True

    async def _notify(self, game: str, boards: frozenset[str]) -> None:
        # The boards are already updated; a lost notice only delays live screens until the
        # next change, so it must not fail the caller's (already committed) request.
        try:
            await self.broadcaster.notify(game, boards)
        except Exception:
            log.exception("leaderboard: change notice for %s failed", game)
