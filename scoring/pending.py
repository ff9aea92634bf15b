"""SQL of the scorer's queue (pending taps) and of the scoring tables' statistics.

Taps wait in ``pending_taps`` until a scoring round takes them (:func:`take_pending`, only
with the round's commit); :func:`analyze_outgrown` keeps the planner's statistics of the
tables a round reads by key fresh as they grow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from checkpoints.models import PendingTap
from game.models import (
    Game,
    Tap,
)
from kernel.db import is_postgres, one_of


async def pending_games(session: AsyncSession) -> list[int]:
    """Games with taps waiting for their outcome: one index probe per game, however long
    the queue (a DISTINCT over a backlog of 200,000 taps took 19 ms, every second)."""
    queued = select(PendingTap.game_id).where(PendingTap.game_id == Game.id).exists()
    rows = await session.scalars(select(Game.id).where(queued).order_by(Game.id))
    return list(rows.all())


async def pending_holders(
    session: AsyncSession, game_id: int, limit: int, partition: int = 0, partitions: int = 1
) -> list[int]:
    """Up to ``limit`` holders with queued taps, those waiting longest first; with
    ``partitions`` > 1 only those with ``holder_id % partitions == partition``."""
    query = select(PendingTap.holder_id).where(PendingTap.game_id == game_id)
    if partitions > 1:
        query = query.where(PendingTap.holder_id % partitions == partition)
    rows = await session.scalars(
        query.group_by(PendingTap.holder_id).order_by(func.min(PendingTap.tap_id)).limit(limit)
    )
    return list(rows.all())


async def pending_summary(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many taps wait for their outcome, and when the first of them (the lowest tap
    id: the earliest stored, near enough) was received."""
    row = (await session.execute(select(func.count(), func.min(PendingTap.tap_id)))).one()
    count, first = int(row[0] or 0), row[1]
    if first is None:
        return count, None
    return count, await session.scalar(select(Tap.received_at).where(Tap.id == first))


# Tables a scoring round reads by key. A round plans its look-ups (a few hundred holders or
# taps) with their statistics; see :func:`analyze_outgrown`.
SCORING_TABLES = (
    "taps",
    "pending_taps",
    "holder_totals",
    "holder_days",
    "holder_team_totals",
    "team_totals",
    "holder_scoring_states",
)


# pg_advisory_xact_lock(namespace, 0): held by the process analyzing the scoring tables.
ANALYZE_LOCK_NAMESPACE = 0x7A5E


async def analyze_outgrown(session: AsyncSession, *, min_rows: int = 1_000) -> list[str]:
    """ANALYZEs the scoring tables that changed by more than half their size (and at least
    ``min_rows`` rows) since their statistics were taken, or never had any (PostgreSQL;
    returns their names).

    Autovacuum analyzes a table only after a minute's nap and 10 % of its rows changed. On
    a new installation's first game, tables grow from nothing faster than that, and the
    planner, knowing nothing of them, took ``game_id = …`` for a handful of rows: a round's
    outcome update then hashed every tap of the game to update 300 of them (18 ms instead
    of 4 ms with statistics) and its tap read filtered every tap of the game (20-40 ms).
    Once a table is large the threshold is rarely crossed again, and autovacuum carries on.
    """
    if not is_postgres(session):
        return []
    rows = await session.execute(
        text(
            "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(:names)"
            " AND schemaname = current_schema() AND n_mod_since_analyze >= :min_rows"
            " AND (n_mod_since_analyze > n_live_tup / 2"
            "      OR coalesce(last_analyze, last_autoanalyze) IS NULL)"
            " ORDER BY relname"
        ),
        {"names": list(SCORING_TABLES), "min_rows": min_rows},
    )
    stale = [r[0] for r in rows]
    if not stale:
        return []
    # Every process's sweep may find the same tables: one analyzes, the others skip.
    if not await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:ns, 0)"), {"ns": ANALYZE_LOCK_NAMESPACE}
    ):
        return []
    # Names come from the fixed list above, never from input.
    await session.execute(text(f"ANALYZE {', '.join(stale)}"))
    return stale


@dataclass(frozen=True, slots=True)
class Taken:
    """What a round took off the queue: each holder's earliest new tap time (``firsts``)
    and the ids of the taps taken (``tap_ids``), per holder."""

    firsts: dict[int, datetime]
    tap_ids: dict[int, list[int]]


async def take_pending(session: AsyncSession, game_id: int, holder_ids: Sequence[int]) -> Taken:
    """Takes these holders' taps off the queue; returns, for each holder that had any, the
    earliest tap time and the taps' ids. The rows go only with the caller's commit, and only
    those committed before this statement: a tap committed later stays queued for the next
    round even if the caller's later reads see (and score) it, which costs that round an
    idempotent re-derive and loses nothing."""
    rows = await (await session.connection()).execute(
        delete(PendingTap)
        .where(PendingTap.game_id == game_id, one_of(session, PendingTap.holder_id, holder_ids))
        .returning(PendingTap.holder_id, PendingTap.tapped_at, PendingTap.tap_id)
    )
    firsts: dict[int, datetime] = {}
    tap_ids: dict[int, list[int]] = {}
    for holder_id, tapped_at, tap_id in rows:
        first = firsts.get(holder_id)
        if first is None or tapped_at < first:
            firsts[holder_id] = tapped_at
        tap_ids.setdefault(holder_id, []).append(tap_id)
    return Taken(firsts, tap_ids)


async def clear_pending(session: AsyncSession, game_id: int) -> None:
    """Empties a game's queue before a whole-game re-score (whose reads come after)."""
    await session.execute(
        delete(PendingTap)
        .where(PendingTap.game_id == game_id)
        .execution_options(synchronize_session=False)
    )
