"""SQL behind the scoring administration: campaigns, lucky-tap draws, the help-desk view."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from checkpoints.models import TapRejection
from game.models import (
    Campaign,
    Checkpoint,
    Game,
    HolderDay,
    HolderTotal,
    LuckyDraw,
    LuckyDrawSchedule,
    LuckyDrawWinner,
    Tap,
    Team,
)
from kernel.audit import AuditRecord
from kernel.db import is_postgres
from people.models import Card, Player, TeamMembership

# --------------------------------------------------------------------------- campaigns


async def campaign_by_code(session: AsyncSession, game_id: int, code: str) -> Campaign | None:
    return await session.scalar(
        select(Campaign).where(Campaign.game_id == game_id, Campaign.code == code)
    )


async def campaign_stats(session: AsyncSession, game_id: int) -> dict[int, tuple[int, int]]:
    """``{campaign_id: (legs, points)}`` over the ledger."""
    rows = await session.execute(
        select(Tap.campaign_id, func.count(), func.coalesce(func.sum(Tap.points), 0))
        .where(Tap.game_id == game_id, Tap.campaign_id.is_not(None))
        .group_by(Tap.campaign_id)
    )
    return {int(r[0] or 0): (int(r[1]), int(r[2])) for r in rows}


# --------------------------------------------------------------------------- draws


async def schedules(session: AsyncSession, game_id: int) -> Sequence[LuckyDrawSchedule]:
    return (
        await session.scalars(
            select(LuckyDrawSchedule)
            .where(LuckyDrawSchedule.game_id == game_id)
            .order_by(LuckyDrawSchedule.id)
        )
    ).all()


async def lock_schedules(
    session: AsyncSession, game_id: int | None, *, skip_locked: bool
) -> Sequence[LuckyDrawSchedule]:
    """Schedules (of one game, or all) row-locked for drawing (PostgreSQL). With
    ``skip_locked``, schedules another transaction is drawing right now are left out."""
    query = select(LuckyDrawSchedule).order_by(LuckyDrawSchedule.id)
    if game_id is not None:
        query = query.where(LuckyDrawSchedule.game_id == game_id)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=skip_locked)
    return (await session.scalars(query.execution_options(populate_existing=True))).all()


async def games_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Game]:
    if not ids:
        return {}
    return {g.id: g for g in await session.scalars(select(Game).where(Game.id.in_(list(ids))))}


async def drawn_days(session: AsyncSession, schedule_ids: Sequence[int]) -> set[tuple[int, date]]:
    if not schedule_ids:
        return set()
    rows = await session.execute(
        select(LuckyDraw.schedule_id, LuckyDraw.local_date).where(
            LuckyDraw.schedule_id.in_(list(schedule_ids))
        )
    )
    return {(int(r[0]), r[1]) for r in rows}


async def draw_candidates(session: AsyncSession, game_id: int, day: date) -> list[int]:
    """Ids of registered players (not erased) with a counted tap on ``day``, sorted."""
    rows = await session.scalars(
        select(Player.id)
        .join(
            HolderDay,
            (HolderDay.holder_id == Player.holder_id) & (HolderDay.game_id == Player.game_id),
        )
        .where(
            Player.game_id == game_id,
            Player.erased_at.is_(None),
            HolderDay.local_date == day,
            HolderDay.counted_taps > 0,
        )
        .order_by(Player.id)
    )
    return [int(i) for i in rows]


async def draws(
    session: AsyncSession, game_id: int, day: date | None = None, draw_id: int | None = None
) -> Sequence[LuckyDraw]:
    query = select(LuckyDraw).where(LuckyDraw.game_id == game_id)
    if day is not None:
        query = query.where(LuckyDraw.local_date == day)
    if draw_id is not None:
        query = query.where(LuckyDraw.id == draw_id)
    return (await session.scalars(query.order_by(LuckyDraw.local_date, LuckyDraw.id))).all()


async def winners(
    session: AsyncSession, draw_ids: Sequence[int]
) -> dict[int, list[tuple[int, int | None, str | None]]]:
    """``{draw_id: [(position, player_id, nickname)]}`` in drawing order."""
    if not draw_ids:
        return {}
    rows = await session.execute(
        select(
            LuckyDrawWinner.draw_id,
            LuckyDrawWinner.position,
            LuckyDrawWinner.player_id,
            Player.nickname,
        )
        .outerjoin(Player, Player.id == LuckyDrawWinner.player_id)
        .where(LuckyDrawWinner.draw_id.in_(list(draw_ids)))
        .order_by(LuckyDrawWinner.draw_id, LuckyDrawWinner.position)
    )
    out: dict[int, list[tuple[int, int | None, str | None]]] = {}
    for r in rows:
        out.setdefault(int(r[0]), []).append((int(r[1]), r[2], r[3]))
    return out


# --------------------------------------------------------------------------- help desk


async def card_by_number(session: AsyncSession, game_id: int, number: str) -> Card | None:
    return await session.scalar(select(Card).where(Card.game_id == game_id, Card.number == number))


async def holder_cards(session: AsyncSession, game_id: int, holder_id: int) -> Sequence[Card]:
    return (
        await session.scalars(
            select(Card)
            .where(Card.game_id == game_id, Card.holder_id == holder_id)
            .order_by(Card.number)
        )
    ).all()


async def player_of(session: AsyncSession, game_id: int, holder_id: int) -> Player | None:
    return await session.scalar(
        select(Player).where(Player.game_id == game_id, Player.holder_id == holder_id)
    )


async def current_team_id(session: AsyncSession, game_id: int, holder_id: int) -> int | None:
    """The team of the holder's latest membership period (None-from first)."""
    rows = (
        await session.execute(
            select(TeamMembership.valid_from, TeamMembership.team_id)
            .where(TeamMembership.game_id == game_id, TeamMembership.holder_id == holder_id)
            .order_by(TeamMembership.id)
        )
    ).all()
    if not rows:
        return None
    undated = [team for valid_from, team in rows if valid_from is None]
    dated = sorted(
        ((valid_from, team) for valid_from, team in rows if valid_from is not None),
        key=lambda pair: pair[0],
    )
    return dated[-1][1] if dated else undated[-1]


