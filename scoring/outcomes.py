"""SQL writing taps' outcomes (the ledger): bulk updates of changed taps by id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from game.models import (
    Tap,
)
from kernel.db import is_postgres

OUTCOME_FIELDS = (
    "id",
    "outcome",
    "points",
    "distance_m",
    "multiplier",
    "campaign_id",
    "team_id",
    "local_date",
)


async def write_outcomes(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Bulk update of changed taps by primary key (one executemany)."""
    if rows:
        await session.execute(update(Tap).execution_options(synchronize_session=False), rows)


_PG_WRITE_OUTCOMES = text(
    """
    UPDATE taps AS t
    SET outcome = v.outcome, points = v.points, distance_m = v.distance_m,
        multiplier = v.multiplier, campaign_id = v.campaign_id, team_id = v.team_id,
        local_date = v.local_date
    FROM unnest(CAST(:ids AS bigint[]), CAST(:outcomes AS varchar[]),
                CAST(:points AS integer[]), CAST(:distances AS float8[]),
                CAST(:multipliers AS numeric[]), CAST(:campaign_ids AS integer[]),
                CAST(:team_ids AS integer[]), CAST(:local_dates AS date[]))
         AS v(id, outcome, points, distance_m, multiplier, campaign_id, team_id, local_date)
    WHERE t.game_id = :game_id AND t.id = v.id
    """
)


async def write_changed_outcomes(
    session: AsyncSession, game_id: int, changes: Sequence[Sequence[Any]]
) -> None:
    """Writes outcome tuples (:data:`OUTCOME_FIELDS` order) of one game's taps: one
    set-based UPDATE on PostgreSQL, an executemany elsewhere."""
    if not changes:
        return
    if not is_postgres(session):
        await write_outcomes(session, [dict(zip(OUTCOME_FIELDS, c, strict=True)) for c in changes])
        return
    columns = list(zip(*changes, strict=True))
    await session.execute(
        _PG_WRITE_OUTCOMES,
        {
            "game_id": game_id,
            "ids": list(columns[0]),
            "outcomes": list(columns[1]),
            "points": list(columns[2]),
            "distances": list(columns[3]),
            "multipliers": list(columns[4]),
            "campaign_ids": list(columns[5]),
            "team_ids": list(columns[6]),
            "local_dates": list(columns[7]),
        },
    )
