"""How server processes tell each other that a game's boards changed.

Only "game X, boards Y are dirty" travels on the bus; each process then reads the fresh
board from the shared store itself, so a lost or repeated notice costs at most one read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from kernel.logging import log

# Called with (game, boards). game None means "anything may have changed" (after a
# reconnect of the subscription, when notices may have been missed).
DirtyHandler = Callable[[str | None, frozenset[str]], None]


class Bus(ABC):
    @abstractmethod
    async def start(self, handler: DirtyHandler) -> None: ...

    @abstractmethod
    async def publish(self, game: str, boards: frozenset[str]) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...


class LocalBus(Bus):
    """One server process: the notice goes straight to this process's broadcaster."""

    def __init__(self) -> None:
        self._handler: DirtyHandler | None = None

    async def start(self, handler: DirtyHandler) -> None:
        self._handler = handler

    async def publish(self, game: str, boards: frozenset[str]) -> None:
        if self._handler is not None:
            self._handler(game, boards)

    async def stop(self) -> None:
        self._handler = None


class RedisBus(Bus):
    """Redis pub/sub on one channel: one subscription per process, whatever the sockets."""

    def __init__(self, client: Redis, channel: str, *, max_backoff_s: float = 10.0) -> None:
        self._client = client
        self.channel = channel
        self._max_backoff = max_backoff_s
        self._handler: DirtyHandler | None = None
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def start(self, handler: DirtyHandler) -> None:
        self._handler = handler
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        # Subscribe before returning so a notice published right after start() is not missed.
        await pubsub.subscribe(self.channel)
        self.connected.set()
        self._task = asyncio.create_task(self._listen(pubsub), name=f"bus:{self.channel}")

    async def publish(self, game: str, boards: frozenset[str]) -> None:
        payload = json.dumps({"game": game, "boards": sorted(boards)})
        await self._client.publish(self.channel, payload)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._handler = None

    async def _listen(self, pubsub: PubSub) -> None:
        backoff = 0.1
        try:
            while True:
                try:
                    if not self.connected.is_set():
                        await pubsub.subscribe(self.channel)
                        self.connected.set()
                        backoff = 0.1
                        self._deliver(None, frozenset())
                    msg = await pubsub.get_message(timeout=None)
                except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                    self.connected.clear()
                    log.warning("leaderboard.bus_subscription_lost", error=str(exc)[:300])
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self._max_backoff)
                    continue
                if msg is None or msg.get("type") != "message":
                    continue
                try:
                    data = json.loads(msg["data"])
                    self._deliver(str(data["game"]), frozenset(map(str, data["boards"])))
                except (ValueError, KeyError, TypeError):
                    log.warning("leaderboard.bus_malformed_notice", data=repr(msg["data"])[:300])
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    def _deliver(self, game: str | None, boards: frozenset[str]) -> None:
        if self._handler is not None:
            self._handler(game, boards)