async def teams(session: AsyncSession, game_id: int) -> dict[int, Team]:
    return {t.id: t for t in await session.scalars(select(Team).where(Team.game_id == game_id))}


async def checkpoints(session: AsyncSession, game_id: int) -> dict[int, Checkpoint]:
    return {
        c.id: c
        for c in await session.scalars(select(Checkpoint).where(Checkpoint.game_id == game_id))
    }


async def campaigns(session: AsyncSession, game_id: int) -> dict[int, Campaign]:
    return {
        c.id: c for c in await session.scalars(select(Campaign).where(Campaign.game_id == game_id))
    }


async def holder_total(session: AsyncSession, game_id: int, holder_id: int) -> HolderTotal | None:
    return await session.scalar(
        select(HolderTotal).where(
            HolderTotal.game_id == game_id, HolderTotal.holder_id == holder_id
        )
    )


async def holder_taps(session: AsyncSession, game_id: int, holder_id: int) -> Sequence[Tap]:
    return (
        await session.scalars(
            select(Tap)
            .where(Tap.game_id == game_id, Tap.holder_id == holder_id)
            .order_by(Tap.tapped_at, Tap.id)
        )
    ).all()


def _normalised(column: Any) -> Any:
    """SQL for kernel.uids.normalise_uid's separator removal and upper-casing."""
    for sep in (" ", ":", "-", "_", ".", "\t"):
        column = func.replace(column, sep, "")
    return func.upper(column)


async def rejections_of_uid(
    session: AsyncSession, game_id: int, uid: str, limit: int = 500
) -> Sequence[TapRejection]:
    return (
        await session.scalars(
            select(TapRejection)
            .where(TapRejection.game_id == game_id, _normalised(TapRejection.card_uid_raw) == uid)
            .order_by(TapRejection.received_at.desc(), TapRejection.id.desc())
            .limit(limit)
        )
    ).all()


async def campaign_audit(
    session: AsyncSession, game_id: int, limit: int = 50
) -> Sequence[AuditRecord]:
    """The game's latest campaign changes (audit records), newest first."""
    rows = await session.scalars(
        select(AuditRecord)
        .where(AuditRecord.game_id == game_id, AuditRecord.action.like("campaign.%"))
        .order_by(AuditRecord.created_at.desc(), AuditRecord.id.desc())
        .limit(limit)
    )
    return list(rows)


# --------------------------------------------------------------------------- draw prizes


async def draw_winner(
    session: AsyncSession, game_id: int, draw_id: int, position: int
) -> LuckyDrawWinner | None:
    return await session.scalar(
        select(LuckyDrawWinner).where(
            LuckyDrawWinner.game_id == game_id,
            LuckyDrawWinner.draw_id == draw_id,
            LuckyDrawWinner.position == position,
        )
    )


async def prizes_sent(session: AsyncSession, draw_ids: Sequence[int]) -> dict[tuple[int, int], Any]:
    """``{(draw_id, position): prize_sent_at or None}``."""
    if not draw_ids:
        return {}
    rows = await session.execute(
        select(
            LuckyDrawWinner.draw_id, LuckyDrawWinner.position, LuckyDrawWinner.prize_sent_at
        ).where(LuckyDrawWinner.draw_id.in_(list(draw_ids)))
    )
    return {(int(r[0]), int(r[1])): r[2] for r in rows}


async def winner_contacts(
    session: AsyncSession, game_id: int, draw_id: int
) -> list[tuple[int, int | None, str | None, str | None]]:
    """``[(position, player_id, nickname, e-mail)]`` of one draw, in drawing order."""
    rows = await session.execute(
        select(LuckyDrawWinner.position, LuckyDrawWinner.player_id, Player.nickname, Player.email)
        .outerjoin(Player, Player.id == LuckyDrawWinner.player_id)
        .where(LuckyDrawWinner.game_id == game_id, LuckyDrawWinner.draw_id == draw_id)
        .order_by(LuckyDrawWinner.position)
    )
    return [(int(r[0]), r[1], r[2], r[3]) for r in rows]


async def card_by_printed_number(session: AsyncSession, game_id: int, typed: str) -> Card | None:
    """A card by its number as typed: exactly, or (digits only) with leading zeros left out
    ("42" finds "0000042"), the shortest such number first."""
    exact = await card_by_number(session, game_id, typed)
    if exact is not None or not typed.isdigit():
        return exact
    bare = typed.lstrip("0") or "0"
    padded = [bare.zfill(n) for n in range(len(bare), 33)]
    return await session.scalar(
        select(Card)
        .where(Card.game_id == game_id, Card.number.in_(padded))
        .order_by(func.length(Card.number))
        .limit(1)
    )
