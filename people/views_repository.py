"""SQL for the people read views: team standings, a holder's totals, recent taps and taps
outside their card's validity, a team's members and their week."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from game.models import (
    Checkpoint,
    HolderDay,
    HolderTeamTotal,
    HolderTotal,
    Tap,
    Team,
    TeamTotal,
)
from people.models import Card, Player


@dataclass(frozen=True, slots=True)
class TeamStanding:
    team_id: int
    code: str
    name: str
    kind: str
    points: int
    distance_m: float
    active_members: int


async def team_standings(session: AsyncSession, game_id: int) -> list[TeamStanding]:
    """Every team of the game with its stored totals (0 for a team without any yet)."""
    rows = await session.execute(
        select(
            Team.id,
            Team.code,
            Team.name,
            Team.kind,
            func.coalesce(TeamTotal.points, 0),
            func.coalesce(TeamTotal.distance_m, 0.0),
            func.coalesce(TeamTotal.active_members, 0),
        )
        .outerjoin(TeamTotal, (TeamTotal.team_id == Team.id) & (TeamTotal.game_id == game_id))
        .where(Team.game_id == game_id)
    )
    return [TeamStanding(*row) for row in rows]


async def holder_total(session: AsyncSession, game_id: int, holder_id: int) -> HolderTotal | None:
    return await session.get(HolderTotal, (game_id, holder_id))


async def holder_day(
    session: AsyncSession, game_id: int, holder_id: int, day: date
) -> HolderDay | None:
    return await session.get(HolderDay, (game_id, holder_id, day))


def _outside_validity(cards: Sequence[Card]) -> ColumnElement[bool] | None:
    """Taps made with one of ``cards`` outside its ``[valid_from, valid_until)``: a replaced
    card's later taps are whoever has the card now, not its holder (None: no limits)."""
    limits = []
    for card in cards:
        times = []
        if card.valid_from is not None:
            times.append(Tap.tapped_at < card.valid_from)
        if card.valid_until is not None:
            times.append(Tap.tapped_at >= card.valid_until)
        if times:
            limits.append(and_(Tap.card_id == card.id, or_(*times)))
    return or_(*limits) if limits else None


async def recent_taps(
    session: AsyncSession, game_id: int, holder_id: int, cards: Sequence[Card], limit: int
) -> list[Any]:
    """The holder's latest taps, newest first, with their checkpoints and outcomes; taps of
    its ``cards`` outside their validity are left out."""
    query = (
        select(
            Tap.tapped_at,
            Tap.outcome,
            Tap.points,
            Tap.distance_m,
            Tap.multiplier,
            Checkpoint.code,
            Checkpoint.name,
        )
        .join(Checkpoint, Checkpoint.id == Tap.checkpoint_id)
        .where(Tap.game_id == game_id, Tap.holder_id == holder_id)
    )
    outside = _outside_validity(cards)
    if outside is not None:
        query = query.where(not_(outside))
    rows = await session.execute(
        query.order_by(Tap.tapped_at.desc(), Checkpoint.code.desc(), Tap.source_key.desc()).limit(
            limit
        )
    )
    return list(rows.all())


async def taps_outside_validity(
    session: AsyncSession, game_id: int, holder_id: int, cards: Sequence[Card], day: date
) -> tuple[int, int]:
    """How many of the holder's taps were made with its ``cards`` outside their validity:
    in all, and on local ``day``. The holder's stored tap counts include them."""
    outside = _outside_validity(cards)
    if outside is None:
        return 0, 0
    row = (
        await session.execute(
            select(func.count(), func.count().filter(Tap.local_date == day)).where(
                Tap.game_id == game_id,
                Tap.holder_id == holder_id,
                Tap.card_id.in_([c.id for c in cards]),
                outside,
            )
        )
    ).one()
    return int(row[0]), int(row[1])


@dataclass(frozen=True, slots=True)
class MemberActivity:
    player_id: int
    holder_id: int
    nickname: str | None
    nickname_hidden: bool
    points: int
    legs: int
    distance_m: float
    days_active: int
    last_active_on: date | None


async def team_members(session: AsyncSession, game_id: int, team_id: int) -> list[MemberActivity]:
    """Current (not erased) players of a team with what they earned for it and their days."""
    members = (
        await session.execute(
            select(
                Player.id,
                Player.holder_id,
                Player.nickname,
                Player.nickname_hidden,
                func.coalesce(HolderTeamTotal.points, 0),
                func.coalesce(HolderTeamTotal.legs, 0),
                func.coalesce(HolderTeamTotal.distance_m, 0.0),
            )
            .outerjoin(
                HolderTeamTotal,
                (HolderTeamTotal.game_id == game_id)
                & (HolderTeamTotal.holder_id == Player.holder_id)
                & (HolderTeamTotal.team_id == team_id),
            )
            .where(Player.game_id == game_id, Player.team_id == team_id, Player.erased_at.is_(None))
        )
    ).all()
    holder_ids = [m[1] for m in members]
    days: dict[int, tuple[int, date | None]] = {}
    for i in range(0, len(holder_ids), 1000):
        chunk = holder_ids[i : i + 1000]
        rows = await session.execute(
            select(HolderDay.holder_id, func.count(), func.max(HolderDay.local_date))
            .where(
                HolderDay.game_id == game_id,
                HolderDay.holder_id.in_(chunk),
                HolderDay.counted_taps > 0,
            )
            .group_by(HolderDay.holder_id)
        )
        days.update({r[0]: (int(r[1]), r[2]) for r in rows})
    return [
        MemberActivity(
            m[0], m[1], m[2], m[3], int(m[4]), int(m[5]), float(m[6]), *days.get(m[1], (0, None))
        )
        for m in members
    ]


async def week_activity(
    session: AsyncSession, game_id: int, holder_ids: Sequence[int], since: date
) -> dict[int, tuple[int, int]]:
    """``{holder_id: (points, days with a counted tap)}`` from local day ``since`` on."""
    out: dict[int, tuple[int, int]] = {}
    for i in range(0, len(holder_ids), 1000):
        rows = await session.execute(
            select(HolderDay.holder_id, func.sum(HolderDay.points), func.count())
            .where(
                HolderDay.game_id == game_id,
                HolderDay.holder_id.in_(list(holder_ids[i : i + 1000])),
                HolderDay.local_date >= since,
                HolderDay.counted_taps > 0,
            )
            .group_by(HolderDay.holder_id)
        )
        out.update({int(r[0]): (int(r[1] or 0), int(r[2])) for r in rows})
    return out
