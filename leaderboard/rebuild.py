"""Rebuilding a game's boards from the database, from the command line or a server."""

from __future__ import annotations

from sqlalchemy import select

from game.models import Game
from kernel.db import make_engine, make_sessionmaker
from kernel.settings import Settings
from leaderboard.db_sync import load_snapshot
from leaderboard.runtime import LeaderboardRuntime


async def rebuild_from_settings(settings: Settings, slug: str) -> int:
    """Builds every board of ``slug`` into new keys and swaps them in; returns the version.

    With the in-process default there is nothing shared to rebuild: a server rebuilds its
    own boards when it starts.
    """
    if settings.redis_url is None:
        return 0
    engine = make_engine(settings.database_url)
    runtime = LeaderboardRuntime(
        settings.redis_url,
        key_prefix=settings.redis_prefix,
        max_connections=settings.redis_max_connections,
        pool_timeout_s=settings.redis_pool_timeout_s,
    )
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as session:
            game_id = await session.scalar(select(Game.id).where(Game.slug == slug))
            if game_id is None:
                raise LookupError(f"no game '{slug}'")
        async with sessions() as session:  # a fresh transaction: one consistent snapshot
            snapshot = await load_snapshot(session, game_id)
        return await runtime.publish_snapshot(slug, snapshot)
    finally:
        await runtime.stop()
        await engine.dispose()
