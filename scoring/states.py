"""SQL of the holders' running scoring states (``scoring.models.HolderScoringState``):
reading them for a round, writing them set-based, dropping them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.db import is_postgres, one_of
from scoring.models import HolderScoringState

# A state as a round reads and writes it, in this order.
STATE_FIELDS = (
    "holder_id",
    "scoring_version",
    "last_tapped_at",
    "anchor_code",
    "anchor_at",
    "day",
    "day_points",
    "previous_day",
    "previous_day_points",
)
_COLUMNS = tuple(getattr(HolderScoringState, f) for f in STATE_FIELDS)


async def read_states(
    session: AsyncSession, game_id: int, holder_ids: Sequence[int]
) -> dict[int, tuple[Any, ...]]:
    """``{holder_id: row in STATE_FIELDS order}`` for those of the holders that have one."""
    if not holder_ids:
        return {}
    rows = await (await session.connection()).execute(
        select(*_COLUMNS).where(
            HolderScoringState.game_id == game_id,
            one_of(session, HolderScoringState.holder_id, holder_ids),
        )
    )
    return {r[0]: tuple(r) for r in rows}


_PG_WRITE = text(
    """
    INSERT INTO holder_scoring_states (game_id, holder_id, scoring_version, last_tapped_at,
        anchor_code, anchor_at, day, day_points, previous_day, previous_day_points)
    SELECT :game_id, v.* FROM unnest(CAST(:holder_id AS integer[]),
        CAST(:scoring_version AS integer[]), CAST(:last_tapped_at AS timestamptz[]),
        CAST(:anchor_code AS varchar[]), CAST(:anchor_at AS timestamptz[]),
        CAST(:day AS date[]), CAST(:day_points AS integer[]), CAST(:previous_day AS date[]),
        CAST(:previous_day_points AS integer[]))
        AS v(holder_id, scoring_version, last_tapped_at, anchor_code, anchor_at, day,
             day_points, previous_day, previous_day_points)
    ORDER BY v.holder_id
    ON CONFLICT (game_id, holder_id) DO UPDATE SET scoring_version = excluded.scoring_version,
        last_tapped_at = excluded.last_tapped_at, anchor_code = excluded.anchor_code,
        anchor_at = excluded.anchor_at, day = excluded.day, day_points = excluded.day_points,
        previous_day = excluded.previous_day, previous_day_points = excluded.previous_day_points
    """
)


async def write_states(session: AsyncSession, game_id: int, rows: Sequence[Sequence[Any]]) -> None:
    """Inserts or replaces states (rows in :data:`STATE_FIELDS` order): one set-based
    statement on PostgreSQL, an executemany elsewhere. The caller holds the holders' locks."""
    if not rows:
        return
    if is_postgres(session):
        columns = list(zip(*rows, strict=True))
        await session.execute(
            _PG_WRITE,
            {"game_id": game_id} | {f: list(c) for f, c in zip(STATE_FIELDS, columns, strict=True)},
        )
        return
    stmt = sqlite_insert(HolderScoringState)
    stmt = stmt.on_conflict_do_update(
        index_elements=["game_id", "holder_id"],
        set_={f: stmt.excluded[f] for f in STATE_FIELDS[1:]},
    )
    await session.execute(
        stmt, [{"game_id": game_id} | dict(zip(STATE_FIELDS, r, strict=True)) for r in rows]
    )


async def drop_states(session: AsyncSession, game_id: int, holder_ids: Sequence[int]) -> None:
    """Forgets the states of these holders (they have no scored taps any more)."""
    if holder_ids:
        await session.execute(
            delete(HolderScoringState)
            .where(
                HolderScoringState.game_id == game_id,
                one_of(session, HolderScoringState.holder_id, holder_ids),
            )
            .execution_options(synchronize_session=False)
        )
