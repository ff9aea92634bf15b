"""The application's state as the HTTP surface sees it: one typed object of the process's
collaborators, stored once on the app and read through one accessor.

The application (``taptrail.runtime.Runtime``) builds an :class:`AppState` as it starts and
stores it with :func:`install`; endpoints read it with :func:`app_state` (a request, a
WebSocket, or a FastAPI dependency: ``State``). Nothing else is kept on ``app.state``.

The lazily made values at the end (the mailer, the forms' keys) are filled in on first use
and then kept for the life of the process.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from game.totals import TotalsDelta
from kernel.mail import Mailer
from kernel.metrics import Metrics
from kernel.secrets_box import SecretBox
from kernel.settings import Settings
from leaderboard.runtime import LeaderboardRuntime
from people.privacy import PlayerDataEraser
from scoring.scorer import Scorer

STATE_KEY = "taptrail"  # the one attribute of ``app.state``


@dataclass
class AppState:
    """What one server process gives its endpoints."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    metrics: Metrics
    secret_box: SecretBox
    redis: Redis | None  # None: no Redis configured (in-process boards)
    leaderboard: LeaderboardRuntime
    scorer: Scorer
    # Guard for a write transaction: SQLite's single writer queues here.
    writing: Callable[[], AbstractAsyncContextManager[Any]]
    # After a commit: push score changes to the boards and live screens.
    publish_scores: Callable[[int, TotalsDelta], Awaitable[None]]
    # After a committed change to a game's set-up: its boards are rebuilt.
    after_game_change: Callable[[int], Awaitable[None]]
    # Rebuilds the boards that missed updates (Redis was down) or went missing.
    repair_boards: Callable[[], Awaitable[None]]
    game_exists: Callable[[str], Awaitable[bool]]
    # What other domains hold about a player, removed when the player is erased.
    player_data_eraser: PlayerDataEraser
    # A game's languages by slug (None: read from the database; an app without one passes it).
    game_languages: Callable[[str], Awaitable[list[str] | None]] | None = None
    mailer: Mailer | None = None
    staff_form_key: bytes | None = None
    family_form_key: bytes | None = None


def install(app: Starlette, state: AppState) -> None:
    """Stores the application's state on ``app`` (once, as the application starts)."""
    setattr(app.state, STATE_KEY, state)


def state_of(app: Starlette) -> AppState:
    """The state :func:`install` stored on ``app``; a clear error before start-up."""
    state = getattr(app.state, STATE_KEY, None)
    if not isinstance(state, AppState):
        raise RuntimeError("the application has not started: it has no state yet")
    return state


def app_state(connection: HTTPConnection) -> AppState:
    """The application's state for a request or a WebSocket (also a FastAPI dependency)."""
    return state_of(connection.app)


State = Annotated[AppState, Depends(app_state)]
