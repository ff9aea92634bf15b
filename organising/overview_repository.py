"""SQL behind a game's Overview page in the console: play per local day of the game."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from game.models import HolderDay
from people.models import Player


@dataclass(frozen=True)
class DayPlay:
    day: date
    taps: int
    active: int  # cards (holders) with at least one tap that day
    distance_m: float


async def play_by_day(
    session: AsyncSession, game_id: int, first: date, last: date
) -> list[DayPlay]:
    """Taps, active cards and distance per local day in ``[first, last]`` (days with play)."""
    rows = await session.execute(
        select(
            HolderDay.local_date,
            func.coalesce(func.sum(HolderDay.taps), 0),
            func.count(),
            func.coalesce(func.sum(HolderDay.distance_m), 0.0),
        )
        .where(
            HolderDay.game_id == game_id,
            HolderDay.local_date >= first,
            HolderDay.local_date <= last,
            HolderDay.taps > 0,
        )
        .group_by(HolderDay.local_date)
        .order_by(HolderDay.local_date)
    )
    return [DayPlay(d, int(t), int(a), float(m)) for d, t, a, m in rows]


async def registration_times(session: AsyncSession, game_id: int) -> list[datetime]:
    """When each current (not erased) player of the game registered; the caller counts them
    per local day (the local day of a moment is computed in Python on both databases)."""
    rows = await session.scalars(
        select(Player.registered_at).where(Player.game_id == game_id, Player.erased_at.is_(None))
    )
    return list(rows)
