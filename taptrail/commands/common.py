"""What every ``taptrail`` command shares: one transaction against the configured database,
and rebuilding a game's boards after a change to its set-up."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from kernel.db import make_engine, make_sessionmaker
from kernel.settings import get_settings
from leaderboard.rebuild import rebuild_from_settings
from taptrail.migrate import upgrade

T = TypeVar("T")


def run_with_session(fn: Callable[[AsyncSession], Awaitable[T]], *, migrate: bool = True) -> T:
    """Runs ``fn`` in one transaction against the configured database."""

    async def _main() -> T:
        settings = get_settings()
        engine = make_engine(settings.database_url)
        try:
            if migrate:
                await upgrade(engine)
            async with make_sessionmaker(engine)() as session:
                value = await fn(session)
                await session.commit()
                return value
        finally:
            await engine.dispose()

    return asyncio.run(_main())


async def rebuild_boards_after_cli(slug: str) -> None:
    """After a command changed a game's set-up: its boards are rebuilt from the database."""
    await rebuild_from_settings(get_settings(), slug)
