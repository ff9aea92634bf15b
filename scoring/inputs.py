"""SQL reading what scoring needs: the game, its checkpoints and campaigns, holders'
age bands and team periods, card validity, and taps in the engine's tuple order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from game.models import (
    Campaign,
    Checkpoint,
    Game,
    Tap,
)
from kernel.db import is_postgres, one_of
from people.models import Card, Player, TeamMembership


async def game_row(session: AsyncSession, game_id: int) -> Game:
    """The game as committed (refreshes an object the session may hold from before a lock)."""
    game = await session.scalar(
        select(Game).where(Game.id == game_id).execution_options(populate_existing=True)
    )
    if game is None:
        raise LookupError(f"no game {game_id}")
    return game


async def checkpoints(session: AsyncSession, game_id: int) -> Sequence[Checkpoint]:
    return (await session.scalars(select(Checkpoint).where(Checkpoint.game_id == game_id))).all()


async def campaigns(session: AsyncSession, game_id: int) -> Sequence[Campaign]:
    return (await session.scalars(select(Campaign).where(Campaign.game_id == game_id))).all()


async def holder_inputs(
    session: AsyncSession, game_id: int, holder_ids: Sequence[int] | None
) -> tuple[dict[int, str | None], dict[int, list[tuple[datetime | None, int | None]]]]:
    """Age bands and team periods, for the given holders (None: all of the game's)."""
    age_q = select(Player.holder_id, Player.age_band).where(Player.game_id == game_id)
    team_q = select(TeamMembership.holder_id, TeamMembership.valid_from, TeamMembership.team_id)
    team_q = team_q.where(TeamMembership.game_id == game_id).order_by(TeamMembership.id)
    if holder_ids is not None:
        age_q = age_q.where(one_of(session, Player.holder_id, holder_ids))
        team_q = team_q.where(one_of(session, TeamMembership.holder_id, holder_ids))
    conn = await session.connection()  # Core rows: no ORM loading for plain columns
    ages = {row.holder_id: row.age_band for row in await conn.execute(age_q)}
    periods: dict[int, list[tuple[datetime | None, int | None]]] = {}
    for row in await conn.execute(team_q):
        periods.setdefault(row.holder_id, []).append((row.valid_from, row.team_id))
    return ages, periods


async def card_validity(
    session: AsyncSession, game_id: int
) -> dict[int, tuple[datetime | None, datetime | None]]:
    """``{card_id: (valid_from, valid_until)}`` for the game's cards with a validity limit."""
    rows = await session.execute(
        select(Card.id, Card.valid_from, Card.valid_until).where(
            Card.game_id == game_id, (Card.valid_from.is_not(None)) | Card.valid_until.is_not(None)
        )
    )
    return {r.id: (r.valid_from, r.valid_until) for r in rows}


# A tap as scoring reads it; every reader below returns rows indexable in this order.
TAP_TUPLE = (
    Tap.id,
    Tap.holder_id,
    Tap.source_key,
    Tap.checkpoint_id,
    Tap.card_id,
    Tap.tapped_at,
    Tap.outcome,
    Tap.points,
    Tap.distance_m,
    Tap.multiplier,
    Tap.campaign_id,
    Tap.team_id,
    Tap.local_date,
)
# TAP_TUPLE and the card's validity limits: what the incremental read (tap_rows) returns.
TAP_COLUMNS = (
    *TAP_TUPLE,
    Card.valid_from.label("card_valid_from"),
    Card.valid_until.label("card_valid_until"),
)


async def tap_rows(
    session: AsyncSession,
    game_id: int,
    holder_ids: Sequence[int],
    since: datetime | None = None,
) -> list[Any]:
    """The taps of these holders (rows in :data:`TAP_TUPLE` order, then card validity);
    with ``since``, only those tapped at or after it."""
    query = (
        select(*TAP_COLUMNS)
        .join(Card, Card.id == Tap.card_id)
        .where(Tap.game_id == game_id, one_of(session, Tap.holder_id, holder_ids))
    )
    if since is not None:
        query = query.where(Tap.tapped_at >= since)
    # Core rows through the session's connection: the ORM's result loading cost a round
    # of 2,000 holders about a tenth of its Python time.
    return list((await (await session.connection()).execute(query)).all())


# Ids per statement elsewhere than PostgreSQL (an IN list; SQLite allows 32,766 variables).
_IDS_PER_READ = 10_000


async def taps_by_id(session: AsyncSession, game_id: int, tap_ids: Sequence[int]) -> list[Any]:
    """These taps of the game, as :func:`tap_rows` returns them."""
    if not tap_ids:
        return []
    conn = await session.connection()
    ids = sorted(tap_ids)
    step = len(ids) if is_postgres(session) else _IDS_PER_READ
    rows: list[Any] = []
    for i in range(0, len(ids), step):
        query = (
            select(*TAP_COLUMNS)
            .join(Card, Card.id == Tap.card_id)
            .where(Tap.game_id == game_id, one_of(session, Tap.id, ids[i : i + step]))
        )
        rows.extend((await conn.execute(query)).all())
    return rows


async def tap_count(session: AsyncSession, game_id: int) -> int:
    return int(await session.scalar(select(func.count()).where(Tap.game_id == game_id)) or 0)
