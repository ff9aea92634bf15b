"""Process-wide resources of one server process: engine, sessions, Redis, live boards.

A process holds no game state of its own: everything is in the database (the truth) and,
when configured, Redis (derived, rebuildable). Any number of processes can serve a game.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Coroutine
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.app_state import AppState, install
from evaluation.erasure import SURVEY_ANSWERS
from game.models import Game
from game.totals import TotalsDelta
from kernel.db import is_sqlite, make_engine, make_sessionmaker, utcnow
from kernel.logging import describe_error, log
from kernel.metrics import Metrics
from kernel.redis_pool import bounded_client
from kernel.secrets_box import secret_box
from kernel.settings import Settings
from kernel.transactions import committed_xid
from leaderboard.db_sync import changes_from_delta, load_snapshot
from leaderboard.runtime import LeaderboardRuntime
from organising import repository
from scoring.scorer import Scorer


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: AsyncEngine | None = None
        self.sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self.redis: Redis | None = None
        self.leaderboard: LeaderboardRuntime | None = None
        # SQLite allows one writer: writers queue here instead of failing with "locked".
        self.write_lock: asyncio.Lock | None = None
        self.metrics = Metrics()
        self.stale_games: set[int] = set()
        self.scorer: Scorer | None = None
        self.state: AppState | None = None  # made by start()

    @property
    def database_kind(self) -> str:
        return "sqlite" if is_sqlite(self.settings.database_url) else "postgresql"

    async def start(self, app: FastAPI) -> None:
        self.engine = make_engine(self.settings.database_url, pool_size=self.settings.db_pool_size)
        self.sessionmaker = make_sessionmaker(self.engine)
        if is_sqlite(self.settings.database_url):
            self.write_lock = asyncio.Lock()
        if self.settings.redis_url:
            # One bounded pool per process, shared with the leaderboards: a burst of requests
            # waits for a connection instead of failing with "Too many connections".
            self.redis = bounded_client(
                self.settings.redis_url,
                max_connections=self.settings.redis_max_connections,
                timeout_s=self.settings.redis_pool_timeout_s,
            )
        self.scorer = Scorer(
            self, self._publish_through_state, partitions=self.settings.scorer_partitions
        )
        await self._start_leaderboard()
        assert self.leaderboard is not None
        self.state = AppState(
            settings=self.settings,
            engine=self.engine,
            sessionmaker=self.sessionmaker,
            metrics=self.metrics,
            secret_box=secret_box(self.settings),
            redis=self.redis,
            leaderboard=self.leaderboard,
            scorer=self.scorer,
            writing=self.writing,
            publish_scores=self.publish_scores,
            after_game_change=self.after_game_change,
            repair_boards=self.repair_boards,
            game_exists=self.game_exists,
            player_data_eraser=SURVEY_ANSWERS,
        )
        install(app, self.state)

    async def _publish_through_state(self, game_id: int, delta: TotalsDelta) -> None:
        # Looked up on every round, so tests can watch what is published.
        assert self.state is not None
        await self.state.publish_scores(game_id, delta)

    async def _start_leaderboard(self) -> None:
        self.leaderboard = LeaderboardRuntime(
            self.settings.redis_url, client=self.redis, key_prefix=self.settings.redis_prefix
        )
        await self.leaderboard.start()
        try:
            await self.ensure_boards()
            # A process that died between a commit and its publish left boards behind the
            # database; nobody else knows. Every start rebuilds the boards of the games being
            # played (the repair loop, within seconds; rebuilds are safe beside uploads).
            self.stale_games.update(await self._games_in_play())
        except Exception:  # noqa: BLE001 - Redis down at start: serve, rebuild later
            log.exception("leaderboard.ensure_failed")

    async def _game_slug(self, game_id: int) -> str | None:
        assert self.sessionmaker is not None
        async with self.sessionmaker() as session:
            game = await session.get(Game, game_id)
            return game.slug if game else None

    async def _publish_to_boards(self, game_id: int, delta: TotalsDelta) -> None:
        assert self.sessionmaker is not None
        xid = committed_xid()
        try:
            async with self.sessionmaker() as session:
                changes = await changes_from_delta(session, game_id, delta)
            slug = await self._game_slug(game_id)
            if slug is not None and not changes.is_empty():
                if xid is not None:
                    changes = dataclasses.replace(changes, xid=xid)
                assert self.leaderboard is not None
                if await self.leaderboard.publish_changes(slug, changes) == -1:
                    self.stale_games.add(game_id)  # Redis lost the boards: rebuild them
        except Exception as exc:  # noqa: BLE001 - the taps are committed; boards catch up later
            self.metrics.redis_errors.inc()
            self.stale_games.add(game_id)
            # No traceback: while Redis is down this runs on every upload, and rendering one
            # (with locals) blocks the event loop for seconds on a busy machine.
            log.warning("leaderboard.publish_failed", game_id=game_id, error=describe_error(exc))

    async def rebuild_boards(self, game_id: int) -> None:
        """Rebuilds a game's boards from the database and swaps them in."""
        assert self.sessionmaker is not None
        slug = await self._game_slug(game_id)
        if slug is None or self.leaderboard is None:
            return
        # Clean from here: a publish failing while we rebuild marks the game again (its
        # changes may have committed after our snapshot and not reached the journal).
        self.stale_games.discard(game_id)
        try:
            async with self.sessionmaker() as session:
                snapshot = await load_snapshot(session, game_id)
            await self.leaderboard.publish_snapshot(slug, snapshot)
        except BaseException:
            self.stale_games.add(game_id)
            raise

    async def _games_in_play(self) -> list[int]:
        assert self.sessionmaker is not None
        now = utcnow()
        async with self.sessionmaker() as session:
            return await repository.games_in_play(session, now, timedelta(days=1))

    async def ensure_boards(self) -> None:
        """Builds the boards of every game that has none (a fresh or emptied Redis)."""
        assert self.sessionmaker is not None and self.leaderboard is not None
        async with self.sessionmaker() as session:
            games = await repository.game_ids_and_slugs(session)
        leaderboard = self.leaderboard
        for game_id, slug in games:

            async def _load(game_id: int = game_id) -> Any:
                assert self.sessionmaker is not None
                async with self.sessionmaker() as session:
                    return await load_snapshot(session, game_id)

            await leaderboard.ensure_game(slug, _load)

    async def repair_boards(self) -> None:
        """Rebuilds boards that missed updates (Redis was down) or went missing."""
        for game_id in sorted(self.stale_games):
            await self.rebuild_boards(game_id)
        await self.ensure_boards()

    async def stop(self, app: FastAPI) -> None:
        # Each step is bounded: a stuck dependency must not keep the process from exiting.
        if self.scorer is not None:
            await _bounded("scorer", self.scorer.stop())
        if self.leaderboard is not None:
            await _bounded("leaderboard", self.leaderboard.stop())
        if self.redis is not None:
            await self.redis.aclose()
        if self.engine is not None:
            await self.engine.dispose()

    def session(self) -> AsyncSession:
        """A new session (an async context manager) of this process's database."""
        assert self.sessionmaker is not None
        return self.sessionmaker()

    def writing(self) -> AbstractAsyncContextManager[Any]:
        """Guard for a write transaction: SQLite's single writer queues here."""
        return self.write_lock if self.write_lock is not None else contextlib.nullcontext()

    async def publish_scores(self, game_id: int, delta: TotalsDelta) -> None:
        """After a commit: push score changes to the leaderboards and live screens."""
        await self._publish_to_boards(game_id, delta)

    async def game_exists(self, slug: str) -> bool:
        assert self.sessionmaker is not None
        async with self.sessionmaker() as session:
            return await repository.game_by_slug(session, slug) is not None

    async def after_game_change(self, game_id: int) -> None:
        """Called after a committed change to a game's set-up: boards are rebuilt."""
        await self.rebuild_boards(game_id)

    def observe_request(self, method: str, path: str, status: int, seconds: float) -> None:
        self.metrics.observe_request(method, path, status, seconds)


async def _bounded(what: str, step: Coroutine[Any, Any, None], seconds: float = 10.0) -> None:
    try:
        await asyncio.wait_for(step, seconds)
    except TimeoutError:
        log.warning("runtime.stop_timeout", step=what, seconds=seconds)
