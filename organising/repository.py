"""SQL for games and the entities a game definition file declares."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from checkpoints.models import Reader, ReaderAssignment
from game.models import Campaign, Checkpoint, Game, Team
from kernel.db import is_postgres
from people.models import Card, Player, TeamMembership


async def game_by_slug(session: AsyncSession, slug: str) -> Game | None:
    return await session.scalar(select(Game).where(Game.slug == slug))


async def all_games(session: AsyncSession) -> Sequence[Game]:
    """Every game, the latest to start first."""
    return (await session.scalars(select(Game).order_by(Game.starts_at.desc()))).all()


async def game_ids_and_slugs(session: AsyncSession) -> list[tuple[int, str]]:
    return [(i, s) for i, s in (await session.execute(select(Game.id, Game.slug))).all()]


async def games_in_play(session: AsyncSession, now: datetime, grace: timedelta) -> list[int]:
    """Ids of the games started by ``now`` that ended no more than ``grace`` before it."""
    rows = await session.scalars(
        select(Game.id).where(Game.starts_at <= now, Game.ends_at >= now - grace)
    )
    return list(rows.all())


async def checkpoints_of(session: AsyncSession, game_id: int) -> Sequence[Checkpoint]:
    return (
        await session.scalars(
            select(Checkpoint).where(Checkpoint.game_id == game_id).order_by(Checkpoint.code)
        )
    ).all()


async def teams_of(session: AsyncSession, game_id: int) -> Sequence[Team]:
    return (
        await session.scalars(select(Team).where(Team.game_id == game_id).order_by(Team.code))
    ).all()


async def campaigns_of(session: AsyncSession, game_id: int) -> Sequence[Campaign]:
    return (
        await session.scalars(
            select(Campaign).where(Campaign.game_id == game_id).order_by(Campaign.starts_at)
        )
    ).all()


async def readers_by_id(session: AsyncSession, ids: Sequence[str]) -> dict[str, Reader]:
    if not ids:
        return {}
    rows = await session.scalars(select(Reader).where(Reader.id.in_(list(ids))))
    return {r.id: r for r in rows}


async def lock_readers(session: AsyncSession, ids: Sequence[str]) -> dict[str, Reader]:
    """The readers, fresh and (on PostgreSQL) locked in id order until the transaction ends
    (uploads lock their reader the same way, before any holder)."""
    if not ids:
        return {}
    query = (
        select(Reader)
        .where(Reader.id.in_(list(ids)))
        .order_by(Reader.id)
        .execution_options(populate_existing=True)
    )
    if is_postgres(session):
        query = query.with_for_update()
    return {r.id: r for r in await session.scalars(query)}


async def game_slugs(session: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Game.id, Game.slug).where(Game.id.in_(list(ids))))
    return {game_id: slug for game_id, slug in rows}


async def cards_of(session: AsyncSession, game_id: int) -> Sequence[Card]:
    return (await session.scalars(select(Card).where(Card.game_id == game_id))).all()


async def players_of(session: AsyncSession, game_id: int) -> Sequence[Player]:
    return (await session.scalars(select(Player).where(Player.game_id == game_id))).all()


async def memberships_of(session: AsyncSession, game_id: int) -> Sequence[TeamMembership]:
    return (
        await session.scalars(select(TeamMembership).where(TeamMembership.game_id == game_id))
    ).all()


async def assignments_of(session: AsyncSession, game_id: int) -> Sequence[ReaderAssignment]:
    return (
        await session.scalars(select(ReaderAssignment).where(ReaderAssignment.game_id == game_id))
    ).all()


async def refresh_statistics(session: AsyncSession) -> None:
    """Brings PostgreSQL's planner statistics of the tables a game load fills up to date
    (in the caller's transaction; ANALYZE counts its own uncommitted rows)."""
    if not is_postgres(session):
        return
    await session.execute(text("ANALYZE cards, holders, players, team_memberships"))
