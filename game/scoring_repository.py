"""SQL for scoring: the inputs of the engine, and writing outcomes and totals back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from checkpoints.models import Tap
from game.models import (
    Campaign,
    Checkpoint,
    Game,
    HolderDay,
    HolderTeamTotal,
    HolderTotal,
    TeamTotal,
)
from people.models import Card, Holder, Player, TeamMembership


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def lock_holders(session: AsyncSession, holder_ids: Iterable[int]) -> None:
    """Serialises scoring per holder on PostgreSQL: row locks taken in id order.

    Two uploads touching the same holder queue here; the second then reads the first's
    committed taps and outcomes. SQLite has one writer at a time anyway.
    """
    ids = sorted(set(holder_ids))
    if ids and is_postgres(session):
        await session.execute(
            select(Holder.id).where(Holder.id.in_(ids)).order_by(Holder.id).with_for_update()
        )


async def game_row(session: AsyncSession, game_id: int) -> Game:
    game = await session.get(Game, game_id)
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
    team_q = team_q.where(TeamMembership.game_id == game_id)
    if holder_ids is not None:
        age_q = age_q.where(Player.holder_id.in_(holder_ids))
        team_q = team_q.where(TeamMembership.holder_id.in_(holder_ids))
    ages = {row.holder_id: row.age_band for row in await session.execute(age_q)}
    periods: dict[int, list[tuple[datetime | None, int | None]]] = {}
    for row in await session.execute(team_q):
        periods.setdefault(row.holder_id, []).append((row.valid_from, row.team_id))
    return ages, periods


TAP_COLUMNS = (
    Tap.id,
    Tap.holder_id,
    Tap.source_key,
    Tap.checkpoint_id,
    Tap.tapped_at,
    Tap.outcome,
    Tap.points,
    Tap.distance_m,
    Tap.multiplier,
    Tap.campaign_id,
    Tap.team_id,
    Tap.local_date,
    Card.valid_from.label("card_valid_from"),
    Card.valid_until.label("card_valid_until"),
)


async def tap_rows(session: AsyncSession, game_id: int, holder_ids: Sequence[int]) -> list[Any]:
    query = (
        select(*TAP_COLUMNS)
        .join(Card, Card.id == Tap.card_id)
        .where(Tap.game_id == game_id, Tap.holder_id.in_(holder_ids))
    )
    return list((await session.execute(query)).all())


async def stream_tap_rows(session: AsyncSession, game_id: int, chunk: int = 20_000) -> Any:
    """All of a game's taps, grouped by holder, in bounded memory."""
    query = (
        select(*TAP_COLUMNS)
        .join(Card, Card.id == Tap.card_id)
        .where(Tap.game_id == game_id)
        .order_by(Tap.holder_id)
        .execution_options(yield_per=chunk)
    )
    return await session.stream(query)


