"""Process-wide resources of one server process: engine, sessions, Redis, live boards.

A process holds no game state of its own: everything is in the database (the truth) and,
when configured, Redis (derived, rebuildable). Any number of processes can serve a game.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from taptrail.db import is_sqlite, make_engine, make_sessionmaker
from taptrail.metrics import Metrics
from taptrail.secrets_box import secret_box
from taptrail.settings import Settings


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: AsyncEngine | None = None
        self.sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self.redis: Any = None
        self.leaderboard: Any = None
        # SQLite allows one writer: writers queue here instead of failing with "locked".
        self.write_lock: asyncio.Lock | None = None
        self.metrics = Metrics()

    @property
    def database_kind(self) -> str:
        return "sqlite" if is_sqlite(self.settings.database_url) else "postgresql"

    async def start(self, app: FastAPI) -> None:
        self.engine = make_engine(self.settings.database_url, pool_size=self.settings.db_pool_size)
        self.sessionmaker = make_sessionmaker(self.engine)
        if is_sqlite(self.settings.database_url):
            self.write_lock = asyncio.Lock()
        if self.settings.redis_url:
            import redis.asyncio as aioredis

            self.redis = aioredis.from_url(self.settings.redis_url, decode_responses=True)
        state = app.state
        state.runtime = self
        state.metrics = self.metrics
        state.engine = self.engine
        state.sessionmaker = self.sessionmaker
        state.secret_box = secret_box(self.settings)
        state.redis = self.redis
        state.write_lock = self.write_lock
        state.after_game_change = self.after_game_change
        state.game_exists = self.game_exists
        state.writing = self.writing
        state.publish_scores = self.publish_scores
        await self._start_leaderboard(app)

    async def _start_leaderboard(self, app: FastAPI) -> None:
        try:
            from leaderboard.runtime import LeaderboardRuntime
        except ModuleNotFoundError:
            return
        self.leaderboard = LeaderboardRuntime(self.settings.redis_url)
        await self.leaderboard.start()
        app.state.leaderboard = self.leaderboard

    async def stop(self, app: FastAPI) -> None:
        if self.leaderboard is not None:
            await self.leaderboard.stop()
        if self.redis is not None:
            await self.redis.aclose()
        if self.engine is not None:
            await self.engine.dispose()

    def writing(self) -> Any:
        """Guard for a write transaction: SQLite's single writer queues here."""
        return self.write_lock if self.write_lock is not None else contextlib.nullcontext()

    async def publish_scores(self, game_id: int, delta: Any) -> None:
        """After a commit: push score changes to the leaderboards and live screens."""
        bridge = getattr(self, "_publish_scores", None)
        if bridge is not None:
            await bridge(game_id, delta)

    async def game_exists(self, slug: str) -> bool:
        from game import repository

        assert self.sessionmaker is not None
        async with self.sessionmaker() as session:
            return await repository.game_by_slug(session, slug) is not None

    async def after_game_change(self, game_id: int) -> None:
        """Called after a committed change to a game's set-up: boards are rebuilt."""
        hook = getattr(self, "_rebuild_boards", None)
        if hook is not None:
            await hook(game_id)

    def observe_request(self, method: str, path: str, status: int, seconds: float) -> None:
        self.metrics.observe_request(method, path, status, seconds)
