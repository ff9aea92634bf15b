"""The leaderboard store and live fan-out of one server process, built from settings.

Redis connections come from one bounded pool (``kernel.redis_pool``); identical board
reads of this process share a short-lived cache (``leaderboard.board_cache``), read through
``reads``: the HTTP board reads and the live socket's join snapshots."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from kernel.logging import log
from kernel.redis_pool import bounded_client
from leaderboard.board_cache import BoardCache, CachedBoards
from leaderboard.bus import Bus, LocalBus, RedisBus
from leaderboard.fanout import Broadcaster
from leaderboard.memory import MemoryStore
from leaderboard.models import BOARD_NAMES, BoardChanges, BoardSnapshot
from leaderboard.redis_store import RedisStore
from leaderboard.store import LeaderboardStore


class LeaderboardRuntime:
    """``redis_url`` None: in-process store and fan-out (one server process only).
    Otherwise Redis holds the boards and carries change notices between processes, over
    ``client`` if given (the caller closes it) or a pool of ``max_connections`` that waits up
    to ``pool_timeout_s`` for a free connection. Identical board reads within
    ``read_cache_ttl_s`` share one store read."""

    def __init__(
        self,
        redis_url: str | None = None,
        *,
        key_prefix: str = "tt",
        top_n: int = 20,
        throttle_s: float = 1.0,
        queue_size: int = 16,
        max_connections: int = 50,
        pool_timeout_s: float = 5.0,
        read_cache_ttl_s: float = 1.0,
        client: Redis | None = None,
    ) -> None:
        self.redis: Redis | None = None
        self._owns_redis = client is None
        store: LeaderboardStore
        bus: Bus
        if redis_url is None and client is None:
            store, bus = MemoryStore(), LocalBus()
        else:
            if client is None:
                assert redis_url is not None
                client = bounded_client(
                    redis_url, max_connections=max_connections, timeout_s=pool_timeout_s
                )
            self.redis = client
            store = RedisStore(client, key_prefix=key_prefix)
            bus = RedisBus(client, f"{key_prefix}:leaderboard:dirty")
        self.store = store
        self.cache = BoardCache(read_cache_ttl_s)
        self.reads = CachedBoards(store, self.cache)
        self.broadcaster = Broadcaster(
            store,
            bus,
            top_n=top_n,
            throttle_s=throttle_s,
            queue_size=queue_size,
            cache=self.cache,
        )

    async def start(self) -> None:
        await self.broadcaster.start()

    async def stop(self) -> None:
        await self.broadcaster.stop()
        await self.store.close()
        if self.redis is not None and self._owns_redis:
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
            log.exception("leaderboard.change_notice_failed", game=game)