async def write_outcomes(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Bulk update of changed taps by primary key (one executemany)."""
    if rows:
        await session.execute(update(Tap).execution_options(synchronize_session=False), rows)


def _upsert(session: AsyncSession, table: Table) -> Any:
    return (pg_insert if is_postgres(session) else sqlite_insert)(table)


async def add_to(
    session: AsyncSession,
    table: Any,
    keys: Sequence[str],
    rows: Mapping[tuple[Any, ...], Mapping[str, int | float]],
) -> None:
    """Adds deltas to total rows, creating them at zero first (INSERT … ON CONFLICT)."""
    if not rows:
        return
    values = [dict(zip(keys, key, strict=True)) | dict(delta) for key, delta in rows.items()]
    columns = list(next(iter(rows.values())).keys())
    stmt = _upsert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={c: table.c[c] + stmt.excluded[c] for c in columns},
    )
    await session.execute(stmt, values)


async def holder_team_counts(
    session: AsyncSession, game_id: int, pairs: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], int]:
    pairs = list(pairs)
    if not pairs:
        return {}
    holder_ids = sorted({h for h, _ in pairs})
    rows = await session.execute(
        select(
            HolderTeamTotal.holder_id, HolderTeamTotal.team_id, HolderTeamTotal.counted_taps
        ).where(HolderTeamTotal.game_id == game_id, HolderTeamTotal.holder_id.in_(holder_ids))
    )
    return {(r.holder_id, r.team_id): r.counted_taps for r in rows}


TOTAL_TABLES: tuple[Any, ...] = (HolderTotal, HolderTeamTotal, TeamTotal, HolderDay)


async def rebuild_totals(session: AsyncSession, game_id: int) -> None:
    """Recomputes every stored total of a game from its ledger (the taps' outcomes)."""
    for model in TOTAL_TABLES:
        await session.execute(delete(model).where(model.game_id == game_id))
    leg = func.sum(func.cast(Tap.outcome == "leg", _int())) + func.sum(
        func.cast(Tap.outcome == "capped", _int())
    )
    counted = func.sum(func.cast(Tap.outcome != "out_of_game", _int()))
    await session.execute(
        insert(HolderTotal).from_select(
            ["game_id", "holder_id", "taps", "counted_taps", "legs", "points", "distance_m"],
            select(
                Tap.game_id,
                Tap.holder_id,
                func.count(),
                counted,
                leg,
                func.sum(Tap.points),
                func.sum(Tap.distance_m),
            )
            .where(Tap.game_id == game_id)
            .group_by(Tap.game_id, Tap.holder_id),
        )
    )
    await session.execute(
        insert(HolderDay).from_select(
            [
                "game_id",
                "holder_id",
                "local_date",
                "taps",
                "counted_taps",
                "legs",
                "points",
                "distance_m",
            ],
            select(
                Tap.game_id,
                Tap.holder_id,
                Tap.local_date,
                func.count(),
                counted,
                leg,
                func.sum(Tap.points),
                func.sum(Tap.distance_m),
            )
            .where(Tap.game_id == game_id, Tap.local_date.is_not(None))
            .group_by(Tap.game_id, Tap.holder_id, Tap.local_date),
        )
    )
    await session.execute(
        insert(HolderTeamTotal).from_select(
            ["game_id", "holder_id", "team_id", "counted_taps", "legs", "points", "distance_m"],
            select(
                Tap.game_id,
                Tap.holder_id,
                Tap.team_id,
                counted,
                leg,
                func.sum(Tap.points),
                func.sum(Tap.distance_m),
            )
            .where(Tap.game_id == game_id, Tap.team_id.is_not(None))
            .group_by(Tap.game_id, Tap.holder_id, Tap.team_id),
        )
    )
    active = func.sum(func.cast(HolderTeamTotal.counted_taps > 0, _int()))
    await session.execute(
        insert(TeamTotal).from_select(
            ["game_id", "team_id", "legs", "points", "distance_m", "active_members"],
            select(
                HolderTeamTotal.game_id,
                HolderTeamTotal.team_id,
                func.sum(HolderTeamTotal.legs),
                func.sum(HolderTeamTotal.points),
                func.sum(HolderTeamTotal.distance_m),
                active,
            )
            .where(HolderTeamTotal.game_id == game_id)
            .group_by(HolderTeamTotal.game_id, HolderTeamTotal.team_id),
        )
    )


def _int() -> Any:
    from sqlalchemy import Integer

    return Integer()


async def ledger_sums(session: AsyncSession, game_id: int) -> dict[str, Any]:
    """Totals computed from the ledger, to compare with the stored ones."""
    holder = {
        r.holder_id: (int(r.points or 0), round(float(r.distance or 0), 3))
        for r in await session.execute(
            select(
                Tap.holder_id,
                func.sum(Tap.points).label("points"),
                func.sum(Tap.distance_m).label("distance"),
            )
            .where(Tap.game_id == game_id)
            .group_by(Tap.holder_id)
        )
    }
    team = {
        r.team_id: int(r.points or 0)
        for r in await session.execute(
            select(Tap.team_id, func.sum(Tap.points).label("points"))
            .where(Tap.game_id == game_id, Tap.team_id.is_not(None))
            .group_by(Tap.team_id)
        )
    }
    return {"holders": holder, "teams": team}


async def stored_sums(session: AsyncSession, game_id: int) -> dict[str, Any]:
    holder = {
        r.holder_id: (r.points, round(r.distance_m, 3))
        for r in await session.execute(
            select(HolderTotal.holder_id, HolderTotal.points, HolderTotal.distance_m).where(
                HolderTotal.game_id == game_id
            )
        )
    }
    team = {
        r.team_id: r.points
        for r in await session.execute(
            select(TeamTotal.team_id, TeamTotal.points).where(TeamTotal.game_id == game_id)
        )
    }
    return {"holders": holder, "teams": team}


def as_decimal(value: Decimal | None) -> Decimal:
    return Decimal(1) if value is None else Decimal(value)


def keep_date(value: date | None) -> date | None:
    return value
